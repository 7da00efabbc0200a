"""Prometheus metrics: counters kept by each process, gauges read from the database at scrape time.

Counters and histograms (the hooks below, one call from each place that knows):

- `saleor_lengo_webhooks_total{event,result}`: Saleor sync webhooks answered;
  `result` is the sync answer's `result` (`CHARGE_ACTION_REQUIRED`, …), or the
  HTTP status class (`2xx` for an answer without one, `4xx`, `5xx`) otherwise;
- `saleor_lengo_lengo_calls_total{operation,outcome}` and
  `saleor_lengo_lengo_call_seconds{operation}`: every HTTP attempt at Lengo
  made for a payment (`LengoCall`, through the audit recorder);
- `saleor_lengo_callbacks_total{outcome}`: Lengo callbacks `received`
  (recorded, answered 200), `rejected` (malformed, another pay_id, too large:
  4xx), `unknown_token` (404), `failed` (not recorded: 5xx), then what their
  confirmation found: `confirmed`, `unconfirmed`, `ignored`, `mismatch`, `abandoned`.

Gauges come from the database when `/metrics` is scraped, so they are right
whichever process answers, and after a restart: outbox depth, age of the
oldest pending event (per Saleor installation), whether a relay finds that
Saleor unreachable (its circuit is open), dead letters, open payments by state. Every replica
reports the same figures: aggregate them with `max`, not `sum`.

Several processes (`serve --workers N`): `serve` gives them a fresh
`PROMETHEUS_MULTIPROC_DIR` (`multiprocess_directory`) before they start;
prometheus-client then keeps each process's counters in files there, and a
scrape adds them all up (`MultiProcessCollector`), whichever worker answers.

prometheus-client takes about 0.1 s to import: it is imported on the first
hook or scrape, never at start-up. And a metric must never break a request:
each hook swallows (and logs once) its own failure.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from saleor_lengo.db.engine import Database
from saleor_lengo.db.schema import outbox, payments, payouts
from saleor_lengo.logs import get_logger
from saleor_lengo.outbox.backlog import InstallationFigures, installation_figures
from saleor_lengo.payments.model import OPEN_STATES, State
from saleor_lengo.payouts.model import PayoutState

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client also honours the old lower-case spelling.
_MULTIPROC_ENVS = (MULTIPROC_ENV, MULTIPROC_ENV.lower())
# Lengo's create may take up to 12 s before the app gives up; status calls 5 s.
LENGO_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# A scrape must answer even when the database does not (Prometheus' default scrape timeout is 10 s).
DATABASE_TIMEOUT = 5.0
# The classic text format (what `generate_latest` writes): every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PENDING, DEAD = "pending", "dead"  # outbox states (see outbox.relay)

Endpoint = Callable[[Any], Awaitable[Any]]


class _Metrics:
    """The process's metric objects, created once (on first use)."""

    def __init__(self) -> None:
        import prometheus_client
        from prometheus_client import Counter, Histogram

        # `_created` series double the output and are absent in multiprocess mode anyway.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.webhooks = Counter(
            "saleor_lengo_webhooks",
            "Saleor sync webhooks answered, by event and result (the sync result, or the HTTP status class).",
            ["event", "result"],
        )
        self.lengo_calls = Counter(
            "saleor_lengo_lengo_calls",
            "HTTP attempts at Lengo Pay, by operation and outcome (ok, refused, unavailable, …).",
            ["operation", "outcome"],
        )
        self.lengo_seconds = Histogram(
            "saleor_lengo_lengo_call_seconds",
            "Duration of HTTP attempts at Lengo Pay, by operation.",
            ["operation"],
            buckets=LENGO_BUCKETS,
        )
        self.callbacks = Counter(
            "saleor_lengo_callbacks",
            "Lengo callbacks: received, rejected, unknown_token, failed, then their confirmation's outcome.",
            ["outcome"],
        )
        self.payouts = Counter(
            "saleor_lengo_payouts",
            "Refund payouts reaching a state that ends or pauses them: paid_out, failed, needs_review, resolved_….",
            ["outcome"],
        )


_metrics: _Metrics | None = None
_init_lock = threading.Lock()  # the scrape renders in a worker thread
_reported: set[str] = set()


