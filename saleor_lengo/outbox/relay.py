"""The relay: sends committed outbox rows to Saleor as `transactionEventReport`.

Exactly once, as Saleor sees it: a row is sent at least once, and Saleor
deduplicates on (transaction, pspReference, type, amount), answering
`alreadyProcessed: true` to a repeat — which counts as delivered. So a
crash between Saleor's answer and our commit costs one harmless repeat.

Claiming. A row is taken by one relay at a time with a lease
(`lease_owner`, `lease_until`) written in a short claim transaction: on
PostgreSQL the claim's SELECT is `FOR UPDATE SKIP LOCKED`, so replicas never
wait on or take each other's rows; on SQLite the claim runs under
`BEGIN IMMEDIATE`, which makes it the only writer. The lease is the
process's (`db/leases.py`): renewed by its heartbeat while the rows are
being sent, free the moment the process is known dead, and given back by
the next heartbeat when a pass fails halfway.

Order. Within a payment, a row is only claimed when no earlier row of that
payment is still pending (a failure must not overtake the late success that
followed it in Saleor's timeline). Payments do not wait for each other:
a claimed batch holds at most one row per payment, so its rows are sent
concurrently — one to each Saleor first and, once that one got an answer,
the rest at once (a Saleor that does not answer costs one timeout, not one
per row). The rest go out as Saleor's batched requests (a JSON list of
operations, answered by a list in the same order), up to
`REPORTS_PER_REQUEST` reports in each, the requests concurrent: each report
still gets its own verdict, and a request costs the app and Saleor far more
than the report in it. Saleor refuses batches unless its operator raised
`GRAPHQL_BATCH_MAX_COUNT` (default 1): a Saleor (or a proxy) that does not
answer a batch with one result per report gets that chunk's reports one by
one, and then one report per request for an hour (`saleor/circuit.py`), at most
MAX_SINGLE_REQUESTS_IN_FLIGHT at a time.

Failures. Network errors and 5xx say Saleor itself is not answering: the
installation's circuit (`saleor/circuit.py`) counts them, the rows are marked as
waiting for Saleor (`waiting_for_saleor`, with a backoff of their own), and
once the circuit is open only one probe at a time goes to that Saleor; the
first one answered makes every row that was waiting for it due at once, and they go out in batches, at
most MAX_REQUESTS_IN_FLIGHT requests at a time per installation. Transient
GraphQL errors in one report's result belong to that row: it is retried with
its own exponential backoff and jitter, without limit (Saleor can be down
for hours; nothing is ever dropped). Permanent ones — `NOT_FOUND`,
`INCORRECT_DETAILS`, `INVALID`, `REQUIRED`, permission denied (an
uninstalled app's token is anonymous to Saleor), an installation gone or a
token that cannot be decrypted — go to the dead-letter state with the
reason. A refused token marks the installation removed (`uninstall.py`): its
rows are dead letters from then on, without calling Saleor. `saleor-lengo
outbox retry` sends dead letters again once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, delete, exists, insert, or_, select, text, update

from saleor_lengo import uninstall, wakeups
from saleor_lengo.saleor import dashboard, installations, messages
from saleor_lengo.backoff import doubling, jittered
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.db import leases
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import configurations, lease_holders, outbox, payments, saleor_circuits
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.client import SaleorBatchRefused, SaleorError, SaleorPermissionDenied
from saleor_lengo.needs import HasDb, HasClock, HasSettings, HasCipher, HasSaleor, HasLeases, HasWakeups, HasCircuits
from saleor_lengo.uninstall import REMOVED_REASON
from saleor_lengo.words import load


class Needs(HasDb, HasClock, HasSettings, HasCipher, HasSaleor, HasLeases, HasWakeups, HasCircuits, Protocol):
    """What delivering outbox rows to Saleor uses."""


log = get_logger(__name__)

DOCUMENT = "mutations/transaction-event-report.graphql"
# Enough rows per claim to keep MAX_REQUESTS_IN_FLIGHT requests busy for a few rounds.
BATCH = 120
# Saleor runs a batched request's operations one after another: ten reports
# keep a request well inside its 10 s GraphQL timeout while cutting the HTTP
# requests (and their cost on both sides) tenfold.
REPORTS_PER_REQUEST = 10
# Batched requests to one Saleor at a time: a backlog drains fast without flooding a Saleor just back.
MAX_REQUESTS_IN_FLIGHT = 4
# One-report requests, to a Saleor that refuses batches: Saleor runs a batch's reports one after
# another, so 4 batched requests keep 4 of its workers busy; 8 single reports keep 8, for the
# ~10x the HTTP requests (each far cheaper than a batch). A 1,000-report backlog then drains in
# ~6 s at 50 ms per report, not 12.5 s.
MAX_SINGLE_REQUESTS_IN_FLIGHT = 8
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 900.0
POLL_SECONDS = 5.0
# A guard against a claim loop that never empties; each round delivers or defers rows.
MAX_ROUNDS = 1000
PERMANENT_CODES = frozenset({"NOT_FOUND", "INCORRECT_DETAILS", "INVALID", "REQUIRED"})

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

# A verdict, written only while the row is still ours; the columns come with each execution.
_SETTLE = prepared(update(outbox).where(
    outbox.c.id == bindparam("b_id"), outbox.c.state == PENDING, outbox.c.lease_owner == bindparam("b_owner")
))
# Saleor has the charge: the payment's order is looked for from now on
# (flows/order_links.py). Written with the verdict, so no delivered charge is
# ever without its link row; the same statement on SQLite and PostgreSQL.
_OPEN_ORDER_LINK = text(
    "INSERT INTO payment_orders (payment_id, charged_at, attempts, next_attempt_at, created_at, updated_at)"
    " VALUES (:payment_id, :now, 0, :now, :now, :now) ON CONFLICT (payment_id) DO NOTHING"
)


@dataclass(frozen=True)
class Delivered:
    already_processed: bool
    event_id: str | None


@dataclass(frozen=True)
class Retry:
    reason: str
    unreachable: bool = False  # Saleor itself did not answer (network, 5xx), not just this row


@dataclass(frozen=True)
class Dead:
    reason: str


Verdict = Delivered | Retry | Dead


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s … capped at 15 minutes."""
    return jittered(doubling(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, attempts), rng)


