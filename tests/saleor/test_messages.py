"""The messages written into Saleor: every one in French too, amounts as the Dashboard's Intl writes them."""

from __future__ import annotations

import ast
import importlib
import json
import shutil
import string
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

import saleor_lengo
from saleor_lengo.configurations import LANGUAGES
from saleor_lengo.money import Money
from saleor_lengo.saleor import messages
from saleor_lengo.saleor.messages_fr import FRENCH
from saleor_lengo.words import Words, dump, english, load, words

PACKAGE = Path(saleor_lengo.__file__).parent


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def templates_in_code() -> dict[str, str]:
    """Every template passed to `words(...)` in the package, with where it is (a literal or a module constant)."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "words.py":
            continue  # where stored words are read back, whatever their template
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "words"):
                continue
            first = node.args[0] if node.args else None
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found[first.value] = where
            elif isinstance(first, ast.Name):
                # A module constant (built with f-strings from page_words): read it from the module.
                value = getattr(importlib.import_module(_module_name(path)), first.id)
                assert isinstance(value, str), where
                found[value] = where
            else:
                pytest.fail(f"{where}: words() takes a string literal or a module constant, so its French can be checked")
    return found


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_scan_finds_the_templates_it_must() -> None:
    found = templates_in_code()
    assert "Paid on Lengo Pay with {gateway}: {amount}." in found
    assert len(found) > 60, len(found)


def test_every_template_in_the_code_has_its_french_with_the_same_fields() -> None:
    found = templates_in_code()
    missing = {t: where for t, where in found.items() if t not in FRENCH}
    assert not missing, "\n".join(f"{where}: {t!r}" for t, where in missing.items())
    wrong = [t for t in found if fields(FRENCH[t]) != fields(t)]
    assert not wrong, wrong


def test_the_french_catalogue_holds_no_template_the_code_no_longer_uses() -> None:
    unused = set(FRENCH) - set(templates_in_code())
    assert not unused, sorted(unused)


def test_no_french_text_is_left_in_english() -> None:
    same = [t for t, fr in FRENCH.items() if t == fr and any(c.isalpha() for c in t)]
    assert not same, same


def test_the_languages_are_the_ones_a_configuration_may_have() -> None:
    assert messages.LANGUAGES == LANGUAGES == ("en", "fr")


@pytest.mark.parametrize(
    ("amount", "currency", "en", "fr"),
    [
        ("140000", "GNF", "GNF\u00a0140,000", "140\u202f000\u00a0GNF"),
        ("12.50", "USD", "$12.50", "12,50\u00a0$US"),
        ("1500", "XOF", "F\u202fCFA\u00a01,500", "1\u202f500\u00a0F\u202fCFA"),
        ("1.250", "KWD", "KWD\u00a01.250", "1,250\u00a0KWD"),
    ],
)
def test_amounts_are_written_as_the_dashboard_writes_them(amount: str, currency: str, en: str, fr: str) -> None:
    money = Money(Decimal(amount), currency)
    assert messages.amount(money, "en") == en
    assert messages.amount(money, "fr") == fr


def test_amounts_are_never_rounded() -> None:
    # An amount the currency cannot hold is shown as it is, never rounded to one it can.
    assert messages.amount(Money(Decimal("1500.5"), "GNF"), "en") == "GNF\u00a01,500.5"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (Debian: apt-get install -y nodejs); .ci/run installs it")
def test_amounts_match_the_intl_of_a_browser_engine() -> None:
    cases = [("140000", "GNF"), ("12.5", "USD"), ("1500", "XOF"), ("99.99", "EUR"), ("7", "JPY")]
    script = (
        "const cases = JSON.parse(process.argv[1]); const out = {};"
        "for (const loc of ['en', 'fr']) out[loc] = cases.map(([a, c]) =>"
        " new Intl.NumberFormat(loc, {style: 'currency', currency: c}).format(Number(a)));"
        "console.log(JSON.stringify(out));"
    )
    intl = json.loads(subprocess.run(["node", "-e", script, json.dumps(cases)], capture_output=True, text=True, check=True).stdout)
    for language in ("en", "fr"):
        ours = [messages.amount(Money(Money.parse(a, c).shown(), c), language) for a, c in cases]
        assert ours == intl[language], (language, ours, intl[language])


def test_a_message_is_said_in_french_with_its_values_and_nested_words() -> None:
    paid = words("Paid on Lengo Pay with {gateway}: {amount}.", gateway="Orange Money", amount=Money(Decimal("140000"), "GNF"))
    parts = (paid, words("TEST PAYMENT ({environment}): no real money.", environment="sandbox"), "Lengo: OK")
    assert messages.render(parts, "en") == "Paid on Lengo Pay with Orange Money: GNF\u00a0140,000. TEST PAYMENT (sandbox): no real money. Lengo: OK"
    assert messages.render(parts, "fr") == (
        "Payé sur Lengo Pay avec Orange Money\u00a0: 140\u202f000\u00a0GNF. PAIEMENT DE TEST (sandbox)\u00a0: pas d'argent réel. Lengo: OK"
    )
    # An unknown language is English.
    assert messages.render(parts, "de") == messages.render(parts, "en")


def test_words_survive_storage_and_anything_else_stored_is_refused() -> None:
    nested = words("Not canceled: {state}.", state=words("it is not paid yet"))
    parts = (nested, words("Paid on Lengo Pay: {amount}.", amount=Money(Decimal("12.50"), "USD")), "plain")
    assert load(dump(parts)) == parts
    assert english(load(dump(parts)) or ()) == "Not canceled: it is not paid yet. Paid on Lengo Pay: 12.50 USD. plain"
    for bad in ("", "{", "{}", "[1]", '[["{x}", {}]]', '[["a", {"x": 3}]]', '[["{a}", {"a": {"amount": "x", "currency": "GNF"}}]]'):
        assert load(bad) is None, bad


def test_a_template_missing_a_value_fails_where_it_is_written() -> None:
    with pytest.raises(KeyError):
        words("Paid {amount}.")
    assert isinstance(words("Paid {amount}.", amount="1"), Words)
