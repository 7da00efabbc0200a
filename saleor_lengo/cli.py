"""`saleor-lengo` — the command line. Each command lives in `saleor_lengo/commands/`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from saleor_lengo import __version__
from saleor_lengo.settings import SettingsError

# Each command's module, imported only when that command runs (or for the
# full help): `saleor-lengo serve` does not load the CLI's reporting code,
# and `payments show` does not load the web server.
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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of the command `only` (its module name) alone."""
    parser = argparse.ArgumentParser(prog="saleor-lengo", description="Saleor payment app for Lengo Pay.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else [only]:
        importlib.import_module(f"saleor_lengo.commands.{name}").add_parser(sub)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command's module when the first argument names one (`rotate-secrets` is `rotate_secrets`)."""
    first = argv[0].replace("-", "_") if argv else ""
    return first if first in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_of(arguments))
    args = parser.parse_args(arguments)
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
