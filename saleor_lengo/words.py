"""What the app tells people, kept as a template and its values, so it can be said in the reader's language.

The template is the English text with `{name}` fields (gettext's habit: the
English is the key, so the code reads as what it says). A value is either
plain text — a name, a reference, Lengo's own words, never translated — or
`Money`, which each language writes its own way, or `Words` said in the
same language (a state's description inside a sentence). A message is a sequence of
parts, each `Words` or plain `str`; `english()` is how it reads in English
with amounts as `Money` prints them (what the app keeps in its own tables),
and `dump`/`load` keep it as JSON so another layer can render it later in
another language (`saleor/messages.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from saleor_lengo.money import Money

@dataclass(frozen=True)
class Words:
    template: str
    values: tuple[tuple[str, Value], ...] = ()

    def __str__(self) -> str:
        return self.template.format_map({name: str(value) for name, value in self.values})

    def to_json(self) -> list[Any]:
        return [self.template, {name: _value_json(value) for name, value in self.values}]


Value = str | Money | Words


def _value_json(value: Value) -> Any:
    if isinstance(value, Money):
        return {"amount": format(value.amount, "f"), "currency": value.currency}
    if isinstance(value, Words):
        return {"words": value.to_json()}
    return value


def _value(raw: Any) -> Value:
    """One value as `_value_json` wrote it; ValueError for anything else."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping) and "words" in raw:
        return _words(raw["words"])
    if isinstance(raw, Mapping):
        return Money(Decimal(str(raw["amount"])), str(raw["currency"]))
    raise ValueError("not a value")


def _words(raw: Any) -> Words:
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and isinstance(raw[1], Mapping)):
        raise ValueError("not words")
    return words(raw[0], **{str(name): _value(value) for name, value in raw[1].items()})


def words(template: str, **values: Value) -> Words:
    """`Words` for `template`; every field must have its value (checked now, not when rendered)."""
    made = Words(template, tuple(sorted(values.items())))
    str(made)  # a missing value raises KeyError here, where the template was written
    return made


Text = Words | str
Message = tuple[Text, ...]


def english(parts: Iterable[Text | None]) -> str:
    return " ".join(str(p) for p in parts if p)


def dump(parts: Sequence[Text]) -> str:
    return json.dumps([p.to_json() if isinstance(p, Words) else p for p in parts], ensure_ascii=False)


def load(text: str | None) -> Message | None:
    """The parts `dump` wrote; None for nothing stored or anything that is not what `dump` writes."""
    if not text:
        return None
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, list):
        return None
    parts: list[Text] = []
    for item in raw:
        try:
            parts.append(item if isinstance(item, str) else _words(item))
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
            return None
    return tuple(parts)
