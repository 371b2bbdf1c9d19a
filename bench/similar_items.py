"""Linking candidates: `GET /items/{id}/similar`'s work (service.items.linking.similar) against
an authority with many open items in PostgreSQL.

    .venv/bin/python bench/similar_items.py [--items 300000] [--open-share 0.2] [--runs 200]

A fresh database (`fr_bench_<hex>`) is migrated and given the catalog with the product's CLI;
`--items` items of one authority (`d_aleysky`) are bulk-loaded server-side, `--open-share` of
them open, received one a minute back from now, and ANALYZEd. Timed in this process, one call
at a time, after warm-up calls (asyncpg prepares statements, so the generic plan is the one
timed): the product's `similar()` for an open item — the query through the partial index
`ix_item_open_unlinked_received` and the text scoring of up to 300 candidates. The reference,
in the same run on the same data: the same call after the partial index is dropped, which is
what the query cost before the index existed. Python's collector is paused inside each timed
call. The database is dropped at the end.

Exit status 1 if the product's p99 exceeds 30 ms (the queue listing's target, for a page an
official opens beside the queue).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import admin_sql, run_cli, summary
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import OPEN_STATUSES, Item
from service.config import default_catalog_dir
from service.items.linking import similar

AUTHORITY = "d_aleysky"
TEXTS = (
    "Не горит фонарь на улице Центральной",
    "Нет воды в доме по улице Ленина",
    "Яма на дороге у школы",
    "Не вывозят мусор с контейнерной площадки",
    "Сломаны качели на детской площадке",
)


async def load(url: str, items: int, open_share: float) -> None:
    engine = create_async_engine(url)
    statuses = "ARRAY[" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES[:1]) + "]"
    texts = "ARRAY[" + ", ".join(f"'{t}'" for t in TEXTS) + "]"
    every = max(1, round(1 / open_share))
    async with engine.begin() as conn:
        await conn.execute(
            text(f"""
            INSERT INTO item (id, channel, external_id, text, source, priority, status,
                              authority_code, category, redirect_count, received_at,
                              created_at, updated_at, next_due_at)
            SELECT gen_random_uuid(), 'widget', 'bench-' || g,
                   ({texts})[1 + g % 5] || ', дом ' || g, '{{}}', 'normal',
                   CASE WHEN g % {every} = 0 THEN ({statuses})[1] ELSE 'closed' END,
                   '{AUTHORITY}', 'blag_lighting', 0, now() - g * interval '1 minute',
                   now(), now(), '2999-01-01'
            FROM generate_series(1, {items}) g""")
        )
        await conn.execute(text("ANALYZE item"))
    await engine.dispose()


async def timed(url: str, runs: int) -> dict[str, float]:
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        stmt = select(Item).where(Item.status == OPEN_STATUSES[0]).order_by(Item.received_at)
        item = (await session.exec(stmt.limit(1))).one()
        for _ in range(10):  # past asyncpg's switch to the generic plan
            await similar(session, item, 10)
        times = []
        for _ in range(runs):
            gc.collect()
            gc.disable()  # the collector's pauses are this process's, not the query's
            started = time.perf_counter()
            await similar(session, item, 10)
            times.append((time.perf_counter() - started) * 1000)
            gc.enable()
    await engine.dispose()
    return summary(times)


async def main(args: argparse.Namespace) -> int:
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    name = f"fr_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(server, f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        env = {**os.environ, "DATABASE_URL": url}
        with tempfile.TemporaryDirectory() as tmp:
            run_cli(env, Path(tmp), "migrate")
            run_cli(env, Path(tmp), "catalog", "load", str(default_catalog_dir()))
        await load(url, args.items, args.open_share)
        product = await timed(url, args.runs)
        await admin_sql(url, "DROP INDEX ix_item_open_unlinked_received")
        reference = await timed(url, args.runs)
    finally:
        await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report = {
        "items": args.items,
        "open": round(args.items * args.open_share),
        "similar (partial index)": product,
        "reference: similar without the partial index": reference,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if product["p99_ms"] <= 30 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--open-share", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=200)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
