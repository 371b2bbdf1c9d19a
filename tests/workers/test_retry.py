"""Transient failures of a job become arq retries after a short wait; others fail as before."""

from __future__ import annotations

import ssl

import pytest
from arq.worker import Retry
from redis.exceptions import AuthenticationError as RedisAuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError as RedisReadOnlyError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from workers.metrics import RUNS, measured
from workers.retry import retried, retry_delay, transient


class Driver(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


def failing(exc: Exception):
    async def job(ctx, item_id: str) -> str:
        ctx["calls"].append(item_id)
        raise exc

    return job


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        # ALTER DATABASE … ALLOW_CONNECTIONS false: "not currently accepting connections".
        DBAPIError("SELECT 1", {}, Driver("55000")),
        DBAPIError("SELECT 1", {}, Driver("57P01")),  # terminated by the administrator
        ConnectionResetError(),
        RedisConnectionError("Connection refused"),
    ],
)
async def test_a_transient_failure_asks_arq_to_run_the_job_again(exc):
    ctx = {"calls": [], "job_try": 3}
    with pytest.raises(Retry) as raised:
        await retried("sla.check", failing(exc))(ctx, "item-1")
    assert raised.value.defer_score == 6000
    assert raised.value.__cause__ is exc
    assert ctx["calls"] == ["item-1"]


def sqlite_error(message: str) -> OperationalError:
    import sqlite3

    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    "exc",
    [
        DBAPIError("SELECT 1", {}, Driver("25006")),  # read-only: a failover under way
        DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True),
        sqlite_error("database is locked"),
        PoolTimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        RedisReadOnlyError("You can't write against a read only replica."),
        TimeoutError(),
    ],
)
def test_more_transient_failures(exc):
    assert transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("the router cannot read this"),
        DBAPIError("INSERT", {}, Driver("22001")),
        DBAPIError("SELECT 1", {}, Driver("57014")),  # the statement's own timeout
        sqlite_error("no such table: item"),
        FileNotFoundError("model.joblib"),
        PermissionError("var/"),
        ssl.SSLCertVerificationError("certificate verify failed"),
        RedisAuthenticationError("invalid password"),
    ],
)
async def test_any_other_failure_fails_as_before(exc):
    with pytest.raises(type(exc)):
        await retried("items.route", failing(exc))({"calls": [], "job_try": 1}, "item-1")


def test_the_wait_grows_and_is_capped():
    assert [retry_delay(n) for n in (0, 1, 2, 3, 5, 9)] == [2.0, 2.0, 4.0, 6.0, 10.0, 10.0]


async def test_a_retry_is_counted_apart_from_errors():
    job = measured("t.retry", retried("t.retry", failing(ConnectionResetError())))
    before = RUNS.labels("t.retry", "transient")._value.get()
    with pytest.raises(Retry):
        await job({"calls": [], "job_try": 1}, "x")
    assert RUNS.labels("t.retry", "transient")._value.get() == before + 1
    assert RUNS.labels("t.retry", "error")._value.get() == 0


async def test_a_real_worker_runs_a_job_again_until_the_database_answers(
    settings, sessionmaker, monkeypatch
):
    """reliability.md A9: fail tries 1-3 (the database refuses) → the job's effect once, on
    arq's fourth try."""
    import uuid

    from arq import create_pool
    from arq.jobs import Job

    from schemas.jobs import SLA_CHECK
    from service.clients.redis import deserialize, redis_settings, serialize
    from tests.builders import run_workers_for
    from workers import retry
    from workers import sla as sla_jobs

    monkeypatch.setattr(retry, "RETRY_STEP_S", 0.1)
    calls: list[str] = []

    async def flaky(uow, item_id, now, registry, channels=None) -> int:
        calls.append(str(item_id))
        if len(calls) <= 3:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
        return 7  # alerts "raised": the result the job returns

    monkeypatch.setattr(sla_jobs, "check_item", flaky)
    pool = await create_pool(
        redis_settings(settings.redis_url), job_serializer=serialize, job_deserializer=deserialize
    )
    try:
        job = await pool.enqueue_job(SLA_CHECK, str(uuid.uuid4()), _job_id="a9-flaky")
        assert job is not None
        fast = settings.model_copy(update={"sla_sweep_interval_s": 3600})
        await run_workers_for(fast, 2.5)
        info = await Job("a9-flaky", pool, _deserializer=deserialize).result_info()
    finally:
        await pool.aclose()
    assert len(calls) == 4 and len(set(calls)) == 1
    assert info is not None and info.success and info.result == 7 and info.job_try == 4
