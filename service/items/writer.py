"""Group commit for intake: the reports that arrive while one transaction commits share the next.

A durable 2xx needs a COMMIT, and a COMMIT per request (plus ~7 ORM statements around it) was
what capped intake at ~140 requests/s (docs/benchmarks.md, "Ingest"). Here each request hands
its new item to the process's writer and waits; the writer inserts everything waiting in one
transaction (on PostgreSQL one statement), starts enqueuing the routing jobs in one Redis round
trip (awaited beside the next batch's commit), and answers every waiting request. Nothing is
answered before its row is committed, and a request never waits for more than the batch in
flight plus its own.

Duplicates are settled by the unique (channel, external_id) constraint: rows that conflict are
skipped by ``ON CONFLICT DO NOTHING`` and answered with the stored row. When a batch fails as a
whole (say, a page deleted between the request's check and the insert), its items are retried
one per transaction, so one bad item cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from prometheus_client import Counter, Histogram
from pydantic_core import PydanticUndefined
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from schemas.base import UTCDateTime
from schemas.items import Channel, Contact, Item, ItemEvent
from schemas.jobs import ROUTE_ITEM, route_job_id
from service.errors import Conflict, Unprocessable
from service.items.intake import NewItem, item_fields, received_event_data
from service.items.references import References
from service.items.writer_core import insert_batch as insert_core
from service.items.writer_pg import insert_batch
from service.queue import INTAKE_REDIS_TIMEOUT_S, PendingJob

log = structlog.get_logger()
BATCHES = Counter("intake_batches_total", "Group-commit transactions of the intake writer")
BATCH_SIZE = Histogram(
    "intake_batch_size", "Items per intake transaction", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)

MAX_BATCH = 500
# Batches' enqueue calls in flight before the writer waits for Redis.
MAX_ENQUEUING = 4
Row = dict[str, Any]
Rows = tuple[Row, Row | None, Row]
Key = tuple[str, str]
_ITEM: Table = Item.__table__  # type: ignore[attr-defined]
_CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
_EVENT: Table = ItemEvent.__table__  # type: ignore[attr-defined]
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_UTC_TYPE = UTCDateTime()  # source_created_at's column type


@dataclass(frozen=True, slots=True)
class Stored:
    """What a request needs to answer: the row that holds its item, and whether it is new."""

    id: uuid.UUID
    status: str
    received_at: datetime
    request_hash: str | None
    created: bool


class BatchSink(Protocol):
    async def enqueue_many(self, jobs: Sequence[PendingJob]) -> None: ...


@dataclass(slots=True)
class _Waiting:
    new: NewItem
    future: asyncio.Future[Stored]


def _defaults(model: type[SQLModel]) -> Callable[[], dict[str, Any]]:
    """Column defaults as the model declares them, for rows built without ORM objects (an ORM
    object costs ~0.3 ms to construct; intake builds three per item)."""
    static: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            factories[name] = info.default_factory  # type: ignore[assignment]
        elif info.default is not PydanticUndefined and info.default is not None:
            static[name] = info.default
    return lambda: {**static, **{name: make() for name, make in factories.items()}}


_ITEM_DEFAULTS = _defaults(Item)
_CONTACT_DEFAULTS = _defaults(Contact)
_EVENT_DEFAULTS = _defaults(ItemEvent)


def _rows(new: NewItem) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """The same rows as `intake.build_rows`, as plain dicts for multi-row Core inserts."""
    item = {**_ITEM_DEFAULTS(), **item_fields(new)}
    if new.source_created_at is not None:
        item["source_created_at"] = _utc(new.source_created_at)
    contact = None
    if new.contact and any(new.contact.values()):
        contact = {**_CONTACT_DEFAULTS(), **new.contact, "item_id": item["id"]}
    event = _EVENT_DEFAULTS()
    event.update(
        item_id=item["id"],
        kind="received",
        to_status=item["status"],
        data=received_event_data(new),
    )
    return item, contact, event


def _utc(moment: datetime) -> datetime:
    """Through the column type's own bind step, which the PostgreSQL path (rows sent as JSON)
    skips: an instant with no UTC form (0001-01-01 at +00:01) must be refused here, not stored
    as a year BC that no reader can load."""
    try:
        bound = _UTC_TYPE.process_bind_param(moment, _DIALECT)
    except (ValueError, OverflowError) as exc:
        raise DataError("intake row", None, exc) from exc
    assert isinstance(bound, datetime)
    return bound


class IntakeWriter:
    """One per process (and event loop); started on first use, drained by `close`."""

    def __init__(self, engine: AsyncEngine, sink: BatchSink | None, *, max_batch: int = MAX_BATCH):
        self._engine = engine
        self._sink = sink
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._conn: AsyncConnection | None = None
        self._enqueuing: set[asyncio.Task[None]] = set()

    async def store(self, new: NewItem) -> Stored:
        """Returns once the item (or the row that already had its key) is committed."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # First use, or a new event loop (tests, a restarted server): start afresh on it.
            self._loop, self._wakeup, self._task = loop, asyncio.Event(), None
            self._conn = None  # a connection belongs to the loop it was made on
            self._enqueuing = set()  # so do tasks
        future: asyncio.Future[Stored] = loop.create_future()
        self._waiting.append(_Waiting(new, future))
        if self._task is None or self._task.done():
            # A context of its own: the writer outlives the request that started it, and must
            # not log with that request's id.
            self._task = asyncio.create_task(
                self._run(), name="intake-writer", context=contextvars.Context()
            )
        self._wakeup.set()
        # A request cancelled while it waits cancels only its future: the writer owns the
        # write, commits the item all the same, and answers only futures still waiting.
        return await future

    async def known(self, channel: str, external_id: str) -> bool:
        async with self._engine.connect() as conn:
            return (await conn.execute(_key_stmt(channel, external_id))).first() is not None

    async def close(self) -> None:
        """Write and answer everything waiting, let the batch in flight finish, then stop."""
        self._closing = True
        task = self._task
        if task is not None and not task.done() and self._loop is asyncio.get_running_loop():
            self._wakeup.set()
            await task  # `_run` returns once nothing is waiting
        if self._loop is not asyncio.get_running_loop():
            self._conn = None
        while self._waiting:  # no task (never started, or another loop): drain here
            await self._drain_once()
        loop = asyncio.get_running_loop()
        enqueuing = [task for task in self._enqueuing if task.get_loop() is loop]
        if enqueuing:
            await asyncio.gather(*enqueuing, return_exceptions=True)
        await self._drop_connection(invalidate=False)

    async def _run(self) -> None:
        while True:
            if not self._waiting:
                if self._closing:
                    await self._drop_connection(invalidate=False)  # a store after close
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
            while self._waiting:
                await self._drain_once()

    async def _drain_once(self) -> None:
        batch = self._waiting[: self._max_batch]
        del self._waiting[: self._max_batch]
        BATCHES.inc()
        BATCH_SIZE.observe(len(batch))
        try:
            await self._write(batch)
            while len(self._enqueuing) > MAX_ENQUEUING:
                # Redis slower than the database: wait for it rather than pile up calls.
                await asyncio.wait(self._enqueuing, return_when=asyncio.FIRST_COMPLETED)
        except Exception as exc:  # the loop must survive anything a batch throws
            if not isinstance(exc, Unprocessable):
                log.exception("intake.writer.failed", size=len(batch))
            _fail(batch, exc)
        except BaseException:  # cancelled mid-batch (a shutdown): no request may wait forever
            _fail(batch, _retry())
            raise

    async def _write(self, batch: list[_Waiting], *, enqueue: bool = True) -> list[uuid.UUID]:
        """Commit the batch, enqueue the routing jobs of its new items, answer its requests;
        return the new items' ids."""
        try:
            results = await self._commit([w.new for w in batch])
        except (StatementError, UnicodeError) as exc:
            if not _row_fault(exc):
                raise  # the database itself: the whole batch fails (503), nothing is half-done
            # One item's bad row must not fail the requests that shared its transaction.
            if len(batch) == 1:
                raise Unprocessable(_row_detail(batch[0].new, exc)) from None
            created = await self._one_by_one(batch)
            if enqueue:
                self._enqueue_soon(created)  # one call for the batch, as for a whole one
            return created
        created = [s.id for s in results if s is not None and s.created]
        if enqueue:
            self._enqueue_soon(created)
        for waiting, stored in zip(batch, results, strict=True):
            if waiting.future.done():
                continue
            if stored is None:
                # Its key was taken by a transaction that then vanished: rare; the client retries.
                waiting.future.set_exception(_retry())
            else:
                waiting.future.set_result(stored)
        return created

    async def _one_by_one(self, batch: list[_Waiting]) -> list[uuid.UUID]:
        created: list[uuid.UUID] = []
        for waiting in batch:
            try:
                created += await self._write([waiting], enqueue=False)
            except Exception as exc:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
        return created

    def _enqueue_soon(self, created: list[uuid.UUID]) -> None:
        """Beside the next batch's commit, which need not wait for Redis. Started before the
        requests are answered, so its first step (usually as far as the send) runs before
        theirs."""
        if not created or self._sink is None:
            return
        task = asyncio.create_task(self._enqueue(created))
        self._enqueuing.add(task)
        task.add_done_callback(self._enqueuing.discard)

    async def _enqueue(self, created: list[uuid.UUID]) -> None:
        assert self._sink is not None
        jobs = [PendingJob(ROUTE_ITEM, (str(i),), route_job_id(str(i))) for i in created]
        try:
            async with asyncio.timeout(INTAKE_REDIS_TIMEOUT_S):
                await self._sink.enqueue_many(jobs)
        except Exception as exc:  # a TimeoutError too: a paused Redis must not hold intake
            # The rows are committed; the periodic sweep enqueues what Redis did not take.
            log.warning("queue.enqueue_failed", jobs=len(jobs), error=repr(exc)[:200])

    async def _commit(self, batch: list[NewItem]) -> list[Stored | None]:
        rows = [_rows(new) for new in batch]
        if self._engine.dialect.name == "postgresql":
            inserted, existing = await self._insert_pg(rows)
        else:
            async with self._engine.connect() as conn:
                inserted, existing = await insert_core(conn, (_ITEM, _CONTACT, _EVENT), rows)
        out: list[Stored | None] = []
        for item, _, _ in rows:
            found = item if item["id"] in inserted else existing.get(_key(item))
            # Our own id found in place: a retry after a COMMIT whose answer was lost.
            out.append(None if found is None else _stored(found, found["id"] == item["id"]))
        return out

    async def _insert_pg(self, rows: list[Rows]) -> tuple[set[uuid.UUID], dict[Key, Row]]:
        """On the writer's own connection, kept between batches: a pool checkout costs a ping
        and a reset (two round trips) per batch. A connection that fails is dropped and the
        batch tried once more on a new one (the server may have restarted while it was idle);
        a second try is safe, because a row the first one committed is found, not doubled."""
        try:
            return await self._insert_held(rows)
        except OperationalError:
            return await self._insert_held(rows)

    async def _insert_held(self, rows: list[Rows]) -> tuple[set[uuid.UUID], dict[Key, Row]]:
        if self._conn is None:
            self._conn = await self._engine.connect()
        try:
            return await insert_batch(self._conn, (_ITEM, _CONTACT, _EVENT), rows)
        except OperationalError:
            await self._drop_connection()
            raise

    async def _drop_connection(self, *, invalidate: bool = True) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if invalidate:
                    await conn.invalidate()
                await conn.close()
            except Exception as exc:  # already broken: nothing to hand back
                log.debug("intake.writer.connection_dropped", error=str(exc)[:200])


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    for waiting in batch:
        if not waiting.future.done():
            waiting.future.set_exception(exc)


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return row["channel"], row["external_id"]


