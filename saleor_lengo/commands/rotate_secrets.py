"""`saleor-lengo rotate-secrets`: re-encrypt every stored secret with the current SECRET_KEY.

Rotating SECRET_KEY: set the new key as SECRET_KEY and the old one in
SECRET_KEY_FALLBACKS (everything still decrypts, new writes use the new
key), run this command, then drop the old key from SECRET_KEY_FALLBACKS.

Every `*_enc` column of every table is rewritten, in small batches so a
running app is never blocked for long. A row changed meanwhile is left
alone: whoever changed it wrote it with the current key already.

Keyed hashes (`*_hash`: the customers' e-mails, searched by exact match) are
computed again with the current key, from the value decrypted. Until then a
search hashes the term under the fallback keys too, so nothing goes missing.
"""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import Table, select, update

from saleor_lengo.commands.common import fail
from saleor_lengo.settings import startup_settings
from saleor_lengo.crypto import Cipher, DecryptionError
from saleor_lengo.db.engine import Database
from saleor_lengo.db.schema import metadata, payment_orders

BATCH = 200


def encrypted_columns() -> list[tuple[Table, str]]:
    return [
        (table, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_enc")
    ]


async def rotate_table(db: Database, cipher: Cipher, table: Table, column: str) -> int:
    col = table.c[column]
    pk = table.c.id
    done = 0
    last: object = None
    while True:
        query = select(pk, col).where(col.is_not(None)).order_by(pk).limit(BATCH)
        if last is not None:
            query = query.where(pk > last)
        async with db.write() as conn:
            rows = (await conn.execute(query)).all()
            for row_id, value in rows:
                try:
                    fresh = cipher.rotate(value)
                except DecryptionError:
                    raise DecryptionError(
                        f"{table.name}.{column} of row {row_id} cannot be decrypted with SECRET_KEY or "
                        "SECRET_KEY_FALLBACKS: put the key it was written with in SECRET_KEY_FALLBACKS"
                    ) from None
                result = await conn.execute(update(table).where(pk == row_id, col == value).values({column: fresh}))
                done += result.rowcount or 0
        if len(rows) < BATCH:
            return done
        last = rows[-1][0]


async def rehash_emails(db: Database, cipher: Cipher) -> int:
    """Each stored e-mail's search hash under the current key; how many changed."""
    c = payment_orders.c
    done = 0
    last = 0
    while True:
        query = select(c.id, c.email_enc, c.email_hash).where(c.email_enc.is_not(None), c.id > last).order_by(c.id).limit(BATCH)
        async with db.write() as conn:
            rows = (await conn.execute(query)).all()
            for row_id, enc, old in rows:
                fresh = cipher.lookup_hash(cipher.decrypt(enc))
                if fresh != old:
                    result = await conn.execute(
                        update(payment_orders).where(c.id == row_id, c.email_enc == enc).values(email_hash=fresh)
                    )
                    done += result.rowcount or 0
        if len(rows) < BATCH:
            return done
        last = rows[-1][0]


async def rotate_all(db: Database, cipher: Cipher) -> dict[str, int]:
    """Re-encrypt every secret; how many per `table.column`. Stops at the first undecryptable one."""
    counts: dict[str, int] = {}
    for table, column in encrypted_columns():
        counts[f"{table.name}.{column}"] = await rotate_table(db, cipher, table, column)
    counts["payment_orders.email_hash"] = await rehash_emails(db, cipher)
    return counts


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "rotate-secrets",
        help="re-encrypt stored secrets with the current SECRET_KEY",
        description=(
            "Re-encrypt every stored secret (app tokens, license keys, payer phones, customers' e-mails) with "
            "SECRET_KEY, and compute the e-mails' search hashes with it. "
            "Run it after moving the old key to SECRET_KEY_FALLBACKS; then the old key can be dropped."
        ),
    )
    p.set_defaults(run=run)


def run(_args: argparse.Namespace) -> int:
    settings = startup_settings(writes=True)
    cipher = Cipher(settings.secret_key, settings.secret_key_fallbacks)

    async def go() -> dict[str, int]:
        db = Database(settings.database_url)
        try:
            return await rotate_all(db, cipher)
        finally:
            await db.dispose()

    try:
        counts = asyncio.run(go())
    except DecryptionError as exc:
        return fail(str(exc))
    for name, count in counts.items():
        print(f"{name}: {count} " + ("rehashed" if name.endswith("_hash") else "re-encrypted"))
    total = sum(n for name, n in counts.items() if not name.endswith("_hash"))
    print(f"{total} secrets now use SECRET_KEY; SECRET_KEY_FALLBACKS can be emptied.")
    return 0
