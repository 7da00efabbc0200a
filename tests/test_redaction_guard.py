"""The redaction guard itself (tests/redaction_guard.py): it knows the secrets, sees every line, fails a leak.

Any order: each test's own log lines are checked by the guard's autouse
fixture, and the session's at its end; nothing here needs to run last.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests import redaction_guard

ROOT = Path(__file__).resolve().parent.parent


def test_the_guard_knows_the_suites_secrets() -> None:
    from tests.conftest import LENGO_KEY, TEST_SECRET_KEY

    assert {TEST_SECRET_KEY, LENGO_KEY, redaction_guard.PAYER_PHONE} <= redaction_guard.SECRETS


def test_the_guard_sees_every_structlog_and_stdlib_line() -> None:
    import logging

    import structlog

    start = redaction_guard.mark()
    structlog.get_logger("guard").info("guard_probe_structlog", detail="seen")
    logging.getLogger("guard").warning("guard_probe_stdlib")
    seen = "\n".join(redaction_guard.lines_since(start))
    assert "guard_probe_structlog" in seen
    assert "guard_probe_stdlib" in seen


@pytest.mark.slow
def test_a_test_that_logs_a_secret_fails_and_the_tests_around_it_do_not(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a session of its own, in either order: the leaking test errors, named; its neighbours pass."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.redaction_guard"]')
    pytester.makepyfile(test_leak=textwrap.dedent("""
        import logging

        from tests.fakes.known_secrets import remember

        def test_before():
            pass

        def test_leaks():
            remember("probe-secret-5b9e2c71d04a")
            logging.getLogger("probe").warning("a line with %s in it", "probe-secret-5b9e2c71d04a")

        def test_after():
            pass
    """))
    for order in (["test_leak.py"], ["test_leak.py::test_after", "test_leak.py::test_leaks", "test_leak.py::test_before"]):
        # no:logging: pytest's own "captured log" report would print the line in clear.
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:logging", *order)
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaks*", "secrets in the logs:", "pro…4a (25 chars) in:*"])
        assert "probe-secret-5b9e2c71d04a" not in result.stdout.str()  # the guard's report masks it
