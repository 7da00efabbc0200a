"""Saleor's reference data is found through SALEOR_LENGO_REFERENCE_DIR; without it the suite still runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_lengo.saleor.documents import load
from tests import reference
from tests.fakes.saleor import FakeSaleor

ROOT = Path(__file__).resolve().parents[1]
# Files that read the reference data directly, and files whose fakes use it.
READERS = ["tests/saleor/test_recorded_requests.py", "tests/saleor/test_signature.py", "tests/saleor/test_documents.py"]
FAKE_USERS = ["tests/examples/test_storefront.py", "tests/handlers/test_transaction_refund_requested.py", "tests/saleor/test_batch.py"]


def test_the_reference_directory_is_the_setting_or_shared_beside_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(reference.ENV, raising=False)
    assert reference.reference_dir() == ROOT.parent / "shared"

    monkeypatch.setenv(reference.ENV, str(tmp_path))
    assert reference.reference_dir() == tmp_path


def _pytest(tmp_path: Path, reference_dir: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "PYTEST_ADDOPTS")}
    env[reference.ENV] = str(reference_dir)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", "-m", "not postgres", *files],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_without_reference_data_the_readers_skip_with_the_reason_and_the_rest_passes(tmp_path: Path) -> None:
    result = _pytest(tmp_path, tmp_path / "nowhere", *READERS, *FAKE_USERS)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.splitlines()[-1]  # no collection error
    assert f"{reference.SKIP_REASON} (looked in {tmp_path / 'nowhere' / 'saleor'})" in result.stdout  # the header, once
    reasons = set(re.findall(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", result.stdout, flags=re.M))
    assert reasons <= {reference.SKIP_REASON, "PostgreSQL tests skipped: set TEST_DATABASE_URL=postgresql://… to run them"}
    skipped_files = set(re.findall(r"^SKIPPED \[\d+\] ([^:]+):\d+: " + re.escape(reference.SKIP_REASON), result.stdout, flags=re.M))
    assert skipped_files >= set(READERS)
    assert re.search(r"\d+ passed", result.stdout)  # the fakes ran without it


@pytest.mark.slow
@reference.needs_reference
def test_with_reference_data_nothing_is_skipped_for_it(tmp_path: Path) -> None:
    result = _pytest(tmp_path, reference.SALEOR.parent, *READERS)

    assert result.returncode == 0, result.stdout[-3000:]
    assert reference.SKIP_REASON not in result.stdout
    assert f"reference data: {reference.SALEOR}" in result.stdout


async def _ask(fake: FakeSaleor, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.asgi()), base_url="http://saleor.test") as http:
        response = await http.post(
            "/graphql/", json={"query": load(document), "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("checked", [pytest.param(True, marks=reference.needs_reference), False], ids=["schema", "unchecked"])
async def test_the_fake_saleor_answers_the_apps_documents_with_or_without_saleors_schema(
    checked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reference, "AVAILABLE", checked)
    fake = FakeSaleor()
    fake.open_transaction("tx-1")
    report = {"id": "tx-1", "type": "CHARGE_SUCCESS", "amount": "1500", "pspReference": "psp-1", "message": "paid"}

    app = await _ask(fake, "queries/app-id.graphql", {}, fake.app_token)
    channels = await _ask(fake, "queries/channels.graphql", {}, fake.app_token)
    first = await _ask(fake, "mutations/transaction-event-report.graphql", report, fake.app_token)
    again = await _ask(fake, "mutations/transaction-event-report.graphql", report, fake.app_token)
    denied = await _ask(fake, "queries/app-id.graphql", {}, "not-the-token")

    assert app == {"data": {"app": {"id": fake.app_id}}}
    assert channels["data"]["channels"][1] == {"id": "Q2hhbm5lbDoy", "slug": "channel-gnf", "currencyCode": "GNF", "name": "Guinée"}
    assert first["data"]["transactionEventReport"] == {
        "alreadyProcessed": False, "transactionEvent": {"id": fake.events("tx-1")[0].id}, "errors": []}
    assert again["data"]["transactionEventReport"]["alreadyProcessed"] is True
    assert denied["data"] == {"app": None}
    assert denied["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
