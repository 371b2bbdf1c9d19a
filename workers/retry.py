"""Jobs that meet the database or the network down are tried again soon, by arq's own retry.

A job that fails is not run again by arq, and its failed result keeps its id for `keep_result`
(60 s), so the sweeps could not re-enqueue it either: after a PostgreSQL restart, alerts that fell
due during it went out a minute or more late. A transient failure instead asks arq to run the
same job again after a short, growing wait, within the job's `max_tries`; anything else fails as
before and is the sweep's to repair.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq.worker import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = structlog.get_logger()
Job = Callable[..., Awaitable[Any]]
# SQLSTATE classes: connection, resources, object not in prerequisite state (a database that
# does not accept connections), operator intervention, a deadlock or serialization failure.
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "55", "57", "40")
RETRY_STEP_S = 2.0
MAX_RETRY_DELAY_S = 10.0


def transient(exc: BaseException) -> bool:
    """A failure of the database or the network, not of the job's data: worth trying as is."""
    kinds = (OSError, TimeoutError, OperationalError, InterfaceError)
    if isinstance(exc, kinds + (RedisConnectionError, RedisTimeoutError)):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return isinstance(exc, DBAPIError) and state[:2] in TRANSIENT_SQLSTATE_CLASSES


def retry_delay(job_try: int) -> float:
    """2, 4, 6 … seconds, at most 10: an outage's end is noticed within 10 s."""
    return min(RETRY_STEP_S * max(job_try, 1), MAX_RETRY_DELAY_S)


def retried(name: str, job: Job) -> Job:
    """`job`, with transient failures turned into arq retries."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await job(ctx, *args, **kwargs)
        except Exception as exc:
            if not transient(exc):
                raise
            delay = retry_delay(int(ctx.get("job_try") or 1))
            log.warning("jobs.transient_failure", job=name, error=str(exc)[:200], retry_in_s=delay)
            raise Retry(defer=delay) from exc

    return run
