"""PostgreSQL goes away under traffic and comes back (SPEC §8): while it is gone, intake
answers 503 with Retry-After and acknowledges nothing it has not stored; afterwards it
accepts again, and every acknowledged report is in the table."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from schemas.items import Item
from tests.builders import widget_report

pytestmark = pytest.mark.usefixtures("redis")
OUTAGE_S = 3


async def _admin(url: str, *statements: str) -> None:
    # From the server's maintenance database: this test's own is the one taken away.
    engine = create_async_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        for sql in statements:
            await conn.execute(text(sql))
    await engine.dispose()


async def test_intake_through_a_database_outage(client, settings, sessionmaker):
    url = settings.effective_database_url
    if not url.startswith("postgresql"):
        pytest.skip("a server outage: PostgreSQL only")
    name = make_url(url).database
    answers: list[tuple[float, int, str, str]] = []
    window: list[float] = []  # the outage's start and end, once known

    async def traffic() -> None:
        # Until 7 s after the database is back, however long the admin steps took.
        cap = time.monotonic() + 40
        while time.monotonic() < cap and (len(window) < 2 or time.monotonic() < window[1] + 7):
            r = await widget_report(client, text="Яма на дороге у школы")
            body = r.json()
            answers.append(
                (
                    time.monotonic(),
                    r.status_code,
                    body.get("id", ""),
                    r.headers.get("retry-after", ""),
                )
            )
            await asyncio.sleep(0.05)

    async def outage() -> None:
        await asyncio.sleep(1)
        window.append(time.monotonic())
        await _admin(
            url,
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        await asyncio.sleep(OUTAGE_S)
        await _admin(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        window.append(time.monotonic())

    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the other
            group.create_task(traffic())
            group.create_task(outage())
    finally:
        await _admin(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    began, ended = window
    codes = {code for _, code, _, _ in answers}
    assert codes <= {202, 503}, answers
    during = [a for a in answers if began + 0.5 < a[0] < ended]
    assert during and all(code == 503 and retry for _, code, _, retry in during), during
    after = [code for at, code, _, _ in answers if at > ended + 5]
    assert after and set(after) == {202}, "intake did not come back within 5 s"
    acknowledged = {i for _, code, i, _ in answers if code == 202}
    async with sessionmaker() as s:
        stored = {str(i) for i in (await s.exec(select(Item.id))).all()}
    assert acknowledged <= stored, "a 202 without its row"
