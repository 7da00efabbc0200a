"""Where the tests and fakes find Saleor's reference data, read in this one place.

The reference data (Saleor's GraphQL schema, the JSON schemas of its webhook
responses, requests recorded from a real Saleor 3.23) is not part of the
repository. It is looked up in `SALEOR_LENGO_REFERENCE_DIR`, by default
`../shared` beside the repository root. A fresh clone has none: the tests
that read it are skipped with `SKIP_REASON`, and the fakes run without
checking anything against it (the run's header says so once).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ENV = "SALEOR_LENGO_REFERENCE_DIR"
SKIP_REASON = "reference data not found: set SALEOR_LENGO_REFERENCE_DIR"
REPOSITORY = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    configured = os.environ.get(ENV)
    return Path(configured).expanduser() if configured else REPOSITORY.parent / "shared"


SALEOR = reference_dir() / "saleor"
SCHEMA_PATH = SALEOR / "schema.graphql"
JSON_SCHEMAS = SALEOR / "json-schemas"
RECORDED = SALEOR / "recorded"

# All three or nothing: half a reference directory is a mistake worth a skip, not a pass.
AVAILABLE = SCHEMA_PATH.is_file() and JSON_SCHEMAS.is_dir() and RECORDED.is_dir()

needs_reference = pytest.mark.skipif(not AVAILABLE, reason=SKIP_REASON)


def status_line() -> str:
    """What the run checks against, said once in pytest's header."""
    if AVAILABLE:
        return f"reference data: {SALEOR}"
    return (
        f"{SKIP_REASON} (looked in {SALEOR}): the tests that read it are skipped, the fake Saleor "
        "validates nothing against Saleor's schema and answers are not checked against its JSON schemas"
    )


@cache
def json_schema(title: str) -> dict[str, Any]:
    """The JSON schema Saleor checks a sync webhook answer against (`TransactionInitializeSession`, …)."""
    loaded: dict[str, Any] = json.loads((JSON_SCHEMAS / f"{title}.json").read_text())
    return loaded


def check_answer(title: str, answer: Any, *, formats: bool = False) -> None:
    """Validates an answer against Saleor's JSON schema `title` when the reference data is there."""
    if not AVAILABLE:
        return
    import jsonschema

    checker = jsonschema.FormatChecker() if formats else None
    jsonschema.Draft202012Validator(json_schema(title), format_checker=checker).validate(answer)


def recorded(pattern: str) -> list[Path]:
    """Recorded requests whose file name matches `pattern`, sorted; none without the reference data."""
    return sorted(RECORDED.glob(pattern)) if AVAILABLE else []
