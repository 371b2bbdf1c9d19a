"""The worker's Prometheus metrics: every job's runs by result, how long they took, and what
they counted (items a sweep found stale, alerts raised, contacts purged). Served on
`WORKER_METRICS_PORT` when it is set; the API's `/metrics` is its own process's."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq.worker import Retry
from prometheus_client import Counter, Histogram

RUNS = Counter("worker_jobs_total", "Worker job runs by job and result", ["job", "result"])
DURATION = Histogram("worker_job_seconds", "Worker job run time", ["job"])
COUNTED = Counter(
    "worker_job_counted_total",
    "What a job counted: items a sweep re-queued, alerts a check raised, contacts purged",
    ["job"],
)

Job = Callable[..., Awaitable[Any]]


def measured(name: str, job: Job) -> Job:
    """`job`, counted: a text result is its label (a route's outcome, a delivery's "sent",
    "retry" or "dead"), a number is added to what the job counted, a failure is "error" and
    a transient one that arq will run again is "transient"."""

    @functools.wraps(job)
    async def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await job(ctx, *args, **kwargs)
        except BaseException as exc:
            RUNS.labels(name, "transient" if isinstance(exc, Retry) else "error").inc()
            raise
        finally:
            DURATION.labels(name).observe(time.perf_counter() - started)
        RUNS.labels(name, result if isinstance(result, str) else "ok").inc()
        if isinstance(result, int) and not isinstance(result, bool):
            COUNTED.labels(name).inc(result)
        return result

    return run
