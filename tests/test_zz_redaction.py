"""No test secret in any log line of the session (named to run last; see tests/redaction_guard.py).

The guard also checks at session end, after the e2e processes' log files
are written; this test makes a leak a visible, named failure in the report.
"""

from __future__ import annotations

from tests import redaction_guard


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


def test_no_secret_was_logged_by_any_test_so_far() -> None:
    leaked = redaction_guard.leaked_lines()
    assert not leaked, "secrets in the logs:\n" + "\n".join(leaked[:30])
