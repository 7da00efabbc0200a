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


# --- Cash-in (payouts from the merchant's balance) --------------------------

CASHIN_REQUEST_PATH: Final = "/api/v2/cashin/request"  # doc
CASHIN_STATUS_PATH: Final = "/api/v2/cashin/transaction"  # doc
CASHIN_HISTORY_PATH: Final = "/api/v1/cashin/all-transactions"  # doc

# `type_account` of a cash-in: where the money goes (doc).
ORANGE_MONEY_ACCOUNT: Final = "lp-om-gn"
MTN_MOMO_ACCOUNT: Final = "lp-momo-gn"
# Cash-ins are documented in GNF only.
CASHIN_CURRENCY: Final = "GNF"
# What a refused cash-in for a too-small balance says: undocumented (guess; the simulator answers it).
MESSAGE_INSUFFICIENT_BALANCE: Final = "Insufficient balance"

# The payment status's `gateway` spellings are not documented (API.md): the
# words each is recognised by, matched on the lowercased letters only.
_ORANGE_WORDS: Final = ("orange",)
_MOMO_WORDS: Final = ("mtn", "momo", "mobilemoney")


def payout_account_type(gateway: str | None) -> str | None:
    """The cash-in `type_account` for a payment made with `gateway`, or None: not payable out.

    Loose on purpose ("Orange Money", "ORANGE_MONEY", "orange-money" are one
    method), strict in what it accepts: a gateway naming both, or neither
    (cards, crypto, Kulu, Soutra Money, an unknown word), is refused.
    """
    if not gateway:
        return None
    letters = "".join(ch for ch in gateway.lower() if ch.isalpha())
    orange = any(word in letters for word in _ORANGE_WORDS)
    momo = any(word in letters for word in _MOMO_WORDS)
    if orange and not momo:
        return ORANGE_MONEY_ACCOUNT
    if momo and not orange:
        return MTN_MOMO_ACCOUNT
    return None


def payer_number(value: object) -> str | None:
    """A payer's mobile-money number as cash-in wants it (9 digits), or None when it is not one.

    The status answer's `account` was seen as a string; the cash-in doc shows a
    JSON number. An international form (224 + 9 digits) is brought back to
    the local one; anything else is not a number money can be sent to.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text.startswith("+"):
            text = text[1:]
    else:
        return None
    if not text.isascii() or not text.isdigit():
        return None
    if len(text) == 12 and text.startswith("224"):
        text = text[3:]
    return text if len(text) == 9 else None
