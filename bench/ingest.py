"""Durable ingest on PostgreSQL: requests/s and latency beside a bare FastAPI endpoint.

    .venv/bin/python bench/ingest.py [--duration 15] [--warmup 3] [--rounds 3]
                                     [--connections 32] [--workers 1]
                                     [--endpoints widget,comments]

What runs, all on 127.0.0.1:
- a fresh PostgreSQL database (`fr_bench_<hex>`), migrated and given the catalog with the
  product's own CLI (`feedback-router migrate`, `catalog load`), dropped at the end;
- Redis db 11 (flushed at the start and the end): the API enqueues a routing job per item
  after its commit; no worker runs, so the jobs only pile up there;
- `feedback-router api --workers W` (the real API: middleware, unit of work, commit before
  the 2xx) with WIDGET_RATE_LIMIT_PER_IP=0 so the per-client limiter does not refuse the load;
- the reference: `bench/_bare_app.py` in its own uvicorn process, the same routes validating
  the same pydantic bodies (`WidgetReportIn`, `CommentIn`) and answering 202, nothing stored;
- the load generator `wrk` (apt package; one thread, `--connections` keep-alive connections,
  closed loop) with a Lua script that gives every request a unique Idempotency-Key (widget) or
  comment_id (comments) and writes the id of every 2xx answer to a file.

For each endpoint: the reference and the API each `--warmup` s unmeasured, then `--rounds`
rounds of the reference and the API back to back (`--duration / --rounds` s each), so both see
the same machine load; api/bare is the median of the rounds' ratios (this host's speed drifts
by tens of percent within minutes, and one long pair read the drift as much as the code).
Afterwards every id the API answered 2xx with must be a row of `item` (durable = committed
before the 2xx).

Latency is wrk's (send -> full response, per request, at saturation with `--connections` in
flight): with a closed loop, latency ~ connections / throughput, so p99 is checked at the
load that gives the throughput figure, the hardest reading of the target.

Exit status 1 if any endpoint gives < 60 % of the reference's requests/s, a p99 > 50 ms, a
non-2xx answer, or a 2xx without its row. Bounded: ~4 x (warmup + duration) s plus ~15 s of
set-up; every process started here is stopped on any exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
import httpx  # noqa: E402
from _common import admin_sql, die_with_parent, free_port, interrupt, run_cli, server_dsn  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from service.config import default_catalog_dir  # noqa: E402

SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/11"
CATALOG_DIR = default_catalog_dir()
VENV_BIN = ROOT / ".venv" / "bin"
EXE = VENV_BIN / "feedback-router"
PAGE = "vk:club_s_aleysky_kashinsky"
TARGET_RATIO = 0.60
TARGET_P99_MS = 50.0
PATHS = {"widget": "/api/v1/widget/reports", "comments": "/api/v1/ingest/comments"}

# One Lua state per wrk thread. Every request gets a unique key; every 2xx writes its id to a
# per-thread file (line-buffered: wrk exits without closing the threads' Lua states).
LUA = r"""
local kind, tag, idprefix = "%(kind)s", "%(tag)s", "%(idprefix)s"
local token, page = "%(token)s", "%(page)s"
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  ok, bad, statuses, counter = 0, 0, "", 0
  idfile = io.open(idprefix .. "-" .. tid .. ".txt", "w")
  idfile:setvbuf("line")
end

function request()
  counter = counter + 1
  local key = tag .. "-" .. tid .. "-" .. counter
  local body
  if kind == "widget" then
    wrk.headers["Idempotency-Key"] = key
    body = '{"page_id":"' .. page .. '","consent":true,' ..
      '"text":"На улице Центральной у дома 12 неделю не горит фонарь, вечером темно. ' .. key ..
      '","address":"с. Кашино, ул. Центральная, 12",' ..
      '"contact":{"name":"Иван Петров","phone":"+79130000000"}}'
  else
    body = '{"network":"vk","page_id":"' .. page .. '","post_id":"4711","comment_id":"' ..
      key .. '","author":{"id":"id1234567","name":"Иван Петров"},' ..
      '"text":"Когда починят дорогу на Партизанской? Ямы по колено. ' .. key ..
      '","created_at":"2026-11-28T10:00:00+07:00"}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    local id = string.match(body, '"id":"([%%x%%-]+)"')
    if id then idfile:write(id, "\n") end
  else
    bad = bad + 1
    if #statuses < 60 then statuses = statuses .. status .. " " end
  end
end

