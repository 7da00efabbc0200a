"""benchmarks/phases.py, the checkout's phase timer, on one real checkout in process: it cannot rot unseen."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks import phases
from saleor_lengo.lengo import client as lengo_client
from saleor_lengo.services import Services
from saleor_lengo.web import app as web_app
from tests.conftest import configure_channel
from tests.fakes.payloads import new_transaction_id
from tests.fakes.saleor import FakeSaleor
from tests.helpers.sessions import initialize_session

# Benchmark tooling.
pytestmark = pytest.mark.slow


async def test_each_checkout_gets_its_stamps_in_order_and_the_report_names_every_phase(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, tmp_path: Path
) -> None:
    await configure_channel(services, installed)
    out = tmp_path / "phases.jsonl"
    recorder = phases.Recorder(out)
    originals = (web_app.RequestContext.__call__, lengo_client.LengoClient.create_payment, lengo_client.within)
    undo = recorder.install()
    try:
        answer = await initialize_session(client, installed, new_transaction_id())
        await client.get("/api/manifest")  # another route: not stamped
    finally:
        undo()
    assert (web_app.RequestContext.__call__, lengo_client.LengoClient.create_payment, lengo_client.within) == originals
    assert answer["result"] == "CHARGE_ACTION_REQUIRED"

    recorder.flush()
    rows = phases.read(out.read_text().splitlines())
    ((row,),) = rows.values()
    order = ["in", "c0", "h0", "h1", "c1", "out"]
    assert [row[k] for k in order] == sorted(row[k] for k in order)
    assert [row[k + "_cpu"] for k in order] == sorted(row[k + "_cpu"] for k in order)
    assert row["alone"] == 1.0

    lines = phases.report(rows, skip=0)
    assert lines[0].endswith(": 1 requests alone")
    assert [line.split("  wall")[0].strip() for line in lines[1:]] == [name for name, _, _ in phases.PHASES]