async def run_once(deps: Needs, *, owner: str | None = None) -> int:
    """Deliver every row that is due now, in order per payment; how many were delivered."""
    owner = owner or deps.leases.holder_id
    circuits = deps.circuits
    if not circuits.adopted:
        # Rows an earlier process left waiting for a Saleor: probe it now, not after their backoff.
        for installation_id in await _waiting_installations(deps):
            circuits.adopt(installation_id, deps.clock())
        circuits.adopted = True
    delivered = 0
    for _ in range(MAX_ROUNDS):
        probes = circuits.probes_due(deps.clock())
        rows = await _claim(deps, owner, blocked=circuits.open_ids(), probes=probes)
        if not rows:
            break
        by_installation: dict[int, list[Any]] = {}
        for row in rows:
            by_installation.setdefault(row.installation_id, []).append(row)
        with deps.leases.working(outbox, (row.id for row in rows)):
            counts = await asyncio.gather(*(
                _probe(deps, owner, group[0]) if circuits.is_open(installation_id)
                else _deliver_group(deps, owner, group)
                for installation_id, group in by_installation.items()
            ))
        delivered += sum(counts)
    return delivered


async def _probe(deps: Needs, owner: str, row: Any) -> int:
    """The one row sent to a Saleor whose circuit is open: does it answer again?"""
    async with deps.db.read() as conn:
        inst = await installations.get_by_id(conn, row.installation_id)
    verdict = await _deliver(deps, row, inst)
    await _note(deps, row.installation_id, [verdict])
    await _record_verdicts(deps, [(row, verdict)], owner)
    return int(isinstance(verdict, Delivered))


