"""A counter of this process's committed changes to installations and configurations.

Code that writes them registers `bump` with `Tx.after_commit`; the read cache
(`saleor_lengo.read_cache`) drops every copy read under an older value.
"""

from __future__ import annotations

_value = 0


def current() -> int:
    return _value


def bump() -> None:
    global _value
    _value += 1
