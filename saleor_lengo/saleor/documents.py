"""GraphQL documents, read from `graphql/` with the fragments they use.

Fragments shared by several documents live in `graphql/fragments/`; a document
gets exactly the fragments it spreads (transitively), since GraphQL rejects
unused ones.
"""

from __future__ import annotations

import re
from functools import cache

from saleor_lengo.resources import graphql_dir

_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")
_FRAGMENT = re.compile(r"fragment\s+([_A-Za-z][_0-9A-Za-z]*)\s+on\b")


@cache
def _fragments() -> dict[str, str]:
    found: dict[str, str] = {}
    folder = graphql_dir() / "fragments"
    for path in sorted(folder.glob("*.graphql")):
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in _FRAGMENT.finditer(text)]
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            found[name] = text[start:end].strip()
    return found


@cache
def load(relative: str) -> str:
    """`load("subscriptions/transaction-initialize-session.graphql")` with its fragments."""
    text = (graphql_dir() / relative).read_text().strip()
    defined = set(_FRAGMENT.findall(text))
    library = _fragments()
    needed: list[str] = []
    pending = [n for n in _SPREAD.findall(text) if n not in defined]
    while pending:
        name = pending.pop()
        if name in defined or name in needed or name not in library:
            continue
        needed.append(name)
        pending.extend(_SPREAD.findall(library[name]))
    return "\n\n".join([text, *(library[n] for n in sorted(needed))]) + "\n"