function done(summary, latency, requests)
  local ok_all, bad_all, st = 0, 0, ""
  for _, t in ipairs(threads) do
    ok_all = ok_all + t:get("ok")
    bad_all = bad_all + t:get("bad")
    st = st .. t:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"ok":%%d,"bad":%%d,"bad_statuses":"%%s",' ..
    '"errors":%%d,"timeouts":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
    '"mean_us":%%.1f}\n',
    summary.requests, summary.duration, ok_all, bad_all, st,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
"""


@dataclass
class Run:
    endpoint: str
    target: str  # "bare" or "api"
    requests: int
    duration_s: float
    ok: int
    bad: int
    bad_statuses: str
    errors: int
    timeouts: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    ids_file_prefixes: tuple[str, ...] = ()


@dataclass
class Result:
    endpoint: str
    bare: Run
    api: Run
    # api/bare of each round: a round measures the two back to back, so a drift in the
    # machine's speed (host steal moves by tens of percent within minutes) hits both alike.
    round_ratios: list[float] = field(default_factory=list)
    rows_found: int = 0
    ids_returned: int = 0
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if self.round_ratios:
            return statistics.median(self.round_ratios)
        return self.api.rps / max(self.bare.rps, 1e-9)


def combine(runs: list[Run]) -> Run:
    """The rounds of one server as one run: totals, rates over the summed time; p50/p95 the
    median of the rounds, p99 and max the worst round (the hardest reading of the target)."""
    requests, duration = sum(r.requests for r in runs), sum(r.duration_s for r in runs)
    return Run(
        endpoint=runs[0].endpoint,
        target=runs[0].target,
        requests=requests,
        duration_s=round(duration, 2),
        ok=sum(r.ok for r in runs),
        bad=sum(r.bad for r in runs),
        bad_statuses=" ".join(r.bad_statuses for r in runs if r.bad_statuses),
        errors=sum(r.errors for r in runs),
        timeouts=sum(r.timeouts for r in runs),
        rps=round(requests / max(duration, 1e-9), 1),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p95_ms=statistics.median(r.p95_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
        max_ms=max(r.max_ms for r in runs),
        mean_ms=round(sum(r.mean_ms * r.requests for r in runs) / max(requests, 1), 3),
        ids_file_prefixes=tuple(p for r in runs for p in r.ids_file_prefixes),
    )


# --- processes -------------------------------------------------------------------------------


class Processes:
    """The servers this run started; each is stopped by its own pid, never by name."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env, self.logdir = env, logdir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with (self.logdir / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.logdir,  # no stray .env file is picked up, nothing written to the repo
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
                # Its own process group: uvicorn --workers forks children that must go too.
                start_new_session=True,
            )
        self.procs.append((name, proc))
        return proc

    def stop_all(self, grace_s: float = 10) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the group this run created
        for _, proc in self.procs:
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.logdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")


def wait_healthy(procs: Processes, base: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    with httpx.Client(base_url=base, timeout=5, trust_env=False) as client:
        while True:
            procs.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if client.get("/healthz").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base} did not answer /healthz within {limit_s:.0f} s")
            time.sleep(0.2)


# --- load ------------------------------------------------------------------------------------