def multiprocess_dir() -> str | None:
    return next((os.environ[name] for name in _MULTIPROC_ENVS if os.environ.get(name)), None)


def _get() -> _Metrics:
    global _metrics
    if _metrics is None:
        with _init_lock:
            if _metrics is None:
                _metrics = _Metrics()
                if multiprocess_dir():
                    # What prometheus-client asks of a worker that exits: drop
                    # its live gauges (it keeps its counters, which stay counted).
                    atexit.register(_mark_dead, os.getpid())
    return _metrics


def _mark_dead(pid: int) -> None:
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
    except Exception:  # the directory may be gone already: nothing to do at exit
        pass


def _failed(hook: str) -> None:
    if hook not in _reported:  # once per hook: a broken metric must not flood the logs either
        _reported.add(hook)
        log.warning("metrics_hook_failed", hook=hook, exc_info=True)


# --- Hooks -------------------------------------------------------------------


def counted(endpoint: Endpoint, record: Callable[[Any], None]) -> Endpoint:
    """`endpoint`, telling `record` each answer (None when it raised: the app answers 500)."""

    async def counted_endpoint(request: Any) -> Any:
        response = None
        try:
            response = await endpoint(request)
            return response
        finally:
            record(response)  # the hooks never raise

    return counted_endpoint


def webhook_answered(event: str, response: Any) -> None:
    """One Saleor webhook's answer (`None`: it raised, and was answered 500)."""
    try:
        _get().webhooks.labels(event, _webhook_result(response)).inc()
    except Exception:
        _failed("webhook")


def _webhook_result(response: Any) -> str:
    status = getattr(response, "status_code", 500)
    if 200 <= status < 300:
        body = getattr(response, "body", b"")
        # Only the top-level `result` counts; the check spares a parse for answers without one.
        if isinstance(body, bytes) and body[:1] == b"{" and b'"result"' in body:
            result = json.loads(body).get("result")
            if isinstance(result, str) and 0 < len(result) <= 64:
                return result
    return f"{status // 100}xx"


def lengo_call(call: Any) -> None:
    """One HTTP attempt at Lengo (a `lengo.client.LengoCall`)."""
    try:
        m = _get()
        m.lengo_calls.labels(call.operation, call.outcome).inc()
        m.lengo_seconds.labels(call.operation).observe(call.duration_ms / 1000)
    except Exception:
        _failed("lengo_call")


def callback_answered(response: Any) -> None:
    """The callback route's answer (`None`: it raised, and was answered 500)."""
    status = getattr(response, "status_code", 500)
    if 200 <= status < 300:
        outcome = "received"
    elif status == 404:
        outcome = "unknown_token"
    elif 400 <= status < 500:
        outcome = "rejected"
    else:
        outcome = "failed"
    callback_outcome(outcome)


def callback_outcome(outcome: str) -> None:
    """A callback's fate: received by the route, or what its confirmation with Lengo found."""
    try:
        _get().callbacks.labels(outcome).inc()
    except Exception:
        _failed("callback")


def payout_outcome(outcome: str) -> None:
    """A refund payout moved to `outcome` (a payout state)."""
    try:
        _get().payouts.labels(outcome[:32]).inc()
    except Exception:
        _failed("payout")


# --- Scrape ------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseFigures:
    outbox_pending: int
    outbox_dead: int
    open_payments: dict[str, int]
    needs_review: int = 0
    installations: tuple[InstallationFigures, ...] = ()
    payouts_needs_review: int = 0


