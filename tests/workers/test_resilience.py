"""Nothing acknowledged is lost: intake works with Redis down; the sweep routes it later."""

from __future__ import annotations

import uuid

import httpx
import pytest

from schemas.items import Item
from service.main import create_app
from service.runner import free_port
from tests.builders import SETTLEMENT, run_worker_burst, widget_report


async def test_intake_with_redis_down_then_routed(settings, sessionmaker):
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(dead)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            accepted = [await widget_report(c) for _ in range(3)]
            ready = await c.get("/readyz")
    assert [r.status_code for r in accepted] == [202, 202, 202]
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("error")
    await run_worker_burst(settings)  # the start-up sweep finds the items nobody enqueued
    async with sessionmaker() as s:
        items = [await s.get(Item, uuid.UUID(r.json()["id"])) for r in accepted]
    assert all(i is not None and i.status == "routed" for i in items)
    assert all(i is not None and i.authority_code == SETTLEMENT for i in items)


def test_a_job_of_a_killed_worker_runs_again_within_forty_seconds(settings):
    """arq locks a started job for its longest function timeout + 10 s; a job whose worker
    was killed runs again only after that. With the purge's 600 s, an item being routed at a
    kill -9 waited ten minutes."""
    from workers.main import create_worker

    worker = create_worker(settings, handle_signals=False)
    assert worker.in_progress_timeout_s <= 40


@pytest.mark.parametrize(
    ("seconds", "fields"),
    [
        (2, {"second": set(range(0, 60, 2))}),
        (30, {"second": {0, 30}}),
        (45, {"second": {0, 30}}),  # evenly spaced, rounded down: not 0 and 45
        (300, {"minute": set(range(0, 60, 5)), "second": {0}}),  # every five minutes
        (3600, {"minute": {0}, "second": {0}}),
    ],
)
def test_intervals_become_evenly_spaced_cron_fields(seconds, fields):
    """300 s was the seconds {0, 59}: two polls a second apart, then 59 s of nothing."""
    from workers.main import _every

    assert _every(seconds) == fields
