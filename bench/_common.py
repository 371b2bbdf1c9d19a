"""Helpers shared by the benchmark scripts (run as `python bench/NAME.py`, so `bench/` is on
sys.path and they import this as `_common`)."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
EXE = ROOT / ".venv" / "bin" / "feedback-router"


def pct(values: Sequence[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..100)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(pct(values_ms, 50), 3),
        "p95_ms": round(pct(values_ms, 95), 3),
        "p99_ms": round(pct(values_ms, 99), 3),
        "max_ms": round(max(values_ms), 3),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_dsn(url: str) -> str:
    """asyncpg wants a plain postgresql:// DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin_sql(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_dsn(server_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    out = subprocess.run(
        [str(EXE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if out.returncode != 0:
        raise RuntimeError(f"feedback-router {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


def die_with_parent() -> None:
    """Children get SIGTERM if this process dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
