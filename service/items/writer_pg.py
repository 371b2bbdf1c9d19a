"""The intake writer's PostgreSQL path: each table's rows as column arrays through `unnest`.

SQLAlchemy's multi-row INSERT binds every value of every row as its own parameter and its SQL
text changes with the batch size; here a batch is one statement per table whose text depends only
on which columns are set, with one array parameter per column, so asyncpg prepares it once and
encodes arrays in C. Errors are re-raised as SQLAlchemy's, so the writer and the API's error
handlers treat both paths alike (a refused row → IntegrityError, a lost server → 503).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]
Key = tuple[str, str]
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=512)
def _pg_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=_DIALECT))


@lru_cache(maxsize=512)
def _is_json(table: Table, column: str) -> bool:
    col_type = table.c[column].type
    return isinstance(col_type, JSON) or "JSON" in _pg_type(table, column)


@lru_cache(maxsize=256)
def _statement(table: Table, columns: tuple[str, ...], suffix: str) -> str:
    names = ", ".join(columns)
    arrays = ", ".join(f"${i}::{_pg_type(table, c)}[]" for i, c in enumerate(columns, 1))
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) {suffix}"


def _arrays(table: Table, rows: Sequence[Row]) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The columns set in any row (the rest default to NULL) and one value list per column."""
    columns = tuple(sorted({k for row in rows for k, v in row.items() if v is not None}))
    arrays = []
    for column in columns:
        values = [row.get(column) for row in rows]
        if _is_json(table, column):
            # SQLAlchemy's asyncpg dialect registers json/jsonb as text: serialise like it does.
            values = [None if v is None else json.dumps(v) for v in values]
        arrays.append(values)
    return columns, arrays


async def insert_batch(
    conn: AsyncConnection,
    tables: tuple[Table, Table, Table],
    rows: Sequence[tuple[Row, Row | None, Row]],
) -> tuple[set[uuid.UUID], dict[Key, Row]]:
    """Insert items (skipping taken keys), then contacts and events of the new ones; return the
    new ids and the stored rows of the keys that were taken. Runs in its own transaction."""
    item_table, contact_table, event_table = tables
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        async with driver.transaction():
            columns, arrays = _arrays(item_table, [item for item, _, _ in rows])
            sql = _statement(item_table, columns, "ON CONFLICT DO NOTHING RETURNING id")
            inserted = {record[0] for record in await driver.fetch(sql, *arrays)}
            for table, picked in (
                (contact_table, [c for i, c, _ in rows if c is not None and i["id"] in inserted]),
                (event_table, [e for i, _, e in rows if i["id"] in inserted]),
            ):
                if picked:
                    columns, arrays = _arrays(table, picked)
                    await driver.execute(_statement(table, columns, ""), *arrays)
            taken = [item for item, _, _ in rows if item["id"] not in inserted]
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
