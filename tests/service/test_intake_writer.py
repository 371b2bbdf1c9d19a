"""Group commit: concurrent reports share transactions, and every answer follows its commit."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from schemas.items import Contact, Item, ItemEvent
from service.errors import Unprocessable
from service.items.intake import NewItem
from service.items.writer import IntakeWriter
from tests.builders import SETTLEMENT_PAGE, widget_report

QUEUE = "arq:queue"


def _batches() -> float:
    return REGISTRY.get_sample_value("intake_batches_total") or 0.0


async def _queued(redis, expected: int, limit_s: float = 5.0) -> int:
    """The queue's length once it reaches `expected` (or at `limit_s`), and briefly after that
    (a second job for the same item would show)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    for _ in range(int(limit_s / 0.01)):  # polling: Redis has no change event to wait for
        if await redis.zcard(QUEUE) >= expected or loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    return int(await redis.zcard(QUEUE))


async def _between_good_ones(writer: IntakeWriter, bad: NewItem) -> list:
    """`bad` stored in one batch between two good items, then the writer closed."""
    try:
        return await asyncio.gather(
            writer.store(_new(SETTLEMENT_PAGE)),
            writer.store(bad),
            writer.store(_new(SETTLEMENT_PAGE)),
            return_exceptions=True,
        )
    finally:
        await writer.close()


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()[0]


async def test_concurrent_reports_share_transactions(client, sessionmaker, redis):
    before = _batches()
    contact = {"name": "Иван", "email": "ivan@example.com"}
    answers = await asyncio.gather(
        *(widget_report(client, key=f"k-{i}", contact=contact, consent=True) for i in range(60))
    )
    assert [a.status_code for a in answers] == [202] * 60
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 60
    assert await _count(sessionmaker, Item) == 60
    assert await _count(sessionmaker, Contact) == 60
    assert await _count(sessionmaker, ItemEvent) == 60
    # One routing job per new item, after the commit (sent beside the next batch's commit, so
    # it may land just after the answer).
    assert await _queued(redis, 60) == 60
    # Fewer transactions than requests: the writer grouped them.
    assert 1 <= _batches() - before < 60


