"""PostgreSQL goes away while alerts fall due (SPEC §5, §8): the worker rides the outage out
and, once the database is back, delivers every alert that fell due during it, each once."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from schemas.items import Item
from tests.builders import one_minute_policy, widget_report
from tests.receiver import receiver
from tests.service.test_database_outage import _admin
from tests.workers.test_kill import spawn
from tests.workers.test_sla_delivery import endpoint

ITEMS = 4
DUE_S = 16  # the breach, after the outage; the warning falls at half of it, during the outage
OUTAGE_S = 9


async def _all_routed(sessionmaker) -> bool:
    async with sessionmaker() as s:
        statuses = (await s.exec(select(Item.status))).all()
    return len(statuses) == ITEMS and all(st == "routed" for st in statuses)


async def _until(done: Callable[[], bool], limit_s: float) -> None:
    for _ in range(int(limit_s * 10)):
        if done():
            return
        await asyncio.sleep(0.1)


async def test_alerts_due_during_a_database_outage_are_sent_after_it(
    client, settings, make_user, sessionmaker, cli_env
):
    url = settings.effective_database_url
    if not url.startswith("postgresql"):
        pytest.skip("a server outage: PostgreSQL only")
    name = make_url(url).database
    admin = await make_user("admin", "op_tsur")
    with receiver() as rec:
        await one_minute_policy(client, admin, seconds=DUE_S)
        await endpoint(client, admin, rec.url, rec.secret)
        worker = spawn(cli_env, "worker")
        try:
            for _ in range(ITEMS):
                assert (await widget_report(client)).status_code == 202
            for _ in range(200):
                if await _all_routed(sessionmaker):
                    break
                await asyncio.sleep(0.05)
            assert await _all_routed(sessionmaker), "the worker did not route the items"
            await _admin(
                url,
                f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            )
            try:
                await asyncio.sleep(OUTAGE_S)
                assert not rec.attempts, "an alert was sent without being recorded"
                assert worker.poll() is None, "the worker died in the outage"
            finally:
                await _admin(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            back = time.monotonic()
            await _until(lambda: len(rec.of_type("sla.warning")) >= ITEMS, 30)
            took = time.monotonic() - back
            await _until(lambda: len(rec.of_type("sla.breach")) >= ITEMS, 30)
        finally:
            worker.send_signal(signal.SIGTERM)
            await asyncio.to_thread(worker.wait, 30)
    for kind in ("sla.warning", "sla.breach"):
        got = rec.of_type(kind)
        assert sorted(a["item_id"] for a in got) == sorted({a["item_id"] for a in got}), kind
        assert len(got) == ITEMS, (kind, len(got), took)
    # The receiver de-duplicates by webhook id: no id carried two different alerts.
    assert all(len({(p["item_id"], p["type"]) for p in v}) == 1 for v in rec.accepted.values())
    # Well before the breach, which would have superseded the warning (docs/decisions.md).
    assert took < 5, f"the warnings came {took:.1f} s after the database was back"
