"""Leases on work rows (outbox rows, callbacks, payments) held by live processes.

A process that takes a row to work on writes its holder id into the row's
`lease_owner` and a short `lease_until`. Another process may take the row
when any of these holds:

- the lease ran out (`lease_until`): work stranded in a live process (an
  error between the claim and the verdict) is taken up again soon;
- the holder is gone from `lease_holders`. Every process's heartbeat
  (`Leases.beat`, every HEARTBEAT_SECONDS) renews its own row and the leases
  of the rows it is working on — so a lease never runs out under a call in
  progress — and deletes the holders it knows are dead: on the same host, a
  pid that no longer runs (or runs another program: its start time
  differs); on PostgreSQL, a holder whose session advisory lock is no longer
  held (PostgreSQL drops it when the holder's connection dies); anywhere, a
  holder silent for HOLDER_TTL_SECONDS. A process that restarts after a
  `kill -9` finds its predecessor dead at its first beat: it does not wait.

The row's own state, not the lease, says whether the work is done; a lease
only keeps two processes from doing it at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Select, Table, and_, delete, exists, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from saleor_lengo.db.engine import Database, Tx
from saleor_lengo.db.schema import lease_holders
from saleor_lengo.logs import get_logger

log = get_logger(__name__)

HEARTBEAT_SECONDS = 2.0
# Several heartbeats: a lease renewed by a live holder never comes near it.
LEASE_SECONDS = 15.0
# A holder nothing else can judge (another host on SQLite's shared file, a
# PostgreSQL lock that could not be taken) is dead after this much silence.
HOLDER_TTL_SECONDS = 30.0
# classid of the holders' advisory locks (objid is the holder's lock_key).
LOCK_NAMESPACE = 0x5A1E


def free(table: Table, now: float) -> ColumnElement[bool]:
    """The row's lease is free: none, run out, or its holder is gone.

    A lease without an owner (a payment's create, `flows/initialize.py`) only runs out.
    """
    owner, until = table.c.lease_owner, table.c.lease_until
    return or_(until.is_(None), until <= now, and_(owner.is_not(None), ~exists().where(lease_holders.c.id == owner)))


def host_identity() -> str:
    """This machine as pids are meaningful on it: the hostname and, on Linux, this boot."""
    boot = ""
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{socket.gethostname()[:180]}/{boot}"[:255]


def process_started(pid: int) -> str | None:
    """When `pid` started (clock ticks since boot, Linux), or None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None


def pid_gone(pid: int, started: str | None) -> bool:
    """True when no process `pid` runs, or the one that does is another (a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # another user's process: it exists
    return started is not None and process_started(pid) not in (started, None)


class Leases:
    """This process's holder: its id for `lease_owner`, its heartbeat, and what it is working on."""

    def __init__(self, db: Database, clock: Callable[[], float], *, host: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.host = host or host_identity()
        self.pid = os.getpid()
        self.pid_started = process_started(self.pid)
        self.holder_id = f"{socket.gethostname()[:30]}:{self.pid}:{uuid.uuid4().hex[:12]}"
        self.registered = False
        self.lock_key: int | None = None
        self._lock_conn: AsyncConnection | None = None
        self._working: dict[str, tuple[Table, Counter[Any]]] = {}
        # Rows whose work failed: their leases are given back at the next heartbeat.
        self._dropped: dict[str, tuple[Table, set[Any]]] = {}
        # One registration at a time (concurrent claims of one process would insert the row twice).
        self._registering = asyncio.Lock()
        # Called when dead holders were found: their rows are free, wake the loops.
        self.on_freed: list[Callable[[], None]] = []

    def until(self, now: float) -> float:
        return now + LEASE_SECONDS

    async def ensure(self) -> str:
        """The holder id, registered first if it is not yet (its own transaction: call it before the claim's)."""
        if not self.registered:
            async with self._registering:
                if not self.registered:
                    async with self.db.write() as conn:
                        await self._renew_or_register(conn, self.clock())
        return self.holder_id

    async def claim(self, table: Table, due: Select[Any], now: float) -> list[Any]:
        """Lease to this process the rows of `table` that `due` selects by id (its conditions, order and
        limit) and no live holder leases; their ids.

        PostgreSQL skips the rows another process is claiming at that moment; SQLite renders no
        FOR UPDATE, its BEGIN IMMEDIATE serialises the claims.
        """
        owner = await self.ensure()
        query = due.where(free(table, now)).with_for_update(skip_locked=True)
        async with self.db.write() as conn:
            ids = [row.id for row in (await conn.execute(query)).all()]
            if ids:
                await conn.execute(
                    update(table).where(table.c.id.in_(ids)).values(lease_owner=owner, lease_until=self.until(now))
                )
        return ids

    @contextlib.contextmanager
    def working(self, table: Table, ids: Iterable[Any]) -> Iterator[None]:
        """While inside, the heartbeat renews this process's leases on these rows.

        Should the work fail (an exception: the database pool exhausted, a bug),
        the next heartbeat gives the leases back, rather than letting them run out.
        """
        _, counter = self._working.setdefault(table.name, (table, Counter()))
        held = list(ids)
        counter.update(held)
        try:
            yield
        except BaseException:
            self._dropped.setdefault(table.name, (table, set()))[1].update(held)
            raise
        finally:
            counter.subtract(held)
            for key in held:
                if counter[key] <= 0:
                    del counter[key]

    async def beat(self) -> list[str]:
        """One heartbeat: renew this holder and its leases, delete the holders known dead; their ids."""
        if not self.db.is_sqlite:
            await self._hold_lock()
        now = self.clock()
        async with self._registering, self.db.write() as conn:
            await self._renew_or_register(conn, now)
            for table, counter in self._working.values():
                if counter:
                    await conn.execute(
                        update(table).where(table.c.id.in_(list(counter)), table.c.lease_owner == self.holder_id)
                        .values(lease_until=self.until(now))
                    )
            dropped = {name: (table, set(failed)) for name, (table, failed) in self._dropped.items() if failed}
            for name, (table, failed) in dropped.items():
                # Not a row this process took up again since.
                give_back = failed - set(self._working.get(name, (table, Counter()))[1])
                if give_back:
                    await conn.execute(
                        update(table).where(table.c.id.in_(list(give_back)), table.c.lease_owner == self.holder_id)
                        .values(lease_owner=None, lease_until=None)
                    )
            others = (await conn.execute(select(lease_holders).where(lease_holders.c.id != self.holder_id))).all()
            locks = await self._held_locks(conn) if not self.db.is_sqlite else None
            dead = [h.id for h in others if self._dead(h, now, locks)]
            if dead:
                await conn.execute(delete(lease_holders).where(lease_holders.c.id.in_(dead)))
        for name, (_, failed) in dropped.items():
            self._dropped[name][1].difference_update(failed)  # given back (new failures since stay)
        if dead:
            log.warning("lease_holders_dead", holders=dead)
        if dead or dropped:
            for wake in self.on_freed:
                wake()
        return dead

    async def run_forever(self) -> None:
        """The heartbeat loop of `serve`, `relay` and `reconcile`."""
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lease_heartbeat_failed", exc_info=True)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    @contextlib.asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        """The heartbeat in the background while inside (the `relay` and `reconcile` commands)."""
        task = asyncio.ensure_future(self.run_forever())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def release(self) -> None:
        """On a graceful stop: this holder's leases are free at once."""
        try:
            if self.registered:
                async with self.db.write() as conn:
                    await conn.execute(delete(lease_holders).where(lease_holders.c.id == self.holder_id))
        finally:
            self.registered = False
            if self._lock_conn is not None:
                conn_, self._lock_conn = self._lock_conn, None
                with contextlib.suppress(Exception):
                    await conn_.close()

    # --- inside -------------------------------------------------------------

    async def _renew_or_register(self, conn: Tx, now: float) -> None:
        renewed = await conn.execute(
            update(lease_holders).where(lease_holders.c.id == self.holder_id)
            .values(heartbeat_at=now, lock_key=self.lock_key)
        )
        if not renewed.rowcount:
            await conn.execute(insert(lease_holders).values(
                id=self.holder_id, host=self.host, pid=self.pid, pid_started=self.pid_started,
                lock_key=self.lock_key, started_at=now, heartbeat_at=now,
            ))
        self.registered = True

    def _dead(self, holder: Any, now: float, locks: set[int] | None) -> bool:
        if holder.heartbeat_at < now - HOLDER_TTL_SECONDS:
            return True
        if holder.host == self.host and pid_gone(holder.pid, holder.pid_started):
            return True
        return locks is not None and holder.lock_key is not None and holder.lock_key not in locks

    async def _hold_lock(self) -> None:
        """PostgreSQL: hold this holder's session advisory lock on a connection of its own."""
        if self._lock_conn is not None:
            try:
                await self._lock_conn.execute(text("SELECT 1"))
                await self._lock_conn.commit()
                return
            except Exception:
                log.warning("lease_lock_connection_lost", exc_info=True)
                with contextlib.suppress(Exception):
                    await self._lock_conn.close()
                self._lock_conn = None
        conn = await self.db.dedicated_connection()
        try:
            for _ in range(20):
                key = self.lock_key or random.randint(1, 2**31 - 1)
                taken = (await conn.execute(
                    text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": key}
                )).scalar_one()
                if taken:
                    await conn.commit()  # a session lock: it outlives the transaction
                    self.lock_key, self._lock_conn = key, conn
                    return
                self.lock_key = None
            raise RuntimeError("no free advisory lock key for this holder")
        except BaseException:
            await conn.close()
            raise

    @staticmethod
    async def _held_locks(conn: Tx) -> set[int]:
        rows = await conn.execute(
            text(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :ns AND objsubid = 2"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"ns": LOCK_NAMESPACE},
        )
        return {int(key) for (key,) in rows.all()}
