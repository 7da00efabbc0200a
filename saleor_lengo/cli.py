"""`saleor-lengo` — the command line. Each command lives in `saleor_lengo/commands/`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from saleor_lengo import __version__
from saleor_lengo.settings import SettingsError

# Imported lazily by name so `saleor-lengo serve` does not pay for every command's imports.
COMMANDS = [
    "serve",
    "migrate",
    "configure",
    "configurations",
    "rotate_secrets",
    "relay",
    "outbox",
    "simulator",
    "reconcile",
    "payments",
    "payouts",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saleor-lengo", description="Saleor payment app for Lengo Pay.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"saleor_lengo.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except SettingsError as exc:
        print(f"saleor-lengo: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
