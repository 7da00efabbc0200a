"""Money: Decimal amounts with ISO 4217 precision, read and converted in one place.

Every amount from outside — Lengo's answers and callbacks, Saleor's
webhooks, the app API, the command line — goes through `read_amount` (any
sign) or `parse_amount` (for a currency). They bound the text, the digits
and the exponent *before* any Decimal arithmetic, quantize or formatting:
`1e999999999` is a short text whose `format(…, "f")` is a billion digits,
and a quantize of `1e30` raises. Nothing is ever rounded: an amount with more
decimals than its currency holds is refused.

Saleor sends amounts as JSON floats (`176500.0`); bodies are parsed by
`jsonutil`, which turns a JSON number into a Decimal only when its text is
short (else a `jsonutil.OversizedNumber`), so no binary float ever holds an
amount and no huge numeral is ever converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from saleor_lengo.jsonutil import OversizedNumber

# ISO 4217 minor units for currencies that differ from the usual 2.
# (GNF and XOF have none; a few have 3.)
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

# The bounds every amount from outside is held to, checked on its text or
# its digit tuple, never by computing with it.
MAX_AMOUNT_CHARS = 40  # the text of an amount ("176500.0", "-4.8e4")
MAX_WHOLE_DIGITS = 15  # below 10**15: more than any payment, far below Decimal's 28-digit precision
MAX_DECIMALS = max(_MINOR_UNITS.values())  # 3: no currency holds more
MAX_EXPONENT_DIGITS = 4  # an exponent written with more digits is out of range whatever it says
_TOO_LARGE = f"too large (at most {MAX_WHOLE_DIGITS} digits before the decimal point)"
# A plain ASCII decimal numeral. Decimal() alone would also take "NaN",
# "Infinity", "1_000", spaces and non-ASCII digits.
_NUMERAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?)(\d+))?", re.ASCII)


class MoneyError(ValueError):
    """An amount that cannot be represented in its currency."""


class Problem(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"  # too long, too large, negative, or zero where a payment is meant
    TOO_PRECISE = "too_precise"  # a fraction the currency cannot hold


class AmountError(MoneyError):
    """An amount refused by the parser; `problem` says which kind, the message why (short, safe to show)."""

    def __init__(self, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


@dataclass(frozen=True)
class Unholdable:
    """An amount from outside that the app cannot hold: carried as its refusal, never as a number."""

    problem: Problem
    reason: str

    @classmethod
    def of(cls, error: AmountError) -> Unholdable:
        return cls(error.problem, error.reason)

    def __str__(self) -> str:
        return f"unusable amount ({self.reason})"


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def read_amount(value: object) -> Decimal:
    """An amount from outside as an exact Decimal within the bounds; AmountError otherwise.

    Accepts a Decimal, an int or a numeric str (a JSON number arrives as one
    of the first two); refuses floats (never exact) and anything else. The
    sign and the currency are `parse_amount`'s business; every currency's
    precision (at most MAX_DECIMALS) is checked here already.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise AmountError(Problem.NOT_A_NUMBER, "not an exact number")
    if isinstance(value, OversizedNumber):
        raise AmountError(Problem.OUT_OF_RANGE, f"a number of {value.length} characters")
    if isinstance(value, str):
        return _bounded(Decimal(_checked_numeral(value)))
    if isinstance(value, int):
        # bit_length is O(1): no conversion of a huge int before it is refused.
        if value.bit_length() > 64:
            raise AmountError(Problem.OUT_OF_RANGE, _TOO_LARGE)
        return _bounded(Decimal(value))
    if isinstance(value, Decimal):
        return _bounded(value)
    raise AmountError(Problem.NOT_A_NUMBER, "not a number")


def parse_amount(value: object, currency: str, *, positive: bool = True) -> Decimal:
    """`read_amount`, then: not negative, above zero when `positive`, and no fraction `currency` cannot hold."""
    amount = read_amount(value)
    if amount.is_signed() and amount != 0:
        raise AmountError(Problem.OUT_OF_RANGE, "negative")
    if positive and amount == 0:
        raise AmountError(Problem.OUT_OF_RANGE, "zero")
    digits = minor_units(currency)
    if decimals(amount) > digits:
        rule = "must be whole" if digits == 0 else f"have at most {digits} decimals"
        raise AmountError(Problem.TOO_PRECISE, f"amounts in {currency.upper()} {rule}")
    return amount


