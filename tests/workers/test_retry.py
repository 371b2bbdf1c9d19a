"""Transient failures of a job become arq retries after a short wait; others fail as before."""

from __future__ import annotations

import pytest
from arq.worker import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, OperationalError

from workers.metrics import RUNS, measured
from workers.retry import retried, retry_delay


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


@pytest.mark.parametrize(
    "exc", [ValueError("the router cannot read this"), DBAPIError("INSERT", {}, Driver("22001"))]
)
async def test_any_other_failure_fails_as_before(exc):
    with pytest.raises(type(exc)):
        await retried("items.route", failing(exc))({"calls": [], "job_try": 1}, "item-1")


def test_the_wait_grows_and_is_capped():
    assert [retry_delay(n) for n in (0, 1, 2, 3, 5, 9)] == [2, 2, 4, 6, 10, 10]


async def test_a_retry_is_counted_apart_from_errors():
    job = measured("t.retry", retried("t.retry", failing(ConnectionResetError())))
    before = RUNS.labels("t.retry", "transient")._value.get()
    with pytest.raises(Retry):
        await job({"calls": [], "job_try": 1}, "x")
    assert RUNS.labels("t.retry", "transient")._value.get() == before + 1
    assert RUNS.labels("t.retry", "error")._value.get() == 0
