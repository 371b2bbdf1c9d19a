"""Queue listing: first page of GET /api/v1/queue with 1,000,000 items in PostgreSQL.

    .venv/bin/python bench/queue_listing.py [--items 1000000] [--big 100000] [--big-open 2000]
                                    [--runs 300] [--keep-db]

A fresh database (`fr_bench_<hex>`) is migrated and given the catalog with the product's CLI,
then items are bulk-loaded server-side (`INSERT ... SELECT generate_series`, real page and
authority FKs) and ANALYZEd:
- `d_aleysky` (a district administration) holds `--big` items, `--big-open` of them open
  (routed / in_progress / awaiting_citizen / reopened, deadlines from 2 days overdue to 10 days
  ahead), the rest answered / closed / rejected with `next_due_at` = the 2999-01-01 sentinel;
- `c_barnaul` holds `--big` / 2 items of which only 20 are open: a drained queue, where a first
  page of 50 cannot be filled from the open rows alone;
- the other authorities share the rest, ~0.3 % open.

Timed, through the real API (`feedback-router api`, one uvicorn process) on one keep-alive
connection, one request at a time (latency = service time, no queueing), round-robin so every
series sees the same machine load: the first page (default limit 50) for a responder of
d_aleysky, a responder of c_barnaul, a supervisor of d_aleysky (its subtree: the district and
its settlements) and an operator (everything); the reference is `GET /healthz` on the same
connection in the same rounds. Python's collector is paused inside each timed request in this
(client) process only.

The queue's SQL is rebuilt with the product's own `service.items.queue._conditions` and shown
with EXPLAIN (ANALYZE, BUFFERS), as a custom plan and as the generic plan a prepared statement
(asyncpg prepares everything) may settle on.

Exit status 1 if a responder's first page has p99 > 30 ms, or its plans do not read
`ix_item_open_authority_due` (the partial index over open items). On the shared 2-core
machine loading 1M rows takes ~40-90 s and the
whole run ~2-3 minutes. The database is dropped at the end (unless --keep-db).

Not named bench/queue.py: a script's own directory is first on sys.path, so a bench/queue.py
would shadow the standard library's `queue` (imported by httpx/anyio, redis, logging) for every
script in bench/, and they would fail at import.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
import httpx  # noqa: E402
from _common import (  # noqa: E402
    admin_sql,
    die_with_parent,
    free_port,
    interrupt,
    run_cli,
    server_dsn,
    summary,
)
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from schemas.items import Item  # noqa: E402
from service.catalog.service import subtree  # noqa: E402
from service.config import Settings, default_catalog_dir  # noqa: E402
from service.db import make_engine, make_sessionmaker  # noqa: E402
from service.items.queue import QueueFilter, _conditions  # noqa: E402

SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CATALOG_DIR = default_catalog_dir()
EXE = ROOT / ".venv" / "bin" / "feedback-router"
INDEX = "ix_item_open_authority_due"
TARGET_MS = 30.0
BIG = "d_aleysky"
DRAINED = "c_barnaul"
DRAINED_OPEN = 20
CHUNK = 250_000  # rows per INSERT: progress output and bounded transactions
PAGE_LIMIT = 50  # the API's default page size


@dataclass
class Viewer:
    label: str
    role: str
    authority: str
    token: str = ""
    scope: set[str] | None = None  # what the product's visible_authorities gives
    times_ms: list[float] = field(default_factory=list)
    returned: int = 0
    plan: str = ""
    generic_plan: str = ""
    exec_ms: float = 0.0
    generic_exec_ms: float = 0.0

    @property
    def responder(self) -> bool:
        return self.role == "responder"


# --- processes ---------------------------------------------------------------------------------


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    """Stop the API this run started, by its own pid."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- data ------------------------------------------------------------------------------------