async def test_same_key_in_one_batch_is_stored_once(client, sessionmaker, redis):
    answers = await asyncio.gather(*(widget_report(client, key="same-key") for _ in range(10)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _count(sessionmaker, Item) == 1
    assert await _count(sessionmaker, ItemEvent) == 1
    assert await _queued(redis, 1) == 1


async def test_same_key_other_body_in_one_batch(client, sessionmaker):
    answers = await asyncio.gather(
        widget_report(client, key="twice", text="не горит фонарь на Мира"),
        widget_report(client, key="twice", text="яма на дороге на Мира"),
    )
    assert sorted(a.status_code for a in answers) == [202, 422]
    assert await _count(sessionmaker, Item) == 1


def _new(page_id: str | None, external_id: str | None = None) -> NewItem:
    return NewItem(
        channel="comment",
        external_id=external_id or uuid.uuid4().hex,
        text="не горит фонарь",
        page_id=page_id,
    )


async def test_a_bad_item_does_not_fail_its_batch(engine, sessionmaker):
    writer = IntakeWriter(engine, None)
    try:
        # The page check is skipped here on purpose: the database itself refuses the bad row.
        results = await asyncio.gather(
            writer.store(_new(SETTLEMENT_PAGE)),
            writer.store(_new("vk:club_gone")),
            writer.store(_new(SETTLEMENT_PAGE)),
            return_exceptions=True,
        )
    finally:
        await writer.close()
    assert isinstance(results[1], Unprocessable)
    assert all(not isinstance(r, BaseException) and r.created for r in (results[0], results[2]))
    assert await _count(sessionmaker, Item) == 2


async def test_close_answers_what_is_waiting(engine, sessionmaker):
    writer = IntakeWriter(engine, None)
    pending = [asyncio.ensure_future(writer.store(_new(SETTLEMENT_PAGE))) for _ in range(5)]
    await asyncio.sleep(0)
    await writer.close()
    stored = await asyncio.gather(*pending)
    assert all(s.created for s in stored)
    assert await _count(sessionmaker, Item) == 5


@pytest.mark.parametrize("size", [1, 7])
async def test_comment_batches_land_whole(client, make_user, sessionmaker, size):
    from tests.builders import comment

    auth = {"Authorization": (await make_user("service", "op_tsur"))["Authorization"]}
    body = [comment() for _ in range(size)]
    r = await client.post("/api/v1/ingest/comments", json=body, headers=auth)
    assert r.status_code == 202, r.text
    assert len(r.json()["items"]) == size
    again = await client.post("/api/v1/ingest/comments", json=body, headers=auth)
    assert again.status_code == 200
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in r.json()["items"]]
    assert await _count(sessionmaker, Item) == size


async def test_writer_rows_equal_the_orm_path(engine, sessionmaker):
    """The writer builds rows without ORM objects; they must match what `store_item` stores."""
    from service.db import UnitOfWork
    from service.items.intake import store_item

    contact = {"name": "Иван", "email": "ivan@example.com", "consent": True}
    via_writer = _new(SETTLEMENT_PAGE)
    via_writer.contact = contact
    writer = IntakeWriter(engine, None)
    try:
        stored = await writer.store(via_writer)
    finally:
        await writer.close()
    via_orm = _new(SETTLEMENT_PAGE)
    via_orm.contact = contact
    async with sessionmaker() as session:
        uow = UnitOfWork(session, None)
        orm_item, _ = await store_item(uow, via_orm)
        await uow.commit()
    skip = {"id", "item_id", "external_id", "received_at", "created_at", "updated_at", "at"}

    async def columns(item_id):
        async with sessionmaker() as s:
            rows = [
                await s.get(Item, item_id),
                await s.get(Contact, item_id),
                (await s.exec(select(ItemEvent).where(ItemEvent.item_id == item_id))).one()[0],
            ]
        return [{k: v for k, v in r.model_dump().items() if k not in skip} for r in rows]

    assert await columns(stored.id) == await columns(orm_item.id)


async def test_database_down_is_a_503_not_a_500(settings):
    import httpx

    from service.main import create_app
    from service.runner import free_port

    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(settings.model_copy(update={"database_url": dead}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await widget_report(c)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "change",
    [
        # Past validation (say, a connector's own code path): 0001-01-01 at +00:01 has no UTC
        # form (PostgreSQL, sent as JSON, would store it as a year BC).
        {"source_created_at": dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(minutes=1)))},
        # A lone surrogate (Python's json accepts the escape): neither JSON nor UTF-8 carry it.
        {"text": "фонарь \ud800"},
    ],
    ids=["no-utc-form", "lone-surrogate"],
)
async def test_a_value_the_database_cannot_hold_fails_only_its_item(engine, sessionmaker, change):
    bad = dataclasses.replace(_new(SETTLEMENT_PAGE), **change)
    results = await _between_good_ones(IntakeWriter(engine, None), bad)
    assert isinstance(results[1], Unprocessable), results[1]
    assert "cannot be stored" in results[1].detail
    assert all(not isinstance(r, BaseException) and r.created for r in (results[0], results[2]))
    assert await _count(sessionmaker, Item) == 2


@pytest.mark.parametrize("lat", [math.nan, math.inf, -math.inf])
async def test_a_non_finite_point_from_a_channel_is_stored_as_no_location(
    engine, sessionmaker, lat
):
    writer = IntakeWriter(engine, None)
    try:
        bad = dataclasses.replace(_new(SETTLEMENT_PAGE), lat=lat, lon=83.7)
        good = dataclasses.replace(_new(SETTLEMENT_PAGE), lat=52.5, lon=82.78)
        stored = await asyncio.gather(writer.store(bad), writer.store(good))
    finally:
        await writer.close()
    async with sessionmaker() as session:
        rows = (await session.exec(select(Item.id, Item.lat, Item.lon))).all()
    assert {r[0]: (r[1], r[2]) for r in rows} == {
        stored[0].id: (None, None),
        stored[1].id: (52.5, 82.78),
    }