async def _deliver_group(deps: Needs, owner: str, rows: list[Any]) -> int:
    """One claimed batch's rows for one Saleor whose circuit is closed.

    A claim holds at most one row per payment (the rows before it must be
    delivered first), so the rows here may go out in any order. Unless this
    Saleor answered the last request, the first row goes alone: when it
    finds Saleor unreachable, the others wait for the same retry instead of
    each timing out.
    """
    installation_id = rows[0].installation_id
    async with deps.db.read() as conn:
        inst = await installations.get_by_id(conn, installation_id)
    others, first = rows, None
    if not deps.circuits.healthy(installation_id):
        first = await _deliver(deps, rows[0], inst)
        await _note(deps, installation_id, [first])
        [retry_at] = await _record_verdicts(deps, [(rows[0], first)], owner)
        if first == REMOVED:
            # Uninstalled: the others are not sent either (uninstall.py).
            if len(rows) > 1:
                await _record_verdicts(deps, [(row, first) for row in rows[1:]], owner)
            return 0
        if isinstance(first, Retry) and first.unreachable:
            if retry_at is not None and len(rows) > 1:
                await _defer(deps, [row.id for row in rows[1:]], owner, retry_at)
            return 0
        others = rows[1:]
    per_request = REPORTS_PER_REQUEST if deps.circuits.takes_batches(installation_id, deps.clock()) else 1
    requests = -(-len(others) // per_request)
    # Chunks as even as can be: a 21-row rest is 7+7+7, not 10+10+1.
    chunks = [others[i::requests] for i in range(requests)]
    in_flight = asyncio.Semaphore(MAX_REQUESTS_IN_FLIGHT if per_request > 1 else MAX_SINGLE_REQUESTS_IN_FLIGHT)

    async def send(chunk: list[Any]) -> list[Verdict]:
        async with in_flight:
            return await _deliver_chunk(deps, chunk, inst)

    chunk_verdicts = await asyncio.gather(*(send(chunk) for chunk in chunks))
    await _note(deps, installation_id, [verdicts[0] for verdicts in chunk_verdicts if verdicts])
    rest = [pair for chunk, verdicts in zip(chunks, chunk_verdicts, strict=True)
            for pair in zip(chunk, verdicts, strict=True)]
    # The verdicts of the rest in one transaction: a crash before it commits
    # only repeats reports Saleor answers `alreadyProcessed`.
    if rest:
        await _record_verdicts(deps, rest, owner)
    return sum(isinstance(verdict, Delivered) for verdict in (first, *(v for _, v in rest)))


async def run_forever(deps: Needs) -> None:
    """The relay loop of `serve` and `saleor-lengo relay`: woken by `Wakeups.outbox`, else polls."""
    while True:
        deps.wakeups.outbox.clear()
        try:
            await run_once(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox_relay_failed")
        probe_in = deps.circuits.next_probe_in(deps.clock())
        await wakeups.sleep(deps.wakeups.outbox, POLL_SECONDS if probe_in is None else min(POLL_SECONDS, probe_in))


# --- Circuit -----------------------------------------------------------------


async def _note(deps: Needs, installation_id: int, verdicts: list[Verdict]) -> None:
    """What a round of requests (one verdict each) says about this Saleor: it answers, or not."""
    if not verdicts:
        return
    now = deps.clock()
    circuits = deps.circuits
    unreachable = [v for v in verdicts if isinstance(v, Retry) and v.unreachable]
    if len(unreachable) < len(verdicts):
        if circuits.answered(installation_id):
            await _close(deps, installation_id, now)
        return
    opened = False
    for _ in unreachable:
        opened = circuits.failed(installation_id, now) or opened
    if opened:
        reason = unreachable[0].reason
        log.warning("saleor_circuit_open", installation_id=installation_id, reason=reason[:200])
        await deps.leases.ensure()
        async with deps.db.write() as conn:
            # Rows of processes gone (their circuits with them) go first.
            await conn.execute(delete(saleor_circuits).where(
                ~exists().where(lease_holders.c.id == saleor_circuits.c.holder_id)))
            await conn.execute(delete(saleor_circuits).where(
                saleor_circuits.c.installation_id == installation_id,
                saleor_circuits.c.holder_id == deps.leases.holder_id))
            await conn.execute(insert(saleor_circuits).values(
                installation_id=installation_id, holder_id=deps.leases.holder_id, opened_at=now,
                last_error=reason[:1000]))


async def _close(deps: Needs, installation_id: int, now: float) -> None:
    """Saleor answers again: every row waiting for it is due now."""
    async with deps.db.write() as conn:
        released = await conn.execute(
            update(outbox)
            .where(outbox.c.installation_id == installation_id, outbox.c.state == PENDING,
                   outbox.c.waiting_for_saleor.is_(True))
            .values(next_attempt_at=now, waiting_for_saleor=None)
        )
        await conn.execute(delete(saleor_circuits).where(
            saleor_circuits.c.installation_id == installation_id,
            saleor_circuits.c.holder_id == deps.leases.holder_id))
    log.info("saleor_circuit_closed", installation_id=installation_id, rows_due=released.rowcount)


async def _waiting_installations(deps: Needs) -> list[int]:
    async with deps.db.read() as conn:
        rows = await conn.execute(
            select(outbox.c.installation_id).distinct()
            .where(outbox.c.state == PENDING, outbox.c.waiting_for_saleor.is_(True))
        )
        return [int(i) for (i,) in rows.all()]


# --- Claim -------------------------------------------------------------------


def _with_language(query: Select[Any]) -> Select[Any]:
    """The rows with the language of their payment's configuration (None when either is gone)."""
    return query.add_columns(configurations.c.language).select_from(
        outbox.outerjoin(payments, payments.c.id == outbox.c.payment_id).outerjoin(
            configurations, configurations.c.id == payments.c.configuration_id
        )
    )


async def _claim(
    deps: Needs, owner: str, *, blocked: Collection[int] = (), probes: Sequence[int] = ()
) -> list[Any]:
    """Lease the rows due now of Saleors not `blocked`, and one row of each Saleor to `probe`."""
    now = deps.clock()
    earlier = outbox.alias("earlier")
    waits_for_earlier = (
        exists()
        .where(earlier.c.payment_id == outbox.c.payment_id, earlier.c.state == PENDING, earlier.c.id < outbox.c.id)
        .correlate(outbox)
    )
    claimable = (outbox.c.state == PENDING, leases.free(outbox, now), ~waits_for_earlier)
    due = _with_language(select(outbox)).where(*claimable, outbox.c.next_attempt_at <= now)
    if blocked:
        due = due.where(outbox.c.installation_id.not_in(sorted(blocked)))
    queries = [due.order_by(outbox.c.id).limit(BATCH)]
    # A probe takes the row waiting longest for Saleor, or a due one: never a row backing off for its own error.
    probe_candidate = or_(outbox.c.waiting_for_saleor.is_(True), outbox.c.next_attempt_at <= now)
    queries += [_with_language(select(outbox)).where(*claimable, probe_candidate, outbox.c.installation_id == installation_id)
                .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(1) for installation_id in probes]
    if not deps.db.is_sqlite:
        queries = [q.with_for_update(skip_locked=True, of=outbox) for q in queries]
    rows: list[Any] = []
    await deps.leases.ensure()
    async with deps.db.write() as conn:
        for query in queries:
            rows += (await conn.execute(query)).all()
        if rows:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(lease_owner=owner, lease_until=deps.leases.until(now))
            )
    return rows


# --- Delivery ----------------------------------------------------------------


def variables(row: Any, link: str | None = None) -> dict[str, Any]:
    """The mutation's variables for one outbox row; `link`: the payment in the app's page (saleor/dashboard.py)."""
    parts = load(row.words)
    values: dict[str, Any] = {
        "id": row.saleor_transaction_id,
        "type": row.event_type,
        # A decimal string: Saleor's PositiveDecimal takes it exactly.
        "amount": row.amount,
        "pspReference": row.psp_reference,
        "time": datetime.fromtimestamp(row.event_time, UTC).isoformat(),
        # Said in the configuration's language when the row kept its words (rows from before kept only English).
        "message": messages.render(parts, row.language or messages.DEFAULT_LANGUAGE) if parts else row.message,
    }
    if link:
        values["externalUrl"] = link
    actions = json.loads(row.available_actions or "null")
    # Saleor replaces the transaction's actions with any list it is given,
    # an empty one included; a row without a list (null) leaves them as they are.
    if actions is not None:
        values["availableActions"] = actions
    return values


REMOVED = Dead(REMOVED_REASON)


def _token(deps: Needs, inst: Installation | None) -> str | Dead:
    if inst is None:
        return Dead("the app is no longer installed on this Saleor")
    if inst.removed_at is not None:
        return REMOVED
    try:
        return inst.token(deps.cipher)
    except DecryptionError:
        return Dead("the app token cannot be decrypted: check SECRET_KEY and SECRET_KEY_FALLBACKS")


def _link(deps: Needs, inst: Installation, row: Any) -> str | None:
    if not row.payment_id:
        return None
    return dashboard.payment_page(inst.saleor_api_url, inst.app_id, row.payment_id, deps.settings.dashboard_url)


async def _deliver(deps: Needs, row: Any, inst: Installation | None) -> Verdict:
    token = _token(deps, inst)
    if isinstance(token, Dead):
        return token
    assert inst is not None
    try:
        data = await deps.saleor.graphql(inst.saleor_api_url, token, DOCUMENT, variables(row, _link(deps, inst, row)))
    except SaleorPermissionDenied as exc:
        return await _refused(deps, inst, exc)
    except SaleorError as exc:
        return _failed(exc, unreachable=True)
    return _verdict(data)


async def _refused(deps: Needs, inst: Installation, exc: SaleorPermissionDenied) -> Verdict:
    """A report refused for want of permission: REMOVED when Saleor refuses the token itself."""
    if await uninstall.confirm_removed(deps, inst):
        return REMOVED
    return _failed(exc, unreachable=False)


async def _deliver_chunk(deps: Needs, rows: list[Any], inst: Installation | None) -> list[Verdict]:
    """Rows of one Saleor in one batched request: a verdict per row, in order."""
    if len(rows) == 1:
        return [await _deliver(deps, rows[0], inst)]
    token = _token(deps, inst)
    if isinstance(token, Dead):
        return [token] * len(rows)
    assert inst is not None
    try:
        results = await deps.saleor.graphql_batch(
            inst.saleor_api_url, token, DOCUMENT, [variables(r, _link(deps, inst, r)) for r in rows]
        )
    except SaleorBatchRefused as exc:
        if deps.circuits.batches_refused(inst.id, deps.clock()):
            log.info("outbox_batches_refused", reason=str(exc)[:200], reports=len(rows),
                     advice="one report per request for an hour; Saleor's GRAPHQL_BATCH_MAX_COUNT allows batches")
        # One after another: this chunk holds one of the MAX_REQUESTS_IN_FLIGHT slots, no more.
        return [await _deliver(deps, row, inst) for row in rows]
    except SaleorPermissionDenied as exc:
        return [await _refused(deps, inst, exc)] * len(rows)
    except SaleorError as exc:
        return [_failed(exc, unreachable=True)] * len(rows)
    refused = next((r for r in results if isinstance(r, SaleorPermissionDenied)), None)
    if refused is not None and await _refused(deps, inst, refused) == REMOVED:
        return [REMOVED] * len(rows)
    # An error inside one report's result is that report's, not Saleor's at large.
    return [_failed(result, unreachable=False) if isinstance(result, SaleorError) else _verdict(result)
            for result in results]


def _failed(exc: SaleorError, *, unreachable: bool) -> Verdict:
    if isinstance(exc, SaleorPermissionDenied):
        return Dead(f"permission denied (is the app still installed?): {exc}")
    return Retry(str(exc), unreachable=unreachable) if exc.transient else Dead(str(exc))


def _verdict(data: dict[str, Any]) -> Verdict:
    """What Saleor's `transactionEventReport` result says about one report."""
    report = data.get("transactionEventReport")
    if not isinstance(report, dict):
        return Retry("Saleor answered without a transactionEventReport result")
    errors = [e for e in report.get("errors") or [] if isinstance(e, dict)]
    if errors:
        codes = {str(e.get("code")) for e in errors}
        reason = "; ".join(f"{e.get('code')}: {str(e.get('message') or '')[:200]}" for e in errors)
        return Dead(reason) if codes & PERMANENT_CODES else Retry(reason)
    event = report.get("transactionEvent")
    event_id = event.get("id") if isinstance(event, dict) and isinstance(event.get("id"), str) else None
    return Delivered(report.get("alreadyProcessed") is True, event_id)


async def _record_verdicts(deps: Needs, verdicts: list[tuple[Any, Verdict]], owner: str) -> list[float | None]:
    """Write each row's verdict (only while its lease is still ours); the retry time of each Retry."""
    now = deps.clock()
    planned = [_planned(row, verdict, now) for row, verdict in verdicts]
    written: list[int] = []
    async with deps.db.write() as conn:
        for (row, _), (values, _) in zip(verdicts, planned, strict=True):
            result = await conn.execute(_SETTLE, {"b_id": row.id, "b_owner": owner, **values})
            written.append(result.rowcount)
            if result.rowcount and values.get("state") == DELIVERED and row.event_type == "CHARGE_SUCCESS" and row.payment_id:
                await conn.execute(_OPEN_ORDER_LINK, {"payment_id": row.payment_id, "now": now})
    for (row, verdict), (values, retry_at), rowcount in zip(verdicts, planned, written, strict=True):
        if not rowcount:
            # Our lease ran out and another relay took the row: it records the
            # outcome (a repeat is `alreadyProcessed` in Saleor).
            log.warning("outbox_lease_lost", outbox_id=row.id)
            continue
        fields = {"outbox_id": row.id, "payment_id": row.payment_id, "event_type": row.event_type,
                  "attempts": values["attempts"]}
        if isinstance(verdict, Delivered):
            log.info("outbox_delivered", already_processed=verdict.already_processed, **fields)
        elif isinstance(verdict, Retry):
            assert retry_at is not None
            log.warning("outbox_delivery_retry", reason=verdict.reason, retry_in=round(retry_at - now, 1), **fields)
        else:
            log.error("outbox_dead_letter", reason=verdict.reason, **fields)
    return [retry_at for _, retry_at in planned]


def _planned(row: Any, verdict: Verdict, now: float) -> tuple[dict[str, Any], float | None]:
    """The row's new values for a verdict, and its retry time if it is a Retry."""
    attempts = row.attempts + 1
    unreachable = isinstance(verdict, Retry) and verdict.unreachable
    common: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None,
                              "waiting_for_saleor": True if unreachable else None}
    if isinstance(verdict, Delivered):
        return {
            **common,
            "state": DELIVERED,
            "delivered_at": now,
            "already_processed": verdict.already_processed,
            "saleor_event_id": verdict.event_id,
            "last_error": None,
        }, None
    if isinstance(verdict, Retry):
        retry_at = now + retry_delay(attempts)
        return {**common, "next_attempt_at": retry_at, "last_error": verdict.reason[:1000]}, retry_at
    return {**common, "state": DEAD, "last_error": verdict.reason[:1000]}, None


async def _defer(deps: Needs, row_ids: list[int], owner: str, retry_at: float) -> None:
    """Give claimed rows back unsent, due at `retry_at` (not an attempt: nothing was sent)."""
    async with deps.db.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(row_ids), outbox.c.state == PENDING, outbox.c.lease_owner == owner)
            .values(next_attempt_at=retry_at, lease_owner=None, lease_until=None, waiting_for_saleor=True)
        )
