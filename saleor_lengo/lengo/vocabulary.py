"""Lengo Pay's vocabulary: hosts, paths, statuses and the texts it answers with.

Each constant says how sure we are of it, using API.md's marks: **doc** (the
official text), **seen** (observed by integrators) or **guess** (ours).
Nothing outside this module spells a Lengo string.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import quote

# The base URL is a setting per configuration; these are the known choices.
# "simulator" is `saleor-lengo simulator` on its default port.
ENVIRONMENTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "production": "https://portal.lengopay.com",  # doc
        "sandbox": "https://sandbox.lengopay.com",  # seen (an SDK's default)
        "simulator": "http://127.0.0.1:8001",
    }
)

# --- Paths -----------------------------------------------------------------

CREATE_PAYMENT_PATH: Final = "/api/v1/payments"  # doc
PAYMENT_STATUS_PATH: Final = "/api/v1/transaction/status"  # seen
BALANCE_PATH: Final = "/api/getbalance/{websiteid}"  # seen


def balance_path(website_id: str) -> str:
    # The site id goes into the path: encode everything, "/" included, so an
    # odd id can never point the request at another route.
    return BALANCE_PATH.format(websiteid=quote(website_id, safe=""))


# --- Payment statuses (status endpoint and callbacks) ---------------------

INITIATED: Final = "INITIATED"  # seen: link created, nothing paid yet
PENDING: Final = "PENDING"  # seen: the shopper is paying
SUCCESS: Final = "SUCCESS"  # doc
FAILED: Final = "FAILED"  # doc

KNOWN_STATUSES: Final = frozenset({INITIATED, PENDING, SUCCESS, FAILED})
FINAL_STATUSES: Final = frozenset({SUCCESS, FAILED})

Outcome = Literal["paid", "failed", "open"]


def classify(status: str) -> Outcome:
    """What a Lengo status means for the merchant.

    Anything not known to be final is "open": statuses such as CANCELLED or
    EXPIRED may exist but were never seen, and guessing "failed" could cancel
    a payment that later succeeds. The caller logs unknown values
    (`status not in KNOWN_STATUSES`).

    Case is ignored: the create answer says "Success" where statuses say
    "SUCCESS", and a case variant leaving an order stuck open would be worse
    than accepting it from the (authenticated) status endpoint.
    """
    normalized = status.strip().upper()
    if normalized == SUCCESS:
        return "paid"
    if normalized == FAILED:
        return "failed"
    return "open"


# --- Texts in Lengo's answers ----------------------------------------------

# `status` of a successful create or balance answer (doc, seen).
ANSWER_SUCCESS: Final = "Success"
# `status` of a 400 answer, with one of the messages below (seen).
ANSWER_ERROR: Final = "ERROR"
MESSAGE_MISSING_FIELDS: Final = "Missing body fields"  # seen
MESSAGE_UNSUPPORTED_AMOUNT: Final = "Unsupported amount"  # seen
MESSAGE_NOT_FOUND: Final = "Transaction not found"  # guess: status of an unknown pay_id
# The whole 401 body is `{"error": "Unauthorized !"}` (seen), space included.
UNAUTHORIZED_ERROR: Final = "Unauthorized !"

# `message` of a callback (doc: "Transaction Successful"; the failure text is seen).
CALLBACK_MESSAGE_SUCCESS: Final = "Transaction Successful"
CALLBACK_MESSAGE_FAILED: Final = "Transaction Failed"
# The callback's payer field: a 9-digit local phone number, personal data (doc, seen).
CALLBACK_CLIENT_FIELD: Final = "Client"

# One probe refused 100 GNF and accepted 1,000 GNF; the real floor is unknown.
MIN_GNF_AMOUNT: Final = 1000  # seen (bounds only)
