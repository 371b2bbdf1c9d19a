"""Enqueue-after-commit: jobs are buffered per transaction and sent only after it commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog

log = structlog.get_logger()


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
        for job in jobs:
            try:
                await sink.enqueue_job(
                    job.name, *job.args, _job_id=job.job_id, _defer_until=job.defer_until
                )
            except Exception as exc:
                # The row is committed; the periodic sweep re-enqueues whatever Redis did not take.
                log.warning("queue.enqueue_failed", job=job.name, job_id=job.job_id, error=str(exc))