def _stored(row: dict[str, Any], created: bool) -> Stored:
    return Stored(row["id"], row["status"], row["received_at"], row["request_hash"], created)


def _retry() -> Conflict:
    return Conflict(
        "the same request is being processed; retry shortly", headers={"Retry-After": "1"}
    )


def _row_fault(exc: Exception) -> bool:
    """A refused row (constraint, a value the column cannot hold, a value no bind can convert,
    text no encoding can carry: SQLite's driver raises that one bare), as opposed to the
    database being unreachable or failing."""
    if isinstance(exc, IntegrityError | DataError | UnicodeError):
        return True
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)


def _key_stmt(channel: str, external_id: str) -> Any:
    return select(_ITEM.c.id).where(_ITEM.c.channel == channel, _ITEM.c.external_id == external_id)


def _row_detail(new: NewItem, exc: Exception) -> str:
    if not isinstance(exc, IntegrityError):
        return "a value of the item cannot be stored (out of range or not valid text)"
    return f"the item refers to something that no longer exists (page_id {new.page_id!r})"


@dataclass(frozen=True)
class Intake:
    """What intake endpoints write through: the group-commit writer and the catalog check."""

    writer: IntakeWriter
    references: References

    async def store(self, new: NewItem, *, category: str | None = None) -> Stored:
        network = new.network if new.channel == Channel.comment else None
        await self.references.check(page_id=new.page_id, category=category, network=network)
        return await self.writer.store(new)

    async def known(self, channel: str, external_id: str) -> bool:
        """Whether an item with this key is stored (a retry, not a new request)."""
        return await self.writer.known(channel, external_id)
