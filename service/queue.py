"""Enqueue-after-commit: jobs are buffered per transaction and sent only after it commits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog

log = structlog.get_logger()
# How long a citizen's request waits for Redis (a rate-limit count, the routing job's enqueue).
# Redis answers in well under a millisecond; a paused or stuck one must not hold intake, which
# needs only the database: past this the limit fails open and the sweep enqueues the job.
INTAKE_REDIS_TIMEOUT_S = 0.5
# The same for the jobs a committed transaction sends (an action's deliveries and SLA checks):
# past it the outbox and SLA sweeps send what is left.
FLUSH_TIMEOUT_S = 2.0


class JobSink(Protocol):
    async def enqueue_job(
        self,
        function: str,
        *args: Any,
        _job_id: str | None = None,
        _defer_until: datetime | None = None,
    ) -> Any: ...


@dataclass
class PendingJob:
    name: str
    args: tuple[Any, ...]
    job_id: str | None
    defer_until: datetime | None = None


@dataclass
class JobBuffer:
    pending: list[PendingJob] = field(default_factory=list)

    def add(
        self, name: str, *args: Any, job_id: str | None = None, defer_until: datetime | None = None
    ) -> None:
        self.pending.append(PendingJob(name, args, job_id, defer_until))

    def discard(self) -> None:
        self.pending.clear()

    async def flush(self, sink: JobSink) -> None:
        jobs, self.pending = self.pending, []
        sent = 0
        try:
            # One budget for the whole flush: the answer to the request (or the job's end)
            # waits for Redis this long at most.
            async with asyncio.timeout(FLUSH_TIMEOUT_S):
                for job in jobs:
                    await self._send(sink, job)
                    sent += 1
        except TimeoutError:
            log.warning("queue.enqueue_timed_out", left=len(jobs) - sent)

    @staticmethod
    async def _send(sink: JobSink, job: PendingJob) -> None:
        try:
            await sink.enqueue_job(
                job.name, *job.args, _job_id=job.job_id, _defer_until=job.defer_until
            )
        except Exception as exc:
            # The row is committed; the periodic sweep re-enqueues whatever Redis did not take.
            log.warning("queue.enqueue_failed", job=job.name, job_id=job.job_id, error=str(exc))
