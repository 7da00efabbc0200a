"""Money: Decimal amounts with ISO 4217 precision, converted in one place.

Saleor sends amounts as JSON floats (`176500.0`); bodies are parsed with
`parse_float=Decimal`, so no binary float ever holds an amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# ISO 4217 minor units for currencies that differ from the usual 2.
# (GNF and XOF have none; a few have 3.)
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


class MoneyError(ValueError):
    """An amount that cannot be represented in its currency."""


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_decimal(value: object) -> Decimal:
    """Accept Decimal, int or numeric str; refuse float (it is never exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("amount must not be a binary float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise MoneyError(f"not a number: {value!r}") from None
    else:
        raise MoneyError(f"not an amount: {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError("amount must be finite")
    return result


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def parse(cls, amount: object, currency: str) -> Money:
        """Parse and check that the amount fits the currency's precision exactly."""
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise MoneyError(f"not an ISO 4217 currency code: {currency!r}")
        value = to_decimal(amount)
        if value < 0:
            raise MoneyError("amount must not be negative")
        money = cls(value, currency.upper())
        try:
            fits = money.fits_precision()
        except InvalidOperation:  # more digits than Decimal keeps (28): no payment is that large
            raise MoneyError(f"amount too large: {value}") from None
        if not fits:
            raise MoneyError(
                f"{value} {money.currency} has more decimals than the currency allows ({minor_units(money.currency)})"
            )
        return money

    def fits_precision(self) -> bool:
        return self.amount == self.quantized()

    def quantized(self) -> Decimal:
        return self.amount.quantize(Decimal(1).scaleb(-minor_units(self.currency)))

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
        return f"{format(self.quantized(), 'f')} {self.currency}"


