"""What the session webhooks answer when the app's database cannot be reached.

Saleor never retries a session webhook (PAYMENT-APPS.md §4): a 503 would
only become a failure event without a word of why. So these three answer
HTTP 200 with a well-formed result that says so, built from nothing the
request carries (it may not even be verified: the installation that holds
the keys is in the unreachable database) and promising nothing that was
not done. Action requests and callbacks still answer 503: Saleor and Lengo
retry those.

- Gateway initialize: `available: false`, `LENGO_UNAVAILABLE` — to the
  storefront, Lengo Pay is unavailable for a while; the code it already
  handles as "try again in a few minutes".
- Initialize: `CHARGE_FAILURE`, `LENGO_UNAVAILABLE`. No payment link
  reached the shopper, whatever was written before the outage: a payment
  row left in `creating` is failed by the reconciler, and a Lengo link
  that nobody ever saw cannot be paid.
- Process: `CHARGE_ACTION_REQUIRED`, not `CHARGE_FAILURE`. Nothing changed
  and the payment may well be paid: a failure would tell the shopper to
  pay again, and a paid payment is reported anyway once the database is
  back. Storefronts poll on `CHARGE_ACTION_REQUIRED`, which is what they
  should do. Without `amount`, `pspReference` or `actions`, Saleor keeps
  the requested amount and the transaction's reference and buttons.
"""

from __future__ import annotations

from saleor_lengo.flows import sync_responses
from saleor_lengo.payments.errors import ErrorCode, Refusal
from saleor_lengo.saleor.sync_answers import ChargeActionRequired, ChargeFailure, GatewayAvailability

_STAFF_INITIALIZE = (
    "The Lengo Pay app cannot reach its database: this payment was not started and no payment link was given "
    "to the shopper. The shopper may try again in a few minutes."
)
_STAFF_PROCESS = (
    "The Lengo Pay app cannot reach its database, so where this payment stands cannot be told right now; "
    "nothing was changed. It stays open: a payment made meanwhile is reported once the database is back."
)
_SHOPPER_PROCESS = "Your payment cannot be checked right now. If you paid, it will be recorded: check again in a moment."


def gateway_initialize() -> GatewayAvailability:
    return sync_responses.gateway_initialize(None, Refusal.of(ErrorCode.LENGO_UNAVAILABLE, _STAFF_INITIALIZE))


def initialize() -> ChargeFailure:
    refusal = Refusal.of(ErrorCode.LENGO_UNAVAILABLE, _STAFF_INITIALIZE)
    return ChargeFailure(
        message=refusal.staff_message, data={"error": refusal.error()}, actions=sync_responses.FINAL_ACTIONS
    )


def process() -> ChargeActionRequired:
    refusal = Refusal.of(ErrorCode.LENGO_UNAVAILABLE, _STAFF_PROCESS, _SHOPPER_PROCESS)
    return ChargeActionRequired(message=refusal.staff_message, data={"error": refusal.error()})