@pytest.mark.parametrize("pause", [0.0, 0.2])
async def test_a_lost_connection_is_replaced_without_failing_the_batch(engine, sessionmaker, pause):
    """The writer keeps its connection between batches; when the server drops it (a restart
    while idle), the next batch is written on a new one and no request sees an error. The
    driver fails differently depending on whether it has read the server's goodbye yet."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the held connection is the PostgreSQL path")
    writer = IntakeWriter(engine, None)
    try:
        first = await writer.store(_new(SETTLEMENT_PAGE))
        held = writer._conn
        assert held is not None
        pid = (await held.get_raw_connection()).driver_connection.get_server_pid()
        async with engine.connect() as admin:
            await admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        await asyncio.sleep(pause)
        second = await writer.store(_new(SETTLEMENT_PAGE))
        assert writer._conn is not None and writer._conn is not held
    finally:
        await writer.close()
    assert first.created and second.created
    assert await _count(sessionmaker, Item) == 2
    assert writer._conn is None  # closed with the writer


async def test_a_retry_after_a_lost_commit_answer_still_counts_as_new(
    engine, sessionmaker, monkeypatch
):
    """The connection drops after COMMIT but before its answer: the retry finds the rows the
    first try committed, and they are still this batch's new items (their ids are ours)."""
    from sqlalchemy.exc import OperationalError

    from service.items import writer as writer_module

    real = writer_module.insert_batch
    calls = 0

    async def commit_then_fail(*args, **kwargs):
        nonlocal calls
        calls += 1
        result = await real(*args, **kwargs)
        if calls == 1:
            raise OperationalError("commit answer lost", None, ConnectionResetError())
        return result

    if engine.dialect.name != "postgresql":
        pytest.skip("the held connection is the PostgreSQL path")
    monkeypatch.setattr(writer_module, "insert_batch", commit_then_fail)
    sink = _Sink()
    writer = IntakeWriter(engine, sink)
    try:
        stored = await writer.store(_new(SETTLEMENT_PAGE))
    finally:
        await writer.close()
    assert calls == 2 and stored.created
    assert [j.args for j in sink.jobs] == [(str(stored.id),)]  # routed, not left to the sweep
    assert await _count(sessionmaker, Item) == 1


async def test_a_writer_cancelled_mid_batch_answers_its_requests(engine, monkeypatch):
    from service.errors import Conflict
    from service.items import writer as writer_module

    started = asyncio.Event()

    async def stuck(*args, **kwargs):
        started.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(writer_module, "insert_batch", stuck)
    monkeypatch.setattr(writer_module, "insert_core", stuck)
    writer = IntakeWriter(engine, None)
    request = asyncio.ensure_future(writer.store(_new(SETTLEMENT_PAGE)))
    await asyncio.wait_for(started.wait(), 5)
    assert writer._task is not None
    writer._task.cancel()
    with pytest.raises(Conflict):  # "retry shortly", not a request left waiting forever
        await asyncio.wait_for(request, 5)


class _Sink:
    def __init__(self) -> None:
        self.jobs: list = []

    async def enqueue_many(self, jobs) -> None:
        self.jobs += jobs


async def test_enqueue_many_takes_every_job_of_a_batch(settings, redis):
    """One script call per batch, in arq's own format; a job deferred to a moment long past
    (Redis refuses a negative expiry) does not stop the jobs after it."""
    from arq.jobs import Job

    from service.clients.redis import QueueClient, deserialize
    from service.queue import PendingJob

    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    jobs = [
        PendingJob("items.route", ("a",), "job-past", past),
        PendingJob("items.route", ("b",), "job-now"),
        PendingJob("items.route", ("b",), "job-now"),  # a repeat changes nothing
    ]
    queue = QueueClient(settings.redis_url)
    try:
        await queue.enqueue_many(jobs)
        pool = await queue.pool()
        info = await Job("job-now", pool, _deserializer=deserialize).info()
    finally:
        await queue.close()
    # Both queued (the past one with a job key that expires at once: arq's "expired" job).
    assert await redis.zcard(QUEUE) == 2
    assert info is not None and info.function == "items.route" and list(info.args) == ["b"]


