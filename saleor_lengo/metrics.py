"""Prometheus counters kept by each process; the gauges are read from the database at scrape time (gauges.py).

Counters and histograms (the hooks of `Metrics`, one call from each place that knows):

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

One `Metrics` per app (`build_services`), with a registry of its own: apps
built side by side (tests) count apart and never register a metric twice.

Several processes (`serve --workers N`): `serve` gives them a fresh
`PROMETHEUS_MULTIPROC_DIR` (`multiprocess_directory`) before they start;
prometheus-client then keeps each process's counters in files there, and a
scrape adds them all up (`MultiProcessCollector`), whichever worker answers.

prometheus-client takes about 0.1 s to import: it is imported on the first
hook or scrape, never at start-up. And a metric must never break a request:
each hook swallows (and logs once) its own failure.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from saleor_lengo.logs import get_logger

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client also honours the old lower-case spelling.
_MULTIPROC_ENVS = (MULTIPROC_ENV, MULTIPROC_ENV.lower())
# Lengo's create may take up to 12 s before the app gives up; status calls 5 s.
LENGO_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# The classic text format (what `generate_latest` writes): every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Endpoint = Callable[[Any], Awaitable[Any]]


class _Series:
    """The metric objects, in a registry of their own (created on first use: see the module docstring)."""

    def __init__(self) -> None:
        import prometheus_client
        from prometheus_client import CollectorRegistry, Counter, Histogram

        # `_created` series double the output and are absent in multiprocess mode anyway.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=False)
        self.webhooks = Counter(
            "saleor_lengo_webhooks",
            "Saleor sync webhooks answered, by event and result (the sync result, or the HTTP status class).",
            ["event", "result"],
            registry=self.registry,
        )
        self.lengo_calls = Counter(
            "saleor_lengo_lengo_calls",
            "HTTP attempts at Lengo Pay, by operation and outcome (ok, refused, unavailable, …).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.lengo_seconds = Histogram(
            "saleor_lengo_lengo_call_seconds",
            "Duration of HTTP attempts at Lengo Pay, by operation.",
            ["operation"],
            buckets=LENGO_BUCKETS,
            registry=self.registry,
        )
        self.callbacks = Counter(
            "saleor_lengo_callbacks",
            "Lengo callbacks: received, rejected, unknown_token, failed, then their confirmation's outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.payouts = Counter(
            "saleor_lengo_payouts",
            "Refund payouts reaching a state that ends or pauses them: paid_out, failed, needs_review, resolved_….",
            ["outcome"],
            registry=self.registry,
        )


def multiprocess_dir() -> str | None:
    return next((os.environ[name] for name in _MULTIPROC_ENVS if os.environ.get(name)), None)


def _mark_dead(pid: int) -> None:
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
    except Exception:  # the directory may be gone already: nothing to do at exit
        pass


class Metrics:
    """This app's counters: the hooks below, and the scrape's exposition."""

    def __init__(self) -> None:
        self._series: _Series | None = None
        self._lock = threading.Lock()  # the scrape renders in a worker thread
        self._reported: set[str] = set()

    def _get(self) -> _Series:
        if self._series is None:
            with self._lock:
                if self._series is None:
                    self._series = _Series()
                    if multiprocess_dir():
                        # What prometheus-client asks of a worker that exits: drop
                        # its live gauges (it keeps its counters, which stay counted).
                        atexit.register(_mark_dead, os.getpid())
        return self._series

    def _failed(self, hook: str) -> None:
        if hook not in self._reported:  # once per hook: a broken metric must not flood the logs either
            self._reported.add(hook)
            log.warning("metrics_hook_failed", hook=hook, exc_info=True)

    # --- Hooks ---------------------------------------------------------------

    def webhook_answered(self, event: str, response: Any) -> None:
        """One Saleor webhook's answer (`None`: it raised, and was answered 500)."""
        try:
            self._get().webhooks.labels(event, _webhook_result(response)).inc()
        except Exception:
            self._failed("webhook")

    def lengo_call(self, call: Any) -> None:
        """One HTTP attempt at Lengo (a `lengo.client.LengoCall`)."""
        try:
            m = self._get()
            m.lengo_calls.labels(call.operation, call.outcome).inc()
            m.lengo_seconds.labels(call.operation).observe(call.duration_ms / 1000)
        except Exception:
            self._failed("lengo_call")

    def callback_answered(self, response: Any) -> None:
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
        self.callback_outcome(outcome)

    def callback_outcome(self, outcome: str) -> None:
        """A callback's fate: received by the route, or what its confirmation with Lengo found."""
        try:
            self._get().callbacks.labels(outcome).inc()
        except Exception:
            self._failed("callback")

    def payout_outcome(self, outcome: str) -> None:
        """A refund payout moved to `outcome` (a payout state)."""
        try:
            self._get().payouts.labels(outcome[:32]).inc()
        except Exception:
            self._failed("payout")

    # --- Scrape --------------------------------------------------------------

    def exposition(self, *collectors: Any) -> tuple[bytes, str]:
        """The counters (every worker's, in multiprocess mode) and `collectors`, as text. Blocking."""
        from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

        own = self._get().registry  # created (and `_created` turned off) before the first collection
        registry = CollectorRegistry(auto_describe=False)
        directory = multiprocess_dir()
        if directory:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        else:
            # The process's own figures (CPU, memory, GC: prometheus-client's defaults), then the app's counters.
            registry.register(_Forward(REGISTRY))
            registry.register(_Forward(own))
        for collector in collectors:
            registry.register(collector)
        return generate_latest(registry), CONTENT_TYPE


class _Forward:
    """A registry inside the scrape's (single-process mode)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Any]:
        return self.registry.collect()  # type: ignore[no-any-return]


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
