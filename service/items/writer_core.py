"""The intake writer's portable path (SQLite): multi-row Core inserts in one transaction.

The same rows and answers as the PostgreSQL path (`writer_pg.py`); a test checks both store what
the ORM path stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

Row = dict[str, Any]
Key = tuple[str, str]


def _uniform(rows: list[Row]) -> list[Row]:
    """Rows without their NULL columns (a third of an item's columns are NULL at intake, and
    each bound parameter costs), padded back only where rows of the batch differ."""
    compact = [{k: v for k, v in row.items() if v is not None} for row in rows]
    keys = set().union(*compact)
    return [r if len(r) == len(keys) else {k: r.get(k) for k in keys} for r in compact]


def _insert(conn: AsyncConnection, table: Table) -> Insert:
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return postgresql.insert(table).on_conflict_do_nothing()


async def insert_batch(
    conn: AsyncConnection,
    tables: tuple[Table, Table, Table],
    rows: Sequence[tuple[Row, Row | None, Row]],
) -> tuple[set[uuid.UUID], dict[Key, Row]]:
    """Insert items (skipping taken keys), then the contacts and events of the new ones; return
    the new ids and the stored rows of the keys that were taken."""
    item_table, contact_table, event_table = tables
    async with conn.begin():
        stmt = _insert(conn, item_table).returning(item_table.c.id)
        items = _uniform([item for item, _, _ in rows])
        inserted = set((await conn.execute(stmt, items)).scalars())
        contacts = [c for i, c, _ in rows if c is not None and i["id"] in inserted]
        if contacts:
            await conn.execute(contact_table.insert(), _uniform(contacts))
        events = [e for i, _, e in rows if i["id"] in inserted]
        if events:
            await conn.execute(event_table.insert(), _uniform(events))
        others = [item for item, _, _ in rows if item["id"] not in inserted]
        existing = await _lookup(conn, item_table, others) if others else {}
    return inserted, existing


async def _lookup(conn: AsyncConnection, table: Table, items: list[Row]) -> dict[Key, Row]:
    """The stored rows for keys that were already taken (by an earlier or the same batch)."""
    keys = {(i["channel"], i["external_id"]) for i in items}
    c = table.c
    match = or_(*(and_(c.channel == ch, c.external_id == ext) for ch, ext in keys))
    stmt = select(c.id, c.channel, c.external_id, c.status, c.received_at, c.request_hash)
    found = (await conn.execute(stmt.where(match))).mappings().all()
    return {(row["channel"], row["external_id"]): dict(row) for row in found}