async def test_a_batch_stores_contacts_and_events_of_its_new_items_only(engine, sessionmaker):
    """One statement on PostgreSQL: items, then the contact and event rows of the items that
    were inserted. A batch with one contact among three items, then one whose keys are taken."""
    with_contact = dataclasses.replace(
        _new(SETTLEMENT_PAGE), contact={"name": "Иван", "email": "ivan@example.com"}
    )
    batch = [_new(SETTLEMENT_PAGE), with_contact, _new(SETTLEMENT_PAGE)]
    writer = IntakeWriter(engine, None)
    try:
        first = await asyncio.gather(*(writer.store(n) for n in batch))
        again = await asyncio.gather(*(writer.store(n) for n in batch))
    finally:
        await writer.close()
    assert [s.created for s in first] == [True] * 3
    assert [(s.id, s.created) for s in again] == [(s.id, False) for s in first]
    assert await _count(sessionmaker, Item) == 3
    assert await _count(sessionmaker, Contact) == 1
    assert await _count(sessionmaker, ItemEvent) == 3
    async with sessionmaker() as s:
        contact = (await s.exec(select(Contact))).one()[0]
    assert (contact.item_id, contact.email) == (first[1].id, "ivan@example.com")


async def test_a_request_cancelled_while_it_waits_leaves_its_batch_whole(engine, sessionmaker):
    """A client that hangs up cancels its request's wait, not the write: its item is committed,
    and its neighbours in the batch are answered as usual."""
    writer = IntakeWriter(engine, None)
    try:
        gone = asyncio.ensure_future(writer.store(_new(SETTLEMENT_PAGE)))
        stays = asyncio.ensure_future(writer.store(_new(SETTLEMENT_PAGE)))
        await asyncio.sleep(0)  # both handed over; the batch is not committed yet
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert (await asyncio.wait_for(stays, 5)).created
    finally:
        await writer.close()
    assert await _count(sessionmaker, Item) == 2


class _CountingSink(_Sink):
    def __init__(self, gate: asyncio.Event | None = None) -> None:
        super().__init__()
        self.calls = 0
        self.gate = gate

    async def enqueue_many(self, jobs) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        await super().enqueue_many(jobs)


async def test_a_batch_written_item_by_item_enqueues_its_jobs_in_one_call(engine):
    bad = dataclasses.replace(_new(SETTLEMENT_PAGE), text="фонарь \ud800")
    sink = _CountingSink()
    results = await _between_good_ones(IntakeWriter(engine, sink), bad)
    assert isinstance(results[1], Unprocessable)
    assert sink.calls == 1
    stored = [(str(r.id),) for r in (results[0], results[2])]
    assert sorted(j.args for j in sink.jobs) == sorted(stored)


async def test_the_writer_waits_for_a_slow_redis_instead_of_piling_up_calls(engine):
    from service.items.writer import MAX_ENQUEUING

    gate = asyncio.Event()
    sink = _CountingSink(gate)
    writer = IntakeWriter(engine, sink)
    try:
        for _ in range(MAX_ENQUEUING + 1):  # each answered; its jobs wait at the gate
            await asyncio.wait_for(writer.store(_new(SETTLEMENT_PAGE)), 5)
        late = asyncio.ensure_future(writer.store(_new(SETTLEMENT_PAGE)))
        done, _ = await asyncio.wait({late}, timeout=0.3)
        assert not done and sink.calls == MAX_ENQUEUING + 1  # the writer waits for Redis
        gate.set()
        assert (await asyncio.wait_for(late, 5)).created
    finally:
        gate.set()
        await writer.close()
    assert len(sink.jobs) == MAX_ENQUEUING + 2


async def test_the_queue_pool_is_made_once_for_callers_arriving_together(settings):
    from service.clients.redis import QueueClient

    queue = QueueClient(settings.redis_url)
    try:
        pools = await asyncio.gather(*(queue.pool() for _ in range(5)))
    finally:
        await queue.close()
    assert all(p is pools[0] for p in pools)