def catalog_pages() -> tuple[list[str], dict[str, str]]:
    """Authority codes (except the two named ones) and each authority's first page, if any."""
    with (CATALOG_DIR / "authorities.csv").open(encoding="utf-8") as f:
        codes = [r["code"] for r in csv.DictReader(f)]
    pages: dict[str, str] = {}
    with (CATALOG_DIR / "pages.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            pages.setdefault(r["authority_code"], r["page_id"])
    return [c for c in codes if c not in (BIG, DRAINED)], pages


async def load_items(dsn: str, items: int, big: int, big_open: int) -> float:
    """Bulk-load `items` rows server-side; returns the seconds it took (with ANALYZE)."""
    others, pages = catalog_pages()
    other_pages = [pages.get(c) for c in others]
    # Item g belongs to BIG when g % step_big == 0, to DRAINED when g % step_big == 1 and g
    # falls on every other such slot; the rest go round the other authorities.
    step_big = max(2, items // big)
    big_every_open = max(1, big // max(big_open, 1))
    drained_every_open = max(1, (big // 2) // DRAINED_OPEN)
    sql = f"""
    WITH rows AS (
        SELECT g,
               CASE WHEN g % {step_big} = 0 THEN 'big'
                    WHEN g % {step_big} = 1 AND (g / {step_big}) % 2 = 0 THEN 'drained'
                    ELSE 'other' END AS who,
               now() - random() * interval '400 days' AS recv
        FROM generate_series($1::int, $2::int) AS g
    ), typed AS (
        SELECT g, who, recv,
               CASE who
                 WHEN 'big' THEN (g / {step_big}) % {big_every_open} = 0
                 WHEN 'drained' THEN (g / {step_big} / 2) % {drained_every_open} = 0
                 ELSE g % 300 = 7 END AS is_open,
               CASE who WHEN 'big' THEN '{BIG}' WHEN 'drained' THEN '{DRAINED}'
                 ELSE ($3::text[])[1 + (g::bigint * 7919 % cardinality($3::text[]))::int]
               END AS auth,
               CASE who WHEN 'big' THEN $5::text WHEN 'drained' THEN $6::text
                 ELSE ($4::text[])[1 + (g::bigint * 7919 % cardinality($4::text[]))::int]
               END AS page
        FROM rows
    ), dated AS (
        SELECT *, CASE WHEN is_open
                    THEN now() - interval '2 days' + random() * interval '12 days'
                  END AS due
        FROM typed
    )
    INSERT INTO item (
        id, channel, network, external_id, page_id, text, source, category, priority,
        actionable, authority_code, status, redirect_count, received_at, created_at, updated_at,
        routed_at, first_response_due_at, resolution_due_at, next_due_at,
        first_responded_at, answered_at, closed_at
    )
    SELECT gen_random_uuid(), 'widget', 'site', 'bench-' || g, page,
           'Не горит фонарь на улице Центральной у дома ' || g, '{{}}'::jsonb,
           (ARRAY['roads_potholes','lighting','waste','water','heating'])[1 + g % 5],
           CASE WHEN g % 17 = 0 THEN 'high' ELSE 'normal' END, true, auth,
           CASE WHEN is_open THEN
                (ARRAY['routed','in_progress','awaiting_citizen','reopened'])[1 + g % 4]
                ELSE (ARRAY['closed','closed','answered','rejected'])[1 + g % 4] END,
           0, recv, recv, recv, recv,
           COALESCE(due, recv + interval '1 day'), COALESCE(due, recv) + interval '30 days',
           COALESCE(due, '2999-01-01T00:00:00Z'::timestamptz),
           CASE WHEN is_open THEN NULL ELSE recv + interval '5 hours' END,
           CASE WHEN is_open THEN NULL ELSE recv + interval '3 days' END,
           CASE WHEN is_open THEN NULL ELSE recv + interval '4 days' END
    FROM dated
    """
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT setseed(0.42)")  # same spread of dates on every run
        for first in range(1, items + 1, CHUNK):
            last = min(first + CHUNK - 1, items)
            await conn.execute(
                sql, first, last, others, other_pages, pages.get(BIG), pages.get(DRAINED)
            )
            print(f"  loaded {last:>9,} rows  ({time.perf_counter() - started:5.1f} s)", flush=True)
        await conn.execute("ANALYZE item")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def distribution(dsn: str) -> dict[str, dict[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f"""
            SELECT CASE WHEN authority_code IN ('{BIG}', '{DRAINED}') THEN authority_code
                        ELSE 'others' END AS who,
                   count(*) AS total,
                   count(*) FILTER (WHERE next_due_at < '2999-01-01') AS open
            FROM item GROUP BY 1 ORDER BY 1
            """
        )
        size = await conn.fetchval("SELECT pg_total_relation_size('item') / 1048576")
    finally:
        await conn.close()
    out = {r["who"]: {"items": int(r["total"]), "open": int(r["open"])} for r in rows}
    out["table_mb"] = {"total": int(size)}
    return out


# --- the queue's SQL and its plans -------------------------------------------------------------


async def scopes(db_url: str, viewers: list[Viewer]) -> None:
    """The authority set each viewer gets, from the product's own scope rule."""
    engine = make_engine(Settings(database_url=db_url, catalog_dir=CATALOG_DIR), name="bench")
    try:
        async with make_sessionmaker(engine)() as session:
            for v in viewers:
                if v.role == "responder":
                    v.scope = {v.authority}
                elif v.role == "supervisor":
                    v.scope = await subtree(session, v.authority)
                else:
                    v.scope = None
    finally:
        await engine.dispose()


def queue_sql(scope: set[str] | None) -> tuple[str, list[Any]]:
    """The first-page statement as list_queue builds it, with $n parameters in order."""
    stmt = (
        select(Item)
        .where(*_conditions(QueueFilter(limit=PAGE_LIMIT), scope))
        .order_by(col(Item.next_due_at), col(Item.id))
        .limit(PAGE_LIMIT + 1)
    )
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[k] for k in compiled.positiontup or []]
    # The asyncpg dialect renders $n placeholders with explicit casts: asyncpg runs it as is.
    return str(compiled), params


def literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"unexpected parameter {value!r}")


def exec_ms(plan: str) -> float:
    for line in plan.splitlines():
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return float("nan")


def uses_index(plan: str) -> bool:
    return bool(re.search(r"Index (Only )?Scan.*\b" + INDEX, plan)) and "Seq Scan on item" not in (
        plan
    )


async def explain(dsn: str, v: Viewer) -> None:
    sql, params = queue_sql(v.scope)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
        v.plan = "\n".join(r[0] for r in rows)
        await conn.execute(f"PREPARE bench_queue AS {sql}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        args = ", ".join(literal(p) for p in params)
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_queue({args})")
        v.generic_plan = "\n".join(r[0] for r in rows)
    finally:
        await conn.close()
    v.exec_ms, v.generic_exec_ms = exec_ms(v.plan), exec_ms(v.generic_plan)


# --- timing ----------------------------------------------------------------------------------


async def timed_get(client: httpx.AsyncClient, url: str, token: str | None) -> tuple[float, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    gc.disable()  # a collection in this client would be charged to the server
    try:
        t0 = time.perf_counter()
        r = await client.get(url, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
    finally:
        gc.enable()
    r.raise_for_status()
    return elapsed, r.json()


async def measure(base: str, viewers: list[Viewer], runs: int, warmup: int) -> list[float]:
    healthz: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:
        for i in range(warmup + runs):
            # Round-robin: every series sees the same moments of the shared machine's load.
            for v in viewers:
                ms, body = await timed_get(client, "/api/v1/queue", v.token)
                if i >= warmup:
                    v.times_ms.append(ms)
                v.returned = len(body["items"])
            ms, _ = await timed_get(client, "/healthz", None)
            if i >= warmup:
                healthz.append(ms)
    return healthz


async def wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, timeout=5, trust_env=False) as client:
        while True:
            if proc.poll() is not None:
                tail = log.read_bytes()[-3000:].decode(errors="replace")  # noqa: ASYNC240
                raise RuntimeError(f"the API exited:\n{tail}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("the API did not start within 60 s")
            await asyncio.sleep(0.2)


# --- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, db_url: str, tmp: Path) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "LOG_LEVEL": "WARNING",
        "CATALOG_DIR": str(CATALOG_DIR),
        "VAR_DIR": str(tmp / "var"),
        "SECRET_KEY": "bench-secret",
    }
    dsn = server_dsn(db_url)
    run_cli(env, tmp, "migrate")
    run_cli(env, tmp, "catalog", "load", str(CATALOG_DIR))
    print(f"loading {args.items:,} items ...", flush=True)
    load_s = asyncio.run(load_items(dsn, args.items, args.big, args.big_open))
    dist = asyncio.run(distribution(dsn))
    print(f"  {json.dumps(dist)}", flush=True)

    viewers = [
        Viewer(f"responder {BIG}", "responder", BIG),
        Viewer(f"responder {DRAINED} (drained)", "responder", DRAINED),
        Viewer(f"supervisor {BIG} (subtree)", "supervisor", BIG),
        Viewer("operator (all)", "operator", "op_tsur"),
    ]
    for n, v in enumerate(viewers):
        out = run_cli(
            env, tmp, "users", "create", "--role", v.role, "--authority", v.authority,
            "--name", f"bench-queue-{n}",
        )  # fmt: skip
        v.token = out.strip().splitlines()[-1]
    asyncio.run(scopes(db_url, viewers))

    port = free_port()
    log = tmp / "api.log"
    with log.open("wb") as out_f:
        proc = subprocess.Popen(
            [str(EXE), "api", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp,  # no stray .env file is picked up, nothing written to the repo
            stdout=out_f,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_healthy(proc, base, log))
        healthz = asyncio.run(measure(base, viewers, args.runs, args.warmup))
    except BaseException:
        print(f"--- api.log (tail)\n{log.read_text(errors='replace')[-2000:]}")
        raise
    finally:
        stop(proc)

    for v in viewers:
        asyncio.run(explain(dsn, v))
        print(f"\n-- {v.label}: EXPLAIN (ANALYZE, BUFFERS), custom plan\n{v.plan}")
        print(f"\n-- {v.label}: generic plan (prepared statement)\n{v.generic_plan}")
    sql, params = queue_sql(viewers[0].scope)
    print(f"\n-- the statement (responder {BIG}):\n{sql}\n{params}")
    return {
        "load_s": round(load_s, 1),
        "distribution": dist,
        "viewers": viewers,
        "healthz": summary(healthz),
    }


def table(report: dict[str, Any]) -> str:
    head = (
        f"{'GET /api/v1/queue, first page':<36} {'rows':>4} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'max ms':>7} {'exec ms':>8} {'generic':>8}  {'plan reads ' + INDEX:<34}"
    )
    lines = [head, "-" * len(head)]
    for v in report["viewers"]:
        s = summary(v.times_ms)
        yes = ("no", "yes")
        plan = f"{yes[uses_index(v.plan)]} / {yes[uses_index(v.generic_plan)]}"
        lines.append(
            f"{v.label:<36} {v.returned:>4} {s['p50_ms']:>7.2f} {s['p95_ms']:>7.2f}"
            f" {s['p99_ms']:>7.2f} {s['max_ms']:>7.1f} {v.exec_ms:>8.2f} {v.generic_exec_ms:>8.2f}"
            f"  {plan + ' (custom / generic)':<34}"
        )
    h = report["healthz"]
    lines.append(
        f"{'reference: GET /healthz':<36} {'':>4} {h['p50_ms']:>7.2f} {h['p95_ms']:>7.2f}"
        f" {h['p99_ms']:>7.2f} {h['max_ms']:>7.1f}"
    )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--items", type=int, default=1_000_000, help="items in the database")
    p.add_argument("--big", type=int, default=100_000, help="items of d_aleysky")
    p.add_argument("--big-open", type=int, default=2000, help="open items of d_aleysky")
    p.add_argument("--runs", type=int, default=300, help="timed requests per viewer")
    p.add_argument("--warmup", type=int, default=20, help="untimed rounds first")
    p.add_argument("--server-url", default=os.environ.get("BENCH_PG_URL", SERVER_URL))
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="not written to")
    p.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = p.parse_args()
    if not 10_000 <= args.items <= 2_000_000 or not 1000 <= args.big <= args.items // 4:
        p.error("keep it bounded: --items 10k..2M, --big 1000..items/4")
    if not 1 <= args.runs <= 2000 or not 0 < args.big_open <= args.big:
        p.error("--runs 1..2000, --big-open 1..big")
    if make_url(args.server_url).host != "127.0.0.1":
        p.error("this benchmark only connects to 127.0.0.1")

    name = f"fr_bench_{uuid.uuid4().hex[:10]}"
    db_url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, interrupt)  # unwind so the finally blocks clean up
    asyncio.run(admin_sql(args.server_url, f'CREATE DATABASE "{name}"'))
    print(f"database {name}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="fr-bench-") as tmpdir:
            report = run(args, db_url, Path(tmpdir))
    finally:
        if not args.keep_db:
            asyncio.run(
                admin_sql(args.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )

    viewers: list[Viewer] = report["viewers"]
    checks = {
        v.label: summary(v.times_ms)["p99_ms"] <= TARGET_MS
        and uses_index(v.plan)
        and uses_index(v.generic_plan)
        for v in viewers
        if v.responder
    }
    ok = all(checks.values())
    load = os.getloadavg()
    elapsed = time.perf_counter() - started
    print()
    print(table(report))
    print(
        f"\none keep-alive connection, one request at a time, {args.runs} rounds (after"
        f" {args.warmup} warm-up rounds) of every series plus /healthz, round-robin;"
        f"\nexec ms: server Execution Time of the rebuilt query (custom plan / generic plan);"
        f"\nload of {args.items:,} items took {report['load_s']} s;"
        f" load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on"
        f" {os.cpu_count()} CPUs (shared machine)."
    )
    for label, good in checks.items():
        print(
            f"target {label}: p99 <= {TARGET_MS:.0f} ms, index used"
            f" -> {'MET' if good else 'MISSED'}"
        )
    out = {
        "bench": "queue",
        "ok": ok,
        "target_p99_ms": TARGET_MS,
        "checks": checks,
        "items": args.items,
        "load_s": report["load_s"],
        "distribution": report["distribution"],
        "elapsed_s": round(elapsed, 1),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
        "healthz": report["healthz"],
        "viewers": [
            {
                "label": v.label,
                "role": v.role,
                "authority": v.authority,
                "scope_size": None if v.scope is None else len(v.scope),
                "rows": v.returned,
                **summary(v.times_ms),
                "exec_ms": v.exec_ms,
                "generic_exec_ms": v.generic_exec_ms,
                "plan_uses_index": uses_index(v.plan),
                "generic_plan_uses_index": uses_index(v.generic_plan),
            }
            for v in viewers
        ],
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
