"""A counter of one database's committed changes to installations and configurations.

Code that writes them calls `Tx.settings_changed()`; the read cache
(`saleor_lengo.read_cache`) drops every copy read under an older value. The
counter belongs to the `Database`, so two databases in one process (tests, a
CLI beside the server) never invalidate each other's copies.
"""

from __future__ import annotations


class Generation:
    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value = 0

    def current(self) -> int:
        return self._value

    def bump(self) -> None:
        self._value += 1
