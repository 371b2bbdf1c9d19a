"""The worker end to end on real Redis: routing jobs, idempotency, and the sweep."""

from __future__ import annotations

import uuid

from arq import create_pool

from schemas.items import Item, ItemEvent
from service.clients.redis import deserialize, redis_settings, serialize
from tests.builders import run_worker_burst, widget_report
from workers import items as jobs
from workers.retry import transient


async def ctx_for(settings, sessionmaker) -> dict:
    pool = await create_pool(
        redis_settings(settings.redis_url), job_serializer=serialize, job_deserializer=deserialize
    )
    return {"settings": settings, "sessionmaker": sessionmaker, "redis": pool}


async def load(sessionmaker, item_id: str) -> Item:
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
    assert item is not None
    return item


async def events(sessionmaker, item_id: str) -> list[str]:
    from sqlmodel import col, select

    async with sessionmaker() as s:
        stmt = (
            select(ItemEvent.kind)
            .where(ItemEvent.item_id == uuid.UUID(item_id))
            .order_by(col(ItemEvent.id))
        )
        return list((await s.exec(stmt)).all())


async def test_worker_routes_new_item(client, settings, sessionmaker):
    r = await widget_report(client)
    item_id = r.json()["id"]
    assert (await load(sessionmaker, item_id)).status == "new"
    await run_worker_burst(settings)
    item = await load(sessionmaker, item_id)
    assert item.status == "routed"
    assert item.authority_code == "s_aleysky_kashinsky"
    assert item.decision is not None and item.decision["reasons"]
    assert item.first_response_due_at is not None and item.resolution_due_at is not None
    assert item.first_response_due_at > item.received_at


async def test_route_job_is_idempotent(client, settings, sessionmaker):
    item_id = (await widget_report(client)).json()["id"]
    ctx = await ctx_for(settings, sessionmaker)
    try:
        assert await jobs.route(ctx, item_id) == "routed"
        assert await jobs.route(ctx, item_id) == "already"
    finally:
        await ctx["redis"].aclose()
    assert await events(sessionmaker, item_id) == ["received", "routed"]


async def test_missing_item_is_not_an_error(settings, sessionmaker):
    ctx = await ctx_for(settings, sessionmaker)
    try:
        assert await jobs.route(ctx, str(uuid.uuid4())) == "missing"
    finally:
        await ctx["redis"].aclose()


async def test_sweep_recovers_item_whose_job_redis_lost(client, settings, sessionmaker, redis):
    item_id = (await widget_report(client)).json()["id"]
    await redis.flushdb()  # Redis forgets the queued job
    await run_worker_burst(settings, cron=False)
    assert (await load(sessionmaker, item_id)).status == "new"
    ctx = await ctx_for(settings, sessionmaker)
    try:
        assert await jobs.sweep(ctx) == 1
    finally:
        await ctx["redis"].aclose()
    await run_worker_burst(settings)
    assert (await load(sessionmaker, item_id)).status == "routed"
    assert await events(sessionmaker, item_id) == ["received", "routed"]


async def test_platform_message_without_page_goes_to_triage(
    client, settings, sessionmaker, make_user
):
    svc = await make_user("service", "op_tsur")
    body = {"external_id": "pos-77", "text": "Нет воды третий день"}
    r = await client.post("/api/v1/ingest/platform-messages", json=body, headers=svc)
    await run_worker_burst(settings)
    item = await load(sessionmaker, r.json()["id"])
    assert item.status == "triage"
    assert item.authority_code == "op_tsur"


async def test_worker_start_up_sweep_recovers_lost_job(client, settings, sessionmaker, redis):
    item_id = (await widget_report(client)).json()["id"]
    await redis.flushdb()
    await run_worker_burst(settings)  # the cron sweep runs at start-up, then the routing job
    assert (await load(sessionmaker, item_id)).status == "routed"


async def test_a_failed_job_keeps_its_error_as_its_result(settings, sessionmaker):
    """arq stores a failed job's exception as its result; msgpack cannot carry one, so what
    failed was lost (with a traceback in the log about the serialiser instead)."""
    from arq.jobs import Job

    from schemas.jobs import ROUTE_ITEM

    ctx = await ctx_for(settings, sessionmaker)
    pool = ctx["redis"]
    try:
        job = await pool.enqueue_job(ROUTE_ITEM, "not-a-uuid", _job_id="broken-route")
        assert job is not None
        await run_worker_burst(settings, cron=False)
        info = await Job("broken-route", pool, _deserializer=deserialize).result_info()
    finally:
        await pool.aclose()
    assert info is not None and info.success is False
    assert isinstance(info.result, str) and info.result.startswith("ValueError: "), info.result


async def test_an_item_the_router_cannot_handle_reaches_triage_after_three_tries(
    client, settings, sessionmaker, monkeypatch
):
    """A poison item (the router raises on it every time) must not stay `new` and unseen:
    each failure is recorded, the third puts it in triage with its clocks; its neighbours
    are routed as usual."""
    real = jobs.router_for

    async def router_for(session, s):
        router = await real(session, s)

        class Poisoned:
            def route(self, given):
                if "ЯД" in given.text:
                    raise ValueError("the router cannot read this text")
                return router.route(given)

        return Poisoned()

    monkeypatch.setattr(jobs, "router_for", router_for)
    poison = (await widget_report(client, text="ЯД: не горит фонарь")).json()["id"]
    fine = (await widget_report(client, text="Не горит фонарь на Центральной")).json()["id"]
    ctx = await ctx_for(settings, sessionmaker)
    try:
        assert await jobs.route(ctx, fine) == "routed"
        outcomes = [await jobs.route(ctx, poison) for _ in range(4)]
    finally:
        await ctx["redis"].aclose()
    assert outcomes == ["failed", "failed", "triage", "already"]
    item = await load(sessionmaker, poison)
    assert (item.status, item.authority_code) == ("triage", "op_tsur")
    assert item.resolution_due_at is not None, "no clocks: the ЦУР would not be alerted"
    assert await events(sessionmaker, poison) == [
        "received",
        "routing_failed",
        "routing_failed",
        "routing_failed",
        "triaged",
    ]


def test_only_failures_of_the_item_count_towards_triage():
    from sqlalchemy.exc import DBAPIError, OperationalError

    class Driver(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    assert transient(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert transient(ConnectionResetError())
    assert transient(DBAPIError("SELECT 1", {}, Driver("08006")))
    assert transient(DBAPIError("UPDATE item", {}, Driver("40P01")))
    assert not transient(DBAPIError("INSERT", {}, Driver("22001")))  # the item's value
    assert not transient(ValueError("the router cannot read this text"))


async def test_a_router_that_cannot_be_built_counts_against_no_item(
    client, settings, sessionmaker, monkeypatch
):
    """A broken router (a corrupt model file, say) fails every item alike: the job fails and
    the sweep tries again later, but no item moves towards triage for it."""
    import pytest

    async def broken(session, s):
        raise RuntimeError("the category model cannot be read")

    monkeypatch.setattr(jobs, "router_for", broken)
    item_id = (await widget_report(client)).json()["id"]
    ctx = await ctx_for(settings, sessionmaker)
    try:
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await jobs.route(ctx, item_id)
    finally:
        await ctx["redis"].aclose()
    assert (await load(sessionmaker, item_id)).status == "new"
    assert await events(sessionmaker, item_id) == ["received"]
