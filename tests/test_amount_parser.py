"""The one amount parser: bounded before any arithmetic or formatting, exact, never rounding.

Property tests over what each source can hand it: text (the command line,
the app API, form-encoded callbacks), JSON numbers as `jsonutil` decodes
them (Lengo's answers and callbacks, Saleor's webhooks), ints and Decimals.
Boundedness is asserted by structure, not by timing: the parser refuses a
long text before `Decimal()` sees it, and a Decimal with a huge exponent
without ever formatting, quantizing or converting it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_lengo import jsonutil, money
from saleor_lengo.money import (
    MAX_AMOUNT_CHARS,
    MAX_WHOLE_DIGITS,
    AmountError,
    Money,
    MoneyError,
    Problem,
    parse_amount,
    read_amount,
)

CURRENCIES = st.sampled_from(["GNF", "XOF", "USD", "EUR", "KWD", "JPY"])


def assert_bounded(value: Decimal) -> None:
    """What the parser promises about anything it lets through."""
    assert value.is_finite()
    assert len(value.as_tuple().digits) <= MAX_AMOUNT_CHARS
    assert value == 0 or value.adjusted() < MAX_WHOLE_DIGITS
    assert len(format(value, "f")) <= 2 * MAX_AMOUNT_CHARS
    assert money.decimals(value) <= money.MAX_DECIMALS


def read_or_refuse(value: object) -> Decimal | AmountError:
    try:
        result = read_amount(value)
    except AmountError as exc:
        assert exc.problem in set(Problem) and 0 < len(exc.reason) <= 100
        return exc
    assert_bounded(result)
    return result


# --- Properties over every source's form -------------------------------------------------


@given(st.text(max_size=300) | st.from_regex(r"\A[+-]?[0-9]{0,60}(\.[0-9]{0,60})?([eE][+-]?[0-9]{1,30})?\Z"))
def test_any_text_is_read_within_bounds_or_refused_with_a_reason(text: str) -> None:
    read_or_refuse(text)


@given(
    sign=st.sampled_from([0, 1]),
    digits=st.lists(st.integers(0, 9), min_size=1, max_size=80),
    exponent=st.integers(-(10**9), 10**9),
)
def test_any_decimal_a_json_decoder_could_build_is_read_within_bounds_or_refused(
    sign: int, digits: list[int], exponent: int
) -> None:
    read_or_refuse(Decimal((sign, tuple(digits), exponent)))


@given(st.integers(min_value=-(10**5000), max_value=10**5000) | st.integers(-(10**20), 10**20))
def test_any_int_is_read_within_bounds_or_refused(value: int) -> None:
    read_or_refuse(value)


@given(
    number=st.from_regex(r"\A-?(0|[1-9][0-9]{0,120})(\.[0-9]{1,120})?([eE][+-]?[0-9]{1,25})?\Z"),
)
def test_any_json_number_decodes_to_something_the_parser_bounds(number: str) -> None:
    # What Lengo's answers and callbacks and Saleor's webhooks go through.
    decoded = jsonutil.loads('{"amount": ' + number + "}")["amount"]
    assert isinstance(decoded, (int, Decimal, jsonutil.OversizedNumber))
    read_or_refuse(decoded)


@given(whole=st.integers(0, 10**MAX_WHOLE_DIGITS - 1), cents=st.integers(0, 99), currency=CURRENCIES)
def test_an_amount_the_currency_holds_is_read_exactly_whatever_its_form(whole: int, cents: int, currency: str) -> None:
    exact = Decimal(whole) if money.minor_units(currency) == 0 else Decimal(whole) + Decimal(cents) / 100
    for form in (format(exact, "f"), exact, jsonutil.loads(format(exact, "f"))):
        assert parse_amount(form, currency, positive=False) == exact


@given(whole=st.integers(0, 10**9), tenths=st.integers(1, 9), currency=st.sampled_from(["GNF", "XOF", "JPY"]))
def test_a_fraction_a_zero_decimal_currency_cannot_hold_is_refused_never_rounded(
    whole: int, tenths: int, currency: str
) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(f"{whole}.{tenths}", currency)
    assert refused.value.problem == Problem.TOO_PRECISE
    with pytest.raises(MoneyError):
        Money(Decimal(f"{whole}.{tenths}"), currency).to_saleor()


# --- Boundedness, by structure --------------------------------------------------------


class Untouchable(Decimal):
    """A Decimal that fails the test if anything formats, quantizes, rounds or converts it."""

    def _touched(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unbounded amount was computed with or formatted")

    __format__ = __str__ = __repr__ = __int__ = __float__ = _touched
    quantize = to_integral_value = normalize = __round__ = _touched  # type: ignore[assignment]


@pytest.mark.parametrize("text", ["1e999999999", "1E+999999999", "-1e999999999", "1e-999999999"])
def test_a_huge_exponent_is_refused_from_the_digit_tuple_alone(text: str) -> None:
    with pytest.raises(AmountError) as refused:
        read_amount(Untouchable(text))
    assert refused.value.problem in (Problem.OUT_OF_RANGE, Problem.TOO_PRECISE)


def test_a_long_text_is_refused_before_decimal_ever_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decimal(*args: Any) -> Decimal:
        raise AssertionError("Decimal() was given an unbounded text")

    monkeypatch.setattr(money, "Decimal", no_decimal)
    for text in ("9" * 5000, "1" + "0" * 100, "1e" + "9" * 30, "0." + "0" * 60 + "1"):
        with pytest.raises(AmountError) as refused:
            read_amount(text)
        assert refused.value.problem in (Problem.OUT_OF_RANGE, Problem.TOO_PRECISE)


def test_the_json_decoder_never_converts_a_long_numeral() -> None:
    five_thousand_digits = jsonutil.loads(b'{"amount": 1' + b"0" * 4999 + b"}")["amount"]
    long_fraction = jsonutil.loads(b"1." + b"1" * 500)
    assert five_thousand_digits == jsonutil.OversizedNumber(5000)
    assert long_fraction == jsonutil.OversizedNumber(502)
    with pytest.raises(AmountError, match="a number of 5000 characters"):
        read_amount(five_thousand_digits)


def test_an_exponent_past_decimals_own_limit_is_a_number_refused_not_a_crash() -> None:
    # Decimal("1e99999999999999999999") raises InvalidOperation, which is no ValueError.
    decoded = jsonutil.loads(b'{"amount": 1e99999999999999999999}')["amount"]
    assert isinstance(decoded, jsonutil.OversizedNumber)


def test_jsonutil_refuses_to_write_an_unbounded_decimal_instead_of_building_it() -> None:
    with pytest.raises(ValueError, match="too large"):
        jsonutil.dumps({"amount": Untouchable("1e999999999")})


# --- Sign, zero, precision ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("-48000", Problem.OUT_OF_RANGE),
        (Decimal(-1), Problem.OUT_OF_RANGE),
        (0, Problem.OUT_OF_RANGE),
        ("0.0", Problem.OUT_OF_RANGE),
        ("1.5", Problem.TOO_PRECISE),
        ("NaN", Problem.NOT_A_NUMBER),
        ("Infinity", Problem.NOT_A_NUMBER),
        ("1_000", Problem.NOT_A_NUMBER),
        ("١٢٣", Problem.NOT_A_NUMBER),
        (1.0, Problem.NOT_A_NUMBER),
        (True, Problem.NOT_A_NUMBER),
        ("1e15", Problem.OUT_OF_RANGE),
    ],
)
def test_what_is_no_positive_gnf_amount_is_refused_with_its_kind(value: object, problem: Problem) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(value, "GNF")
    assert refused.value.problem == problem


def test_money_never_rounds_what_goes_to_saleor_or_lengo() -> None:
    half = Money(Decimal("1.5"), "GNF")
    with pytest.raises(MoneyError):
        half.to_saleor()
    with pytest.raises(MoneyError):
        half.to_lengo()
    assert str(half) == "1.5 GNF"  # shown exactly, never as "2 GNF"
    assert Money(Decimal("22.3"), "USD").to_saleor() == "22.30"  # zeros added, nothing taken


# --- Every source's own entry point ------------------------------------------------------

# What a hostile sender can put where an amount goes, as JSON text.
AMOUNT_JSON = st.one_of(
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,80})(\.[0-9]{1,80})?([eE][+-]?[0-9]{1,25})?\Z"),
    st.just("1" + "0" * 5000),
    st.text(max_size=60).map(lambda t: jsonutil.dumps(t)),
    st.sampled_from(["null", "true", "{}", "[]", '"NaN"', '"1e999999999"', '" 12 "']),
)


def _bounded_or_none(value: object) -> None:
    if isinstance(value, Decimal):
        assert_bounded(value)


@given(amount=AMOUNT_JSON)
def test_lengo_status_answers_keep_a_bounded_amount_or_say_why_not(amount: str) -> None:
    from saleor_lengo.lengo.responses import read_status
    from saleor_lengo.money import Unholdable

    try:
        payload = jsonutil.loads('{"status": "SUCCESS", "pay_id": "eA==", "amount": ' + amount + "}")
    except jsonutil.JsonError:
        return  # refused as a whole (a NUL in a string): the client's protocol error
    status = read_status(payload, "eA==")

    assert status.amount is None or isinstance(status.amount, Unholdable) or read_or_refuse(status.amount) == status.amount
    _bounded_or_none(status.amount)


@given(amount=AMOUNT_JSON, form=st.booleans())
def test_callbacks_record_a_bounded_amount_or_are_refused_as_malformed(amount: str, form: bool) -> None:
    from urllib.parse import urlencode

    from saleor_lengo.callbacks import receive

    if form:
        raw = urlencode({"pay_id": "eA==", "status": "SUCCESS", "amount": amount}).encode()
    else:
        raw = ('{"pay_id": "eA==", "status": "SUCCESS", "amount": ' + amount + "}").encode()
    try:
        body = receive.parse(raw)
    except receive.MalformedCallback as exc:
        assert len(exc.reason) <= 100
        return
    _bounded_or_none(body.amount)


@given(amount=AMOUNT_JSON)
def test_saleor_payloads_read_a_bounded_amount_or_an_unholdable_one(amount: str) -> None:
    from saleor_lengo.money import Unholdable
    from saleor_lengo.saleor.payloads import Action, PayloadError

    try:
        action = Action.parse(jsonutil.loads('{"currency": "GNF", "amount": ' + amount + "}"))
    except (PayloadError, jsonutil.JsonError):  # a body jsonutil refuses is a 400 before any payload
        return
    assert isinstance(action.amount, (Decimal, Unholdable))
    _bounded_or_none(action.amount)


@given(text=st.text(max_size=80) | st.just("9" * 5000) | st.from_regex(r"\A[0-9]{1,30}(\.[0-9]{1,5})?\Z"))
def test_staff_amounts_from_the_cli_and_the_app_api_are_bounded_or_refused(text: str) -> None:
    from saleor_lengo.configurations import ConfigurationError, ConfigurationInput

    try:
        bounds = ConfigurationInput(name="n", website_id="w", license_key="k", min_amount=text).validated()
    except ConfigurationError:
        pass
    else:
        if bounds["min_amount"] is not None:
            assert_bounded(Decimal(bounds["min_amount"]))
    try:  # a manual refund (app API) and `payments resolve --charged` read their amount this way
        _bounded_or_none(Money.parse(text, "GNF").amount)
        _bounded_or_none(parse_amount(text, "USD"))
    except MoneyError:
        pass
