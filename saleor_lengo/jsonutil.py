"""JSON in and out without binary floats touching money.

Incoming bodies parse floats as Decimal and integers as int, but only when
the number's text is short (`MAX_NUMBER_CHARS`): a longer one becomes an
`OversizedNumber`, which no code takes for a number, so a hostile numeral
is never converted (Python refuses ints past 4,300 digits as an error, and
a Decimal with a huge exponent is cheap to build but not to print). Outgoing Decimals are written as
JSON numbers with exactly their decimal digits: integral values as integers
(`176500`, never `176500.0`), others through `float` only when its shortest
repr is the very same decimal, which is checked, so the text is exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class JsonError(ValueError):
    """Malformed JSON, JSON nested deeper than allowed, or a string holding a NUL character."""


MAX_DEPTH = 32
# Longer than any number a payment needs; money.read_amount bounds amounts further.
MAX_NUMBER_CHARS = 64


@dataclass(frozen=True)
class OversizedNumber:
    """A JSON number whose text was too long to convert: only its length is kept."""

    length: int

    def __str__(self) -> str:
        return f"<a number of {self.length} characters>"


def _float(token: str) -> Decimal | OversizedNumber:
    if len(token) > MAX_NUMBER_CHARS:
        return OversizedNumber(len(token))
    try:
        return Decimal(token)
    except ArithmeticError:  # an exponent past Decimal's own limits (InvalidOperation)
        return OversizedNumber(len(token))


def _int(token: str) -> int | OversizedNumber:
    return OversizedNumber(len(token)) if len(token) > MAX_NUMBER_CHARS else int(token)


def _problem(value: Any, depth: int = 0) -> str | None:
    if depth > MAX_DEPTH:
        return "JSON nested too deeply"
    if isinstance(value, str):
        # Valid JSON, but no text column can store it (PostgreSQL refuses NUL):
        # refused here, as the sender's mistake, rather than failing at the insert.
        return "NUL character in a JSON string" if "\x00" in value else None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
        return next((p for v in items if (p := _problem(v, depth + 1)) is not None), None)
    if isinstance(value, list):
        return next((p for v in value if (p := _problem(v, depth + 1)) is not None), None)
    return None


def loads(raw: bytes | str) -> Any:
    try:
        value = json.loads(raw, parse_float=_float, parse_int=_int, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise JsonError("malformed JSON") from exc
    if _may_have_problem(raw):
        problem = _problem(value)
        if problem:
            raise JsonError(problem)
    return value


def _may_have_problem(raw: bytes | str) -> bool:
    """False when the text alone rules out both problems: no walk of the parsed value needed.

    JSON cannot hold a raw NUL in a string (json.loads refuses control
    characters), only the escape `\\u0000`; and it cannot nest deeper than it
    has brackets. Either test may say "maybe" wrongly (brackets inside strings),
    never "no" wrongly.
    """
    if isinstance(raw, bytes):
        if not json.detect_encoding(raw).startswith("utf-8"):
            return True  # UTF-16/32 (json.loads accepts them): these byte tests do not apply
        text = raw
    else:
        text = raw.encode("utf-8", "surrogatepass")
    return b"\\u0000" in text or text.count(b"{") + text.count(b"[") > MAX_DEPTH


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not valid JSON")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > MAX_NUMBER_CHARS or len(value.as_tuple().digits) > MAX_NUMBER_CHARS:
            # int() or format() of it could build a string of any length: never written.
            raise ValueError("a number too large to write as JSON")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value.normalize():
            # Too many digits for an exact float repr: a string keeps it exact.
            return format(value, "f")
        return as_float
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")



def _convert(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _default(value)
    if isinstance(value, OversizedNumber):
        return str(value)
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_convert(value), separators=(",", ":"), ensure_ascii=False)
