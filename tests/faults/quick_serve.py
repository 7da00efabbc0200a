"""`saleor-lengo serve` with the waits a crash leaves behind cut to seconds: for the fault tests.

A serve that is SIGKILLed leaves claims on the callbacks it was confirming
(`CLAIM_SECONDS`, 2 minutes) and leases on the outbox rows it was sending
(`LEASE_SECONDS`, 5 minutes); the serve that follows honours them, and only
then takes the rows over. That is what the fault tests check, and they
cannot wait minutes for it: this runs the real `serve` — same code, same
processes — with those durations and the loops' polls shortened.

    python -m tests.faults.quick_serve serve --port 8000
"""

from __future__ import annotations

import sys

from saleor_lengo import cli
from saleor_lengo.callbacks import confirm, receive
from saleor_lengo.outbox import relay

CLAIM_SECONDS = 3.0
LEASE_SECONDS = 3.0
POLL_SECONDS = 0.5


def shorten() -> None:
    # `confirm` imported CLAIM_SECONDS by name: both copies are set.
    receive.CLAIM_SECONDS = CLAIM_SECONDS
    setattr(confirm, "CLAIM_SECONDS", CLAIM_SECONDS)  # noqa: B010 - not part of confirm's public names
    relay.LEASE_SECONDS = LEASE_SECONDS
    confirm.POLL_SECONDS = relay.POLL_SECONDS = POLL_SECONDS


if __name__ == "__main__":
    shorten()
    sys.exit(cli.main(sys.argv[1:]))
