"""`saleor-lengo serve` with the loops' polls shortened: for the fault tests.

A serve that is SIGKILLed leaves leases on the callbacks it was confirming
and the outbox rows it was sending; the serve that follows finds their
holder dead at its first heartbeat and takes them over at once
(`db/leases.py`), with no shortening. What this shortens is how often the
loops look for work they were not woken for, so that the fault tests do
not wait for polls.

    python -m tests.faults.quick_serve serve --port 8000
"""

from __future__ import annotations

import sys

from saleor_lengo import cli
from saleor_lengo.callbacks import confirmation
from saleor_lengo.outbox import relay

POLL_SECONDS = 0.5


def shorten() -> None:
    confirmation.POLL_SECONDS = relay.POLL_SECONDS = POLL_SECONDS


if __name__ == "__main__":
    shorten()
    sys.exit(cli.main(sys.argv[1:]))