async def read_database(db: Database, now: float) -> DatabaseFigures | None:
    """The gauges' values, or None when the database does not answer in time."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), db.read() as conn:
            rows = await conn.execute(
                select(outbox.c.state, func.count())
                .where(outbox.c.state.in_((PENDING, DEAD)))
                .group_by(outbox.c.state)
            )
            by_state = {state: int(n) for state, n in rows.all()}
            open_rows = await conn.execute(
                select(payments.c.state, func.count())
                .where(payments.c.state.in_([s.value for s in OPEN_STATES]))
                .group_by(payments.c.state)
            )
            open_payments = {s.value: 0 for s in sorted(OPEN_STATES)}
            open_payments.update({state: int(n) for state, n in open_rows.all()})
            needs_review = (
                await conn.execute(
                    select(func.count()).select_from(payments).where(payments.c.state == State.NEEDS_REVIEW.value)
                )
            ).scalar_one()
            per_installation = await installation_figures(conn, now)
            payouts_needs_review = (
                await conn.execute(
                    select(func.count()).select_from(payouts).where(payouts.c.state == PayoutState.NEEDS_REVIEW.value)
                )
            ).scalar_one()
    except (SQLAlchemyError, OSError, TimeoutError):
        log.warning("metrics_database_unavailable", exc_info=True)
        return None
    return DatabaseFigures(
        outbox_pending=by_state.get(PENDING, 0),
        outbox_dead=by_state.get(DEAD, 0),
        open_payments=open_payments,
        needs_review=int(needs_review),
        installations=per_installation,
        payouts_needs_review=int(payouts_needs_review),
    )


class _DatabaseCollector:
    def __init__(self, figures: DatabaseFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        f = self.figures
        yield GaugeMetricFamily(
            "saleor_lengo_database_up", "1 when the database answered this scrape; the gauges below need it.",
            value=0 if f is None else 1,
        )
        if f is None:
            return
        yield GaugeMetricFamily(
            "saleor_lengo_outbox_pending_events", "Outbox events not yet delivered to Saleor (still retried).",
            value=f.outbox_pending,
        )
        oldest = GaugeMetricFamily(
            "saleor_lengo_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox event not yet delivered to this Saleor (0 when none).",
            labels=["installation"],
        )
        circuit = GaugeMetricFamily(
            "saleor_lengo_saleor_circuit_open",
            "1 while a relay finds this Saleor unreachable and only probes it; 0 when it answers.",
            labels=["installation"],
        )
        for inst in f.installations:
            oldest.add_metric([inst.saleor_api_url], inst.oldest_pending_age_seconds)
            circuit.add_metric([inst.saleor_api_url], 1 if inst.circuit_open else 0)
        yield oldest
        yield circuit
        yield GaugeMetricFamily(
            "saleor_lengo_outbox_dead_letters", "Outbox events given up on (`saleor-lengo outbox list --dead`).",
            value=f.outbox_dead,
        )
        open_payments = GaugeMetricFamily(
            "saleor_lengo_open_payments", "Payments not yet paid, failed, canceled or expired, by state.",
            labels=["state"],
        )
        for state, n in f.open_payments.items():
            open_payments.add_metric([state], n)
        yield open_payments
        yield GaugeMetricFamily(
            "saleor_lengo_payments_needs_review",
            "Payments Lengo reported paid with an amount that cannot be right, held until staff resolve them "
            "(`saleor-lengo payments list --status needs_review`).",
            value=f.needs_review,
        )
        held = GaugeMetricFamily(
            "saleor_lengo_payouts",
            "Refund payouts by state; needs_review: the app cannot tell whether money left "
            "(`saleor-lengo payouts list --status needs_review`).",
            labels=["state"],
        )
        held.add_metric(["needs_review"], f.payouts_needs_review)
        yield held


class _Forward:
    """The process's own registry inside the scrape's (single-process mode)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Any]:
        return self.registry.collect()  # type: ignore[no-any-return]


def render(figures: DatabaseFigures | None) -> tuple[bytes, str]:
    """The exposition text and its content type. Blocking (it reads the multiprocess files)."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    _get()  # registered (and `_created` turned off) before the first collection
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(_DatabaseCollector(figures))
    return generate_latest(registry), CONTENT_TYPE


# --- Several processes -------------------------------------------------------


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[str | None]:
    """For `serve`: a fresh multiprocess directory while N > 1 workers run, removed afterwards.

    Set in the parent before any worker starts (they inherit it, and
    prometheus-client chooses its mode from it at import). An inherited
    value is set aside: files left by an earlier run would be counted again.
    """
    inherited = {name: os.environ.pop(name) for name in _MULTIPROC_ENVS if name in os.environ}
    path = tempfile.mkdtemp(prefix="saleor-lengo-metrics-") if workers > 1 else None
    if path is not None:
        os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        os.environ.update(inherited)
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
