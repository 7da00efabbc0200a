"""The test suite's secrets, as the fakes mint them, for the redaction guard (`tests/redaction_guard.py`).

A module of its own, so the fakes can add to it without importing the
plugin (pytest must import a plugin first to rewrite its asserts).
"""

from __future__ import annotations

import threading

SECRETS: set[str] = set()
# Shorter strings are not tracked: they would match by chance.
MIN_SECRET_CHARS = 6
LOCK = threading.Lock()


def remember(*values: object) -> None:
    """Treat these strings as secrets for the rest of the session: the run fails if one is logged."""
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS:
            with LOCK:
                SECRETS.add(value)
