"""Redis for the API: arq enqueueing and counters, connected lazily so intake needs only the DB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgpack
import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

log = structlog.get_logger()


def serialize(obj: Any) -> bytes:
    return msgpack.packb(obj, datetime=True)  # type: ignore[no-any-return]


def deserialize(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, timestamp=3)


def redis_settings(url: str, *, retries: int = 5) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = retries
    settings.conn_timeout = 2
    return settings


class QueueClient:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                redis_settings(self._url, retries=0),
                job_serializer=serialize,
                job_deserializer=deserialize,
            )
        return self._pool

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

    async def ping(self) -> bool:
        return bool(await (await self.pool()).ping())

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
