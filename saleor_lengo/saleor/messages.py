"""The app's words as Saleor shows them: in the configuration's language, amounts as the Dashboard writes them.

`render(parts, language)` says a message (saleor_lengo.words) in English or
French. Amounts go through Babel's CLDR currency formats, as the Dashboard's
`Intl.NumberFormat` does: "GNF 140,000" in English, "140 000 GNF" in French.
Nothing is rounded (`decimal_quantization=False`): the amounts are already
what the currency holds. Words from outside (plain `str` parts and values:
Lengo's texts, names, references) are never translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from babel.numbers import format_currency

from saleor_lengo.configurations import LANGUAGES, Configuration
from saleor_lengo.money import Money
from saleor_lengo.payments.outbox import clip
from saleor_lengo.saleor.messages_fr import FRENCH
from saleor_lengo.words import Text, Words

DEFAULT_LANGUAGE = "en"

# CLDR's currencySpacing, which ICU (and so the Dashboard's Intl) applies and Babel does not: a currency
# symbol that ends (or starts) with a letter is kept apart from the digits by a no-break space.
_SYMBOL_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)")
_DIGIT_THEN_SYMBOL = re.compile(r"(?<=\d)(?=[^\W\d_])")


def amount(money: Money, language: str) -> str:
    value = Decimal(money.amount)
    text = format_currency(value, money.currency, locale=_locale(language), decimal_quantization=False)
    return _DIGIT_THEN_SYMBOL.sub("\u00a0", _SYMBOL_THEN_DIGIT.sub("\u00a0", text))


def language_of(config: Configuration | None) -> str:
    """The language a configuration's messages are said in; English without one."""
    return config.language if config is not None else DEFAULT_LANGUAGE


def _locale(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def say(part: Words, language: str) -> str:
    template = FRENCH.get(part.template, part.template) if language == "fr" else part.template
    values = {name: _value(v, language) for name, v in part.values}
    return template.format_map(values)


def _value(value: Money | Words | str, language: str) -> str:
    if isinstance(value, Money):
        return amount(value, language)
    if isinstance(value, Words):
        return say(value, language)
    return value


def render(parts: Iterable[Text | None], language: str) -> str:
    """The message in `language` (English for any other), cut to what Saleor keeps."""
    return clip(" ".join(say(p, language) if isinstance(p, Words) else p for p in parts if p))
