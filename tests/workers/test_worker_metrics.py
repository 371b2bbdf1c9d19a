"""The worker's own metrics: job runs by result, run time, what jobs counted."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.builders import run_worker_burst, widget_report

pytestmark = pytest.mark.usefixtures("redis")


def _runs(job: str, result: str) -> float:
    return REGISTRY.get_sample_value("worker_jobs_total", {"job": job, "result": result}) or 0.0


async def test_jobs_are_counted_by_their_result(client, settings):
    before = _runs("items.route", "routed")
    await widget_report(client)
    await run_worker_burst(settings)
    assert _runs("items.route", "routed") == before + 1
    assert (REGISTRY.get_sample_value("worker_job_seconds_count", {"job": "items.route"}) or 0) > 0


async def test_the_worker_serves_them_when_given_a_port(settings, sessionmaker):
    from service.runner import free_port
    from workers.main import _startup, on_shutdown

    port = free_port()
    ctx: dict = {}
    await _startup(settings.model_copy(update={"worker_metrics_port": port}))(ctx)
    try:
        async with httpx.AsyncClient() as http:
            r = await http.get(f"http://{settings.api_host}:{port}/metrics")
    finally:
        await on_shutdown(ctx)
    assert r.status_code == 200 and "worker_jobs_total" in r.text
