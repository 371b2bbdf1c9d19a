"""The API-to-worker contract: job names and ids. Payloads are ids only, so a job is safe to run
twice; job ids make arq drop a duplicate while the first is still queued."""

from __future__ import annotations

from datetime import datetime

ROUTE_ITEM = "items.route"
SWEEP = "items.sweep"
SLA_CHECK = "sla.check"
SLA_SWEEP = "sla.sweep"
DELIVER_ALERT = "alerts.deliver"
DELIVER_REPLY = "replies.deliver"
REPLIES_SWEEP = "replies.sweep"
PURGE_PII = "privacy.purge"
POLL_PLATFORM = "platform.poll"
# After SIGTERM a worker takes no new job and lets those running finish for this long; whatever
# stops it (`make run`, compose, Kubernetes) must wait longer before killing it.
WORKER_STOP_GRACE_S = 20


def route_job_id(item_id: str) -> str:
    return f"{ROUTE_ITEM}:{item_id}"


def sla_check_job_id(item_id: str, at: datetime) -> str:
    return f"{SLA_CHECK}:{item_id}:{int(at.timestamp() * 1000)}"


def deliver_job_id(delivery_id: int, attempt: int) -> str:
    return f"{DELIVER_ALERT}:{delivery_id}:{attempt}"


def reply_job_id(delivery_id: int, attempt: int) -> str:
    return f"{DELIVER_REPLY}:{delivery_id}:{attempt}"
