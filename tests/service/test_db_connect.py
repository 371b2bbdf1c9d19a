"""A database server that accepts the connection but never answers costs a request or a job
CONNECT_TIMEOUT_S, not asyncpg's default 60 s (past the worker's 30 s job timeout)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from sqlalchemy import text

from service import db
from service.config import Settings


async def test_a_silent_database_server_times_out_in_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_S", 1)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepted by the kernel, never answered
    port = silent.getsockname()[1]
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none", var_dir=tmp_path
    )
    engine = db.make_engine(settings, name="test")
    started = time.monotonic()
    try:
        with pytest.raises((TimeoutError, asyncio.TimeoutError, OSError)):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
        silent.close()
    assert time.monotonic() - started < 5
