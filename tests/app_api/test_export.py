"""graphql/app/schema.graphql is the app's live schema, exported; a stale copy fails here."""

from __future__ import annotations

import subprocess
import sys

import pytest

from saleor_lengo.app_api.schema import sdl
from saleor_lengo.resources import graphql_dir

EXPORTED = graphql_dir() / "app" / "schema.graphql"
FIX = "python -m saleor_lengo.app_api.export > graphql/app/schema.graphql"


def test_the_exported_schema_is_the_live_one() -> None:
    assert EXPORTED.exists(), f"missing {EXPORTED}: run `{FIX}`"
    assert EXPORTED.read_text() == sdl(), f"graphql/app/schema.graphql is stale: run `{FIX}`"


@pytest.mark.slow
def test_the_export_command_prints_the_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "saleor_lengo.app_api.export"], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == sdl()
    assert "type Query" in done.stdout and "type Mutation" in done.stdout


def test_the_schema_never_offers_the_clear_license_key() -> None:
    text = sdl()
    assert "licenseKeyEnc" not in text and "clientEnc" not in text
    assert '"""Masked: the last 4 characters only."""\n  licenseKey: String!' in text
