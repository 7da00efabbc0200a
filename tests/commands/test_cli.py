"""The command line loads only the command it runs; an unknown command still lists them all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from saleor_lengo import cli


def _modules_loaded_by(*argv: str) -> set[str]:
    code = (
        "import sys\nfrom saleor_lengo import cli\n"
        f"try:\n    cli.main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('saleor_lengo.commands.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(done.stdout.split())


def test_a_command_loads_its_own_module_and_no_other_command() -> None:
    loaded = _modules_loaded_by("payments", "--help")
    assert "saleor_lengo.commands.payments" in loaded
    assert "saleor_lengo.commands.serve" not in loaded and "saleor_lengo.commands.simulator" not in loaded


def test_the_full_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name.replace("_", "-") in shown, name


def test_an_unknown_command_is_refused_with_the_list_of_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["pay-everyone"])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'pay-everyone'" in error and "rotate-secrets" in error


def test_a_dashed_command_name_finds_its_module() -> None:
    assert cli.command_of(["rotate-secrets", "--help"]) == "rotate_secrets"
    assert cli.command_of(["--version"]) is None and cli.command_of([]) is None
