"""Redis for the API: arq enqueueing and counters, connected lazily so intake needs only the DB."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgpack
import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.commands.core import AsyncScript

from service.queue import PendingJob

log = structlog.get_logger()


def _failure(obj: Any) -> str:
    # arq stores a failed job's exception as its result; msgpack cannot carry one, so the
    # result (and what failed) was lost. Stored as text; anything else stays an error of ours.
    if isinstance(obj, BaseException):
        return f"{type(obj).__name__}: {obj}"
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def serialize(obj: Any) -> bytes:
    return msgpack.packb(obj, datetime=True, default=_failure)  # type: ignore[no-any-return]


def deserialize(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, timestamp=3)


def redis_settings(url: str, *, retries: int = 5) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = retries
    settings.conn_timeout = 2
    return settings


# KEYS: the arq queue, then each job's key; ARGV: per job its id, score, expiry (ms), data.
ENQUEUE_SCRIPT = """
for i = 2, #KEYS do
  local a = (i - 2) * 4
  redis.call('SET', KEYS[i], ARGV[a + 4], 'PX', ARGV[a + 3], 'NX')
  redis.call('ZADD', KEYS[1], 'NX', ARGV[a + 2], ARGV[a + 1])
end
return #KEYS - 1
"""


# A fixed-window counter: the count and its expiry set together (a count cut off between an
# INCR and an EXPIRE would never expire), in one command (a MULTI costs the API four).
COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class QueueClient:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: ArqRedis | None = None
        self._creating: asyncio.Task[ArqRedis] | None = None
        self._enqueue_script: AsyncScript | None = None
        self._count_script: AsyncScript | None = None

    async def count(self, key: str, window_s: int) -> int:
        """Add one to the window's counter (created with its expiry) and return it."""
        pool = await self.pool()
        if self._count_script is None:
            self._count_script = pool.register_script(COUNT_SCRIPT)
        return int(await self._count_script(keys=[key], args=[window_s]))

    async def get(self, key: str) -> bytes | None:
        pool = await self.pool()
        value = await pool.get(key)
        return value if isinstance(value, bytes) else None

    async def incr(self, key: str) -> int:
        pool = await self.pool()
        return int(await pool.incr(key))

    async def pool(self) -> ArqRedis:
        """The connection pool, made once: callers that arrive while it is being made wait for
        the same one (each used to make its own, and all but the last were never closed)."""
        if self._pool is not None:
            return self._pool
        loop = asyncio.get_running_loop()
        task = self._creating
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._creating = loop.create_task(self._create())
        # Shielded: one caller cancelled must not cancel the pool the others wait for.
        return await asyncio.shield(task)

    async def _create(self) -> ArqRedis:
        pool = await create_pool(
            redis_settings(self._url, retries=0),
            job_serializer=serialize,
            job_deserializer=deserialize,
        )
        self._pool = pool
        return pool

    async def enqueue_job(
        self,
        function: str,
        *args: Any,
        _job_id: str | None = None,
        _defer_until: datetime | None = None,
    ) -> Any:
        pool = await self.pool()
        job = await pool.enqueue_job(function, *args, _job_id=_job_id, _defer_until=_defer_until)
        if job is None:
            log.info("queue.already_queued", job=function, job_id=_job_id)
        return job

    async def enqueue_many(self, jobs: Sequence[PendingJob]) -> None:
        """Enqueue a batch of new jobs in one command (arq's own format and keys).

        arq's `enqueue_job` spends five round trips per job (WATCH, EXISTS, MULTI…) to refuse a
        job id that is queued or has a result. The jobs given here belong to rows committed a
        moment ago, so neither can exist yet; `SET NX` / `ZADD NX` keep a repeat harmless. One
        script call for the batch instead of two pipelined commands per job: redis-py spends
        ~15 µs of the API's CPU on each command it packs and parses.
        """
        if not jobs:
            return
        pool = await self.pool()
        now = timestamp_ms()
        keys: list[str] = [pool.default_queue_name]
        args: list[Any] = []
        for job in jobs:
            job_id = job.job_id or uuid.uuid4().hex
            score = to_unix_ms(job.defer_until) if job.defer_until else now
            data = serialize_job(job.name, job.args, {}, None, now, serializer=serialize)
            keys.append(job_key_prefix + job_id)
            # arq's own expiry; at least 1 ms, since Redis refuses the SET (and the script stops
            # there) for a job deferred to a moment long past.
            expires = max(score - now + pool.expires_extra_ms, 1)
            args += (job_id, score, expires, data)
        if self._enqueue_script is None:
            self._enqueue_script = pool.register_script(ENQUEUE_SCRIPT)
        await self._enqueue_script(keys=keys, args=args)

    async def ping(self) -> bool:
        return bool(await (await self.pool()).ping())

    async def close(self) -> None:
        self._creating = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
            self._enqueue_script = None
