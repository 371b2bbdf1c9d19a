"""The API-to-worker contract: job names. Payloads are ids only, so a job is safe to run twice."""

from __future__ import annotations

ROUTE_ITEM = "items.route"
SWEEP = "items.sweep"


def route_job_id(item_id: str) -> str:
    return f"{ROUTE_ITEM}:{item_id}"
