"""The payment path's fixed statements, run straight on `sqlite3` when the database is SQLite.

Why: for a statement on a local SQLite file, SQLAlchemy Core's execution
(execution context, events, result set-up) costs 40–60 µs where SQLite
itself takes about 10; a callback or a checkout runs several such
statements, and that was most of what answering one cost
(benchmarks/README.md). So a statement built once at import and marked
with `prepared()` is compiled once per set of parameter names (by
SQLAlchemy, for SQLite) and then executed on the transaction's own
`sqlite3` connection — same connection, same transaction, same SQL.

Only what this module reproduces exactly takes this path:
- parameters given as one dict (not a list: executemany stays with SQLAlchemy);
- no Python-side insert defaults, no RETURNING, no expanding `IN`;
- bind and result processors are applied as SQLAlchemy would (the schema's
  Float binds and Boolean results have them);
- DBAPI errors are raised as SQLAlchemy raises them
  (`sqlalchemy.exc.OperationalError`, `IntegrityError`, …), so callers
  catch the same exceptions on either path.
Anything else goes through SQLAlchemy as usual, on the same connection.
PostgreSQL always does. SQLAlchemy's cursor events and `echo` do not see
what runs here; the fault tests strike the `sqlite3` connection itself.

Results offer the part of `CursorResult` the app uses: rows with attribute
access (`first`, `all`, `one`, `scalar_one`, … via SQLAlchemy's own
`IteratorResult`) for a select; `rowcount` and `inserted_primary_key` for
an insert, update or delete. The selects marked here are keyed lookups,
so their rows are fetched at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Dialect, IteratorResult
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Delete, Insert, Select, Update
from sqlalchemy.sql.base import Executable

S = TypeVar("S", bound=Executable)

# id → statement: the statement is kept alive, so its id is never reused.
_MARKED: dict[int, Executable] = {}
# (id, parameter names) → plan, or None where SQLAlchemy must run it.
_PLANS: dict[tuple[int, frozenset[str]], _Plan | None] = {}


def prepared(statement: S) -> S:
    """Mark a statement built once (at import) as one SQLite may run without SQLAlchemy's execution."""
    _MARKED[id(statement)] = statement
    return statement


def is_marked(statement: object) -> bool:
    return id(statement) in _MARKED


class DmlResult:
    """What an insert, update or delete tells: the rows it touched, the key it inserted."""

    __slots__ = ("inserted_primary_key", "rowcount")

    def __init__(self, rowcount: int, inserted_primary_key: tuple[Any, ...] | None) -> None:
        self.rowcount = rowcount
        self.inserted_primary_key = inserted_primary_key


class _Plan:
    __slots__ = ("sql", "names", "construct", "bind_processors", "metadata", "result_processors", "pk")

    def __init__(
        self,
        sql: str,
        names: Sequence[str],
        construct: Callable[..., dict[str, Any]],
        bind_processors: Mapping[str, Callable[[Any], Any]],
        metadata: SimpleResultMetaData | None,
        result_processors: Sequence[Callable[[Any], Any] | None] | None,
        pk: Callable[[Mapping[str, Any], int | None], tuple[Any, ...]] | None,
    ) -> None:
        self.sql = sql
        self.names = tuple(names)
        self.construct = construct
        self.bind_processors = bind_processors
        self.metadata = metadata
        self.result_processors = result_processors
        self.pk = pk

    def run(self, dbapi: sqlite3.Connection, parameters: Mapping[str, Any] | None) -> Any:
        values = self.construct(parameters)
        procs = self.bind_processors
        args = [
            procs[name](values[name]) if name in procs else values[name] for name in self.names
        ] if procs else [values[name] for name in self.names]
        try:
            cursor = dbapi.execute(self.sql, args)
            if self.metadata is None:
                pk = self.pk(values, cursor.lastrowid) if self.pk is not None else None
                return DmlResult(cursor.rowcount, pk)
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(self.sql, args, exc, sqlite3.Error) from exc
        if self.result_processors is not None:
            rows = [
                tuple(p(v) if p is not None else v for p, v in zip(self.result_processors, row, strict=True))
                for row in rows
            ]
        return IteratorResult(self.metadata, iter(rows))


def plan(statement: Executable, parameters: Mapping[str, Any] | None, dialect: Dialect) -> _Plan | None:
    """The plan for a marked statement with these parameter names; None when SQLAlchemy must run it."""
    key = (id(statement), frozenset(parameters) if parameters else frozenset())
    try:
        return _PLANS[key]
    except KeyError:
        pass
    made = _make(statement, key[1], dialect)
    _PLANS[key] = made
    return made


def _make(statement: Executable, names: frozenset[str], dialect: Dialect) -> _Plan | None:
    if not isinstance(statement, (Select, Insert, Update, Delete)):
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(names))
    sql: str = compiled.string
    if (
        compiled.positiontup is None
        or "POSTCOMPILE" in sql  # expanding IN, literal_execute
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.effective_returning
    ):
        return None
    processors = dict(compiled._bind_processors)
    if isinstance(statement, Select):
        columns = compiled._result_columns
        metadata = SimpleResultMetaData([c.keyname for c in columns])
        result_procs = [c.type._cached_result_processor(dialect, None) for c in columns]
        return _Plan(sql, compiled.positiontup, compiled.construct_params, processors, metadata,
                     result_procs if any(result_procs) else None, None)
    pk = _primary_key(statement.table) if isinstance(statement, Insert) else None  # type: ignore[arg-type]
    return _Plan(sql, compiled.positiontup, compiled.construct_params, processors, None, None, pk)


def _primary_key(table: Table) -> Callable[[Mapping[str, Any], int | None], tuple[Any, ...]]:
    """As SQLAlchemy computes `inserted_primary_key` on SQLite: given values, else the rowid."""
    keys = [c.key for c in table.primary_key.columns]

    def pk(values: Mapping[str, Any], lastrowid: int | None) -> tuple[Any, ...]:
        if len(keys) == 1 and values.get(keys[0]) is None:
            return (lastrowid,)
        return tuple(values.get(k) for k in keys)

    return pk


__all__ = ["DmlResult", "is_marked", "plan", "prepared"]