def wrk(
    base: str,
    endpoint: str,
    target: str,
    *,
    seconds: float,
    connections: int,
    token: str,
    tmp: Path,
    tag: str,
) -> Run:
    idprefix = str(tmp / f"ids-{tag}")
    script = tmp / f"{tag}.lua"
    script.write_text(
        LUA % {"kind": endpoint, "tag": tag, "idprefix": idprefix, "token": token, "page": PAGE},
        encoding="utf-8",
    )
    argv = [
        "wrk",
        "-t1",  # one thread drives 32 connections easily; the cores are for the servers
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base + PATHS[endpoint],
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    d = json.loads(line.removeprefix("WRKJSON "))
    dur = d["duration_us"] / 1e6
    return Run(
        endpoint=endpoint,
        target=target,
        requests=d["requests"],
        duration_s=round(dur, 2),
        ok=d["ok"],
        bad=d["bad"],
        bad_statuses=d["bad_statuses"].strip(),
        errors=d["errors"],
        timeouts=d["timeouts"],
        rps=round(d["requests"] / dur, 1),
        p50_ms=d["p50_us"] / 1000,
        p95_ms=d["p95_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
        max_ms=d["max_us"] / 1000,
        mean_ms=round(d["mean_us"] / 1000, 3),
        ids_file_prefixes=(idprefix,),
    )


def read_ids(prefixes: tuple[str, ...]) -> list[str]:
    ids: list[str] = []
    for prefix in prefixes:
        for f in sorted(Path(prefix).parent.glob(Path(prefix).name + "-*.txt")):
            ids.extend(ln.strip() for ln in f.read_text().splitlines() if ln.strip())
    return ids


async def rows_present(dsn: str, ids: list[str]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM item WHERE id = ANY($1::uuid[])", ids))
    finally:
        await conn.close()


# --- database lifecycle ----------------------------------------------------------------------


async def flush_redis(url: str) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


# --- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, db_url: str, tmp: Path) -> list[Result]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "WIDGET_RATE_LIMIT_PER_IP": "0",
        "LOG_LEVEL": "WARNING",
        "CATALOG_DIR": str(CATALOG_DIR),
        "VAR_DIR": str(tmp / "var"),
        # Set as production must; unset, every widget request reads var/secret.key from disk.
        "SECRET_KEY": "bench-secret",
    }
    run_cli(env, tmp, "migrate")
    run_cli(env, tmp, "catalog", "load", str(CATALOG_DIR))
    out = run_cli(
        env, tmp, "users", "create", "--role", "service", "--authority", "op_tsur",
        "--name", "bench-ingest",
    )  # fmt: skip
    token = out.strip().splitlines()[-1]

    procs = Processes(env, tmp)
    api_port, bare_port = free_port(), free_port()
    results: list[Result] = []
    try:
        procs.start(
            "api",
            [str(EXE), "api", "--host", "127.0.0.1", "--port", str(api_port),
             "--workers", str(args.workers)],
        )  # fmt: skip
        procs.start(
            "bare",
            [str(VENV_BIN / "python"), "-m", "uvicorn", "_bare_app:app",
             "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(bare_port),
             "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
        )  # fmt: skip
        bases = {"api": f"http://127.0.0.1:{api_port}", "bare": f"http://127.0.0.1:{bare_port}"}
        for base in bases.values():
            wait_healthy(procs, base)
        run_tag = uuid.uuid4().hex[:8]
        for endpoint in args.endpoints:
            results.append(measure(args, bases, endpoint, procs, token=token, tmp=tmp, tag=run_tag))
    except BaseException:
        for log in sorted(tmp.glob("*.log")):
            print(f"--- {log.name} (tail)\n{log.read_text(errors='replace')[-2000:]}")
        raise
    finally:
        procs.stop_all()

    dsn = server_dsn(db_url)
    for res in results:
        ids = read_ids(res.api.ids_file_prefixes)
        res.ids_returned = len(ids)
        res.rows_found = asyncio.run(rows_present(dsn, ids)) if ids else 0
        res.checks = {
            "ratio": res.ratio >= TARGET_RATIO,
            "p99": res.api.p99_ms <= TARGET_P99_MS,
            "all_2xx": res.api.bad == 0 and res.api.errors == 0 and res.api.timeouts == 0,
            # Every 2xx carried an id, distinct, and each id is a committed row.
            "durable": res.ids_returned == res.api.ok
            and len(set(ids)) == len(ids)
            and res.rows_found == len(ids),
        }
    return results


def measure(
    args: argparse.Namespace,
    bases: dict[str, str],
    endpoint: str,
    procs: Processes,
    *,
    token: str,
    tmp: Path,
    tag: str,
) -> Result:
    """Both servers warmed up, then `--rounds` rounds of the bare endpoint and the API back to
    back, `--duration / --rounds` seconds each."""

    def load(target: str, seconds: float, label: str) -> Run:
        run = wrk(
            bases[target], endpoint, target, seconds=seconds, connections=args.connections,
            token=token, tmp=tmp, tag=f"{label}{tag}{endpoint[0]}{target[0]}",
        )  # fmt: skip
        procs.check_alive()
        return run

    for target in ("bare", "api"):
        load(target, args.warmup, "w")  # pool connections, prepared statements, caches
    rounds: dict[str, list[Run]] = {"bare": [], "api": []}
    for n in range(args.rounds):
        for target in ("bare", "api"):
            r = load(target, args.duration / args.rounds, f"m{n}")
            rounds[target].append(r)
            print(
                f"  {endpoint:<8} {target:<4} round {n + 1}: {r.rps:>8.1f} req/s"
                f"  p50 {r.p50_ms:6.1f}  p99 {r.p99_ms:6.1f} ms  non-2xx {r.bad}"
                f"  errors {r.errors}",
                flush=True,
            )
    ratios = [a.rps / max(b.rps, 1e-9) for b, a in zip(rounds["bare"], rounds["api"], strict=True)]
    return Result(endpoint, combine(rounds["bare"]), combine(rounds["api"]), round_ratios=ratios)


def table(results: list[Result]) -> str:
    head = (
        f"{'endpoint':<9} {'server':<5} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        f" {'max ms':>7} {'2xx':>7} {'non-2xx':>7} {'rows':>7} {'api/bare':>8}"
    )
    lines = [head, "-" * len(head)]
    for res in results:
        for r in (res.bare, res.api):
            api = r is res.api
            lines.append(
                f"{r.endpoint:<9} {r.target:<5} {r.rps:>8.1f} {r.p50_ms:>7.2f} {r.p95_ms:>7.2f}"
                f" {r.p99_ms:>7.2f} {r.max_ms:>7.1f} {r.ok:>7} {r.bad:>7}"
                f" {res.rows_found if api else '-':>7}"
                f" {f'{res.ratio:.0%}' if api else '':>8}"
            )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per server")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each")
    p.add_argument("--rounds", type=int, default=3, help="bare/API alternations sharing --duration")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections (wrk -c)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn processes for both servers")
    p.add_argument("--endpoints", default="widget,comments", help="comma-separated subset")
    p.add_argument("--server-url", default=os.environ.get("BENCH_PG_URL", SERVER_URL))
    p.add_argument("--redis-url", default=REDIS_URL, help="its database is flushed")
    args = p.parse_args()
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    if not set(args.endpoints) <= set(PATHS) or not args.endpoints:
        p.error(f"--endpoints: a subset of {','.join(PATHS)}")
    if not 2 <= args.duration <= 60 or not 0 <= args.warmup <= 10:
        p.error("keep it bounded: --duration 2..60, --warmup 0..10")
    if not 1 <= args.rounds <= 10 or args.duration / args.rounds < 2:
        p.error("--rounds 1..10, and at least 2 s of --duration per round")
    if not 1 <= args.connections <= 256 or not 1 <= args.workers <= 4:
        p.error("keep it bounded: --connections 1..256, --workers 1..4")
    redis_url = urlsplit(args.redis_url)
    if make_url(args.server_url).host != "127.0.0.1" or redis_url.hostname != "127.0.0.1":
        p.error("this benchmark only connects to 127.0.0.1")
    if redis_url.path.strip("/") in ("", "0"):
        p.error("--redis-url must name a database other than 0: the benchmark flushes it")
    if shutil.which("wrk") is None:
        p.error("wrk is not installed (apt-get install -y wrk)")

    name = f"fr_bench_{uuid.uuid4().hex[:10]}"
    db_url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
    started = time.perf_counter()
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the finally blocks stop the servers.
    signal.signal(signal.SIGTERM, interrupt)
    asyncio.run(flush_redis(args.redis_url))
    asyncio.run(admin_sql(args.server_url, f'CREATE DATABASE "{name}"'))
    print(f"database {name}, redis {args.redis_url}, {args.workers} uvicorn process(es)")
    try:
        with tempfile.TemporaryDirectory(prefix="fr-bench-") as tmpdir:
            results = run(args, db_url, Path(tmpdir))
    finally:
        asyncio.run(admin_sql(args.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        with contextlib.suppress(Exception):
            asyncio.run(flush_redis(args.redis_url))

    ok = all(all(r.checks.values()) for r in results)
    load = os.getloadavg()
    print()
    print(table(results))
    print(
        f"\nwrk: 1 thread, {args.connections} keep-alive connections (closed loop),"
        f" {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured per server in"
        f" {args.rounds} rounds of bare then API (api/bare: the median round);"
        f" {args.workers} uvicorn process(es) each."
        f"\nbare: bench/_bare_app.py validates the same pydantic body and answers 202."
        f"\nrows: ids answered 2xx by the API found in table item afterwards."
        f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on"
        f" {os.cpu_count()} CPUs (shared machine)."
    )
    for r in results:
        failed = [k for k, v in r.checks.items() if not v]
        rounds = ", ".join(f"{x:.0%}" for x in r.round_ratios)
        print(
            f"target {r.endpoint}: api/bare {r.ratio:.0%} (rounds {rounds}; >= {TARGET_RATIO:.0%}),"
            f" p99 {r.api.p99_ms:.1f} ms (<= {TARGET_P99_MS:.0f})"
            f" -> {'MET' if not failed else 'MISSED: ' + ', '.join(failed)}"
        )
    report = {
        "bench": "ingest",
        "ok": ok,
        "target_ratio": TARGET_RATIO,
        "target_p99_ms": TARGET_P99_MS,
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
        "results": [
            {
                "endpoint": r.endpoint,
                "api_over_bare": round(r.ratio, 3),
                "rows_found": r.rows_found,
                "ids_returned": r.ids_returned,
                "checks": r.checks,
                "round_ratios": [round(x, 3) for x in r.round_ratios],
                "bare": {k: v for k, v in asdict(r.bare).items() if k != "ids_file_prefixes"},
                "api": {k: v for k, v in asdict(r.api).items() if k != "ids_file_prefixes"},
            }
            for r in results
        ],
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
