"""The intake writer's PostgreSQL path: a batch as one statement, its rows as JSON.

SQLAlchemy's multi-row INSERT binds every value of every row as its own parameter and its SQL
text changes with the batch size. Here a batch is one statement (items, their contacts and
events as data-modifying CTEs) whose text depends only on which columns are set, with one JSON
array parameter per table, read with the table's own row type, so asyncpg prepares it once.
Errors are re-raised as SQLAlchemy's, so the writer and the API's error handlers treat both
paths alike (a refused row → IntegrityError, a lost server → 503).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from sqlalchemy import Table
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]
Key = tuple[str, str]


def _names(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _rows_of(table: Table, columns: tuple[str, ...], param: int, where: str = "") -> str:
    # A table's own row type reads the JSON objects: types come from the table, not the client.
    return (
        f"INSERT INTO {table.name} ({_names(columns)}) SELECT {_names(columns)} "
        f"FROM json_populate_recordset(NULL::{table.name}, ${param}::json) AS r {where}"
    )


@lru_cache(maxsize=256)
def _statement(
    tables: tuple[Table, Table, Table], item: tuple[str, ...], *others: tuple[str, ...]
) -> str:
    """One statement for the batch: the items, then the contact and event rows of the items
    that were inserted (a taken key inserts nothing), answering the new ids. One statement is
    one implicit transaction and one round trip; BEGIN, three inserts and COMMIT were five, and
    each costs the API a send and a wake-up while it waits (docs/benchmarks.md)."""
    parts = [f"new AS ({_rows_of(tables[0], item, 1)} ON CONFLICT DO NOTHING RETURNING id)"]
    where = "WHERE r.item_id IN (SELECT id FROM new)"
    present = [(t, columns) for t, columns in zip(tables[1:], others, strict=True) if columns]
    for n, (table, columns) in enumerate(present, 2):
        parts.append(f"t{n} AS ({_rows_of(table, columns, n, where)})")
    return f"WITH {', '.join(parts)} SELECT id FROM new"


def _document(rows: Sequence[Row]) -> tuple[tuple[str, ...], str]:
    """The columns the rows set (the others keep their defaults) and the rows as one JSON array.

    One JSON text instead of an array parameter per column: orjson serialises the batch in one
    call (~1.5 µs an item) and the database parses it, on its own core, where asyncpg spent
    ~35 µs of the API's CPU per item checking and encoding ~35 arrays element by element
    (docs/benchmarks.md).
    """
    columns = tuple(sorted(set().union(*rows)))
    try:
        return columns, orjson.dumps(rows).decode()
    except orjson.JSONEncodeError as exc:
        if "not JSON serializable" in str(exc):
            raise  # a type our own code put into a row: a bug for the logs (500), not a 422
        # A value JSON cannot carry (a lone surrogate, an integer past 64 bits): the item's
        # fault, like a value the column refuses. (NaN and infinities would become null:
        # validation refuses them, and `NewItem` drops a non-finite point.)
        raise DataError("intake batch", None, exc) from exc


async def insert_batch(
    conn: AsyncConnection,
    tables: tuple[Table, Table, Table],
    rows: Sequence[tuple[Row, Row | None, Row]],
) -> tuple[set[uuid.UUID], dict[Key, Row]]:
    """Insert items (skipping taken keys) with the contacts and events of the new ones, in one
    statement (its own transaction); return the new ids and the stored rows of the keys that
    were taken."""
    item_table = tables[0]
    # In key order: batches of several API processes take the unique index's row locks in one
    # order, so two that share keys (a client's retry beside its first try) wait, not deadlock.
    rows = sorted(rows, key=lambda r: (r[0]["channel"], r[0]["external_id"]))
    contacts = [c for _, c, _ in rows if c is not None]
    columns, params = [], []
    for part in ([item for item, _, _ in rows], contacts, [e for _, _, e in rows]):
        names, document = _document(part) if part else ((), "")
        columns.append(names)
        if part:
            params.append(document)
    sql = _statement(tables, *columns)
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        inserted = {record[0] for record in await driver.fetch(sql, *params)}
        taken = [item for item, _, _ in rows if item["id"] not in inserted]
        # Keys taken by another transaction are committed by now: ON CONFLICT waited for it.
        existing = await _lookup(driver, item_table, taken) if taken else {}
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError("intake batch", None, exc) from exc
    except asyncpg.DataError as exc:
        # A value a column cannot hold (out of range, NUL): one item's fault, not an outage.
        raise DataError("intake batch", None, exc) from exc
    except (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        # A connection the server dropped can also leave the protocol in this state.
        asyncpg.InternalClientError,
        OSError,
    ) as exc:
        raise OperationalError("intake batch", None, exc) from exc
    return inserted, existing


async def _lookup(driver: asyncpg.Connection, table: Table, items: Sequence[Row]) -> dict[Key, Row]:
    keys = sorted({(i["channel"], i["external_id"]) for i in items})
    sql = (
        f"SELECT id, channel, external_id, status, received_at, request_hash FROM {table.name} "
        "WHERE (channel, external_id) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))"
    )
    records = await driver.fetch(sql, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["channel"], r["external_id"]): dict(r) for r in records}