def decimals(amount: Decimal) -> int:
    """How many decimals `amount` really has (trailing zeros do not count), from its digit tuple alone."""
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite: the caller's value passed `_bounded`
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):
        return 0  # zero
    return max(0, -(exponent + trailing))


def _checked_numeral(text: str) -> str:
    # Lengths first: the regex and Decimal() then only ever see a short text.
    text = text.strip()
    if len(text) > MAX_AMOUNT_CHARS:
        raise AmountError(Problem.OUT_OF_RANGE, f"longer than {MAX_AMOUNT_CHARS} characters")
    match = _NUMERAL.fullmatch(text)
    if match is None:
        raise AmountError(Problem.NOT_A_NUMBER, "not a number")
    exponent_sign, exponent = match.group(1), match.group(2)
    if exponent is not None and len(exponent.lstrip("0")) > MAX_EXPONENT_DIGITS:
        if exponent_sign == "-":
            raise AmountError(Problem.TOO_PRECISE, "more decimals than any currency holds")
        raise AmountError(Problem.OUT_OF_RANGE, _TOO_LARGE)
    return text


def _bounded(amount: Decimal) -> Decimal:
    """The Decimal itself once its digit tuple is within bounds (as_tuple and adjusted cost O(digits), no arithmetic)."""
    if not amount.is_finite():
        raise AmountError(Problem.NOT_A_NUMBER, "not a finite number")
    _sign, digits, exponent = amount.as_tuple()
    if len(digits) > MAX_AMOUNT_CHARS:
        raise AmountError(Problem.OUT_OF_RANGE, f"more than {MAX_AMOUNT_CHARS} digits")
    if not any(digits):
        # "0.0" stays as written; 0E+999999999 is the same zero, with a short text.
        assert isinstance(exponent, int)
        return amount if abs(exponent) <= MAX_AMOUNT_CHARS else Decimal(0)
    if amount.adjusted() >= MAX_WHOLE_DIGITS:
        raise AmountError(Problem.OUT_OF_RANGE, _TOO_LARGE)
    if decimals(amount) > MAX_DECIMALS:
        raise AmountError(Problem.TOO_PRECISE, "more decimals than any currency holds")
    return amount


@dataclass(frozen=True)
class Money:
    """An amount within the parser's bounds, in a currency; it may be too precise for it (see `fits_precision`)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        # Every Money can be compared, quantized and printed at no risk.
        if not self.amount.is_finite() or len(self.amount.as_tuple().digits) > MAX_AMOUNT_CHARS or (
            any(self.amount.as_tuple().digits) and not -MAX_AMOUNT_CHARS <= self.amount.adjusted() < MAX_WHOLE_DIGITS
        ):
            raise AmountError(Problem.OUT_OF_RANGE, "an amount beyond what the app holds")

    @classmethod
    def parse(cls, amount: object, currency: str) -> Money:
        """Parse and check that the amount fits the currency's precision exactly (zero allowed)."""
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise MoneyError(f"not an ISO 4217 currency code: {currency!r}")
        try:
            value = parse_amount(amount, currency, positive=False)
        except AmountError as exc:
            if exc.problem == Problem.TOO_PRECISE:
                raise AmountError(
                    exc.problem, f"{exc.reason}: more decimals than the currency allows ({minor_units(currency)})"
                ) from None
            raise
        return cls(value, currency.upper())

    def fits_precision(self) -> bool:
        return decimals(self.amount) <= minor_units(self.currency)

    def quantized(self) -> Decimal:
        """The amount with exactly the currency's decimals; only ever adds zeros (MoneyError if it would round)."""
        if not self.fits_precision():
            raise MoneyError(f"{format(self.amount, 'f')} {self.currency} has more decimals than the currency allows")
        return self.amount.quantize(Decimal(1).scaleb(-minor_units(self.currency)))

    def shown(self) -> Decimal:
        """In the currency's form when it fits (zeros added: 70000.0 GNF is 70000), else exactly as given, never rounded."""
        return self.quantized() if self.fits_precision() else self.amount

    def to_lengo(self) -> int | Decimal:
        """Lengo wants a JSON number; whole amounts go as integers (`176500`)."""
        q = self.quantized()
        if minor_units(self.currency) == 0:
            return int(q)
        return q

    def to_saleor(self) -> str:
        """Amounts to Saleor go as decimal strings, which its API accepts exactly."""
        return format(self.quantized(), "f")

    def __str__(self) -> str:
        # Exact: a too precise amount is shown as it is, never rounded.
        return f"{format(self.shown(), 'f')} {self.currency}"
