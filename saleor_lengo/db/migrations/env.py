"""Alembic environment: run with the connection `saleor_lengo.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from saleor_lengo.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` CLI use, for authoring migrations
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///alembic-dev.sqlite3"
    connection = create_engine(url).connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
