"""Money: ISO 4217 precision, no silent rounding, whole amounts as JSON integers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_lengo import jsonutil
from saleor_lengo.money import Money, MoneyError, minor_units, read_amount


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("GNF", 0), ("XOF", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("gnf", 0), ("KWD", 3), ("TND", 3)],
)
def test_each_currency_has_its_iso_4217_precision(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits


@pytest.mark.parametrize("amount", ["176500.5", "0.1", "1000.01"])
@pytest.mark.parametrize("currency", ["GNF", "XOF"])
def test_a_fractional_gnf_or_xof_amount_is_refused_never_rounded(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="more decimals than the currency allows"):
        Money.parse(Decimal(amount), currency)
    assert not Money(Decimal(amount), currency).fits_precision()


def test_a_whole_amount_with_a_zero_fraction_fits_gnf() -> None:
    money = Money.parse(Decimal("176500.0"), "GNF")
    assert money.amount == Decimal(176500)
    assert money.fits_precision()


def test_usd_keeps_cents_and_refuses_a_third_decimal() -> None:
    assert Money.parse(Decimal("22.38"), "USD").to_lengo() == Decimal("22.38")
    with pytest.raises(MoneyError):
        Money.parse(Decimal("22.385"), "USD")


def test_a_whole_amount_goes_to_lengo_as_an_integer() -> None:
    value = Money.parse(Decimal("176500.0"), "GNF").to_lengo()
    assert value == 176500 and type(value) is int
    assert jsonutil.dumps({"amount": value}) == '{"amount":176500}'


def test_jsonutil_writes_an_integral_decimal_as_a_json_integer() -> None:
    assert jsonutil.dumps(Decimal("176500.0")) == "176500"
    assert jsonutil.dumps(Decimal("176500")) == "176500"
    assert jsonutil.dumps(Decimal("22.38")) == "22.38"
    assert jsonutil.dumps(Decimal("0.0")) == "0"


def test_jsonutil_reads_numbers_as_exact_decimals() -> None:
    assert jsonutil.loads('{"amount": 22.38}') == {"amount": Decimal("22.38")}
    assert str(jsonutil.loads("176500.0")) == "176500.0"


def test_money_refuses_floats_negatives_and_bad_currencies() -> None:
    with pytest.raises(MoneyError):
        read_amount(22.38)
    with pytest.raises(MoneyError):
        Money.parse(Decimal("-1"), "GNF")
    with pytest.raises(MoneyError):
        Money.parse(Decimal("1"), "GN")
    with pytest.raises(MoneyError):
        read_amount("NaN")


def test_money_prints_with_its_currency_precision() -> None:
    assert str(Money(Decimal("176500.0"), "GNF")) == "176500 GNF"
    assert str(Money(Decimal("22.3"), "USD")) == "22.30 USD"
    assert Money(Decimal("22.3"), "USD").to_saleor() == "22.30"


@pytest.mark.parametrize("amount", ["1E+30", "99999999999999999999999999999", "1E+999999"])
def test_an_amount_with_more_digits_than_decimal_keeps_is_refused_not_an_error(amount: str) -> None:
    """Found by the hostile App API run (recordManualRefund): quantizing it raised InvalidOperation, a 500."""
    with pytest.raises(MoneyError, match="too large"):
        Money.parse(amount, "GNF")
