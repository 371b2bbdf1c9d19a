"""Jobs that meet the database or the network down are tried again soon, by arq's own retry.

A job that fails is not run again by arq, and its failed result keeps its id for `keep_result`
(60 s), so the sweeps could not re-enqueue it either: after a PostgreSQL restart, alerts that fell
due during it went out a minute or more late. A transient failure instead asks arq to run the
same job again after a short, growing wait, within the job's `max_tries`; anything else fails as
before and is the sweep's to repair.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq.worker import Retry
from redis.exceptions import AuthenticationError as RedisAuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError as RedisReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = structlog.get_logger()
Job = Callable[..., Awaitable[Any]]
# SQLSTATE classes: connection, resources, object not in prerequisite state (a database that
# does not accept connections), operator intervention, a deadlock or serialization failure.
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "55", "57", "40")
# Read-only transaction (a replica promoted, a failover under way): transient too. A statement
# timeout (57014) is the statement's own: running it again would only time out again.
TRANSIENT_SQLSTATES = ("25006",)
NOT_TRANSIENT_SQLSTATES = ("57014",)
RETRY_STEP_S = 2.0
MAX_RETRY_DELAY_S = 10.0
# The network, not the configuration: a refused or reset connection, a name that does not
# resolve yet, a timeout. Not a missing file, a permission or a certificate that fails.
NETWORK_ERRORS = (ConnectionError, socket.gaierror, TimeoutError, PoolTimeoutError)
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, RedisReadOnlyError)


def transient(exc: BaseException) -> bool:
    """A failure of the database or the network, not of the job's data: worth trying as is."""
    if isinstance(exc, ssl.SSLError | RedisAuthenticationError):
        return False
    if isinstance(exc, NETWORK_ERRORS + REDIS_ERRORS):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    if isinstance(exc, DBAPIError) and state:
        if state in NOT_TRANSIENT_SQLSTATES:
            return False
        return state[:2] in TRANSIENT_SQLSTATE_CLASSES or state in TRANSIENT_SQLSTATES
    if isinstance(exc, OperationalError | InterfaceError):
        # SQLite's only transient one is a lock; "no such table" and its kind are for ever.
        # A server driver's error without a state is a lost connection.
        driver = type(getattr(exc, "orig", None)).__module__
        return "database is locked" in str(exc) or "sqlite" not in driver
    return False


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
