"""kill -9 of real processes (SPEC §8): every accepted item is still processed, once.

Slow by nature: arq keeps a job whose worker died locked for its timeout + 10 s (40 s) before
anyone may run it again, so the worker test waits that long.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import func, select

from schemas.items import Item, ItemEvent
from service.runner import free_port
from tests.builders import SETTLEMENT_PAGE, run_workers_for, widget_report

EXE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "feedback-router"
SWEEPS = {"SWEEP_INTERVAL_S": "1", "SWEEP_STALE_AFTER_S": "0", "SLA_SWEEP_INTERVAL_S": "1"}
# One client sends them all (the per-address limit would refuse most); the receiver is local.
NO_LIMIT = {"WIDGET_RATE_LIMIT_PER_IP": "1000000", "ALERT_ALLOW_PRIVATE_TARGETS": "true"}


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    cmd = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "service.cli"]
    return subprocess.Popen(
        [*cmd, *args],
        env={**env, **SWEEPS, **NO_LIMIT},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def up(http: httpx.AsyncClient) -> None:
    for _ in range(400):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError("the API did not start")


async def processed(sessionmaker: Any) -> tuple[int, int, int]:
    """Items, items still `new`, and routing decisions recorded (one per item when once)."""
    async with sessionmaker() as s:
        items = (await s.exec(select(func.count()).select_from(Item))).one()
        new = (await s.exec(select(func.count()).where(Item.status == "new"))).one()
        kinds = ("routed", "triaged", "rejected")
        decided = select(func.count()).where(ItemEvent.kind.in_(kinds))  # type: ignore[attr-defined]
        return int(items), int(new), int((await s.exec(decided)).one())


async def test_a_worker_killed_mid_work_loses_no_item(client, settings, sessionmaker, cli_env):
    for n in range(120):
        r = await widget_report(client, text=f"Не горит фонарь на Центральной, дом {n}")
        assert r.status_code == 202
    worker = spawn(cli_env, "worker")
    try:
        # Killed while working through the queue: some items routed, some taken and unfinished.
        for _ in range(600):
            if (await processed(sessionmaker))[1] <= 60:
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert (await processed(sessionmaker))[1] > 0, "the worker finished before the kill"
    # Another worker (in-process, sweeps every second) picks up everything, including the
    # jobs the dead one held once arq's lock on them expires.
    fast = settings.model_copy(update={"sweep_interval_s": 1, "sweep_stale_after_s": 0})
    started = time.monotonic()
    while (await processed(sessionmaker))[1] and time.monotonic() - started < 75:
        await run_workers_for(fast, 5)
    items, new, decided = await processed(sessionmaker)
    assert (items, new) == (120, 0)
    assert decided == 120, "an item was routed twice"


async def test_an_api_killed_mid_stream_loses_no_acknowledged_item(sessionmaker, cli_env):
    port = free_port()
    api = spawn(cli_env, "api", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    keys = [str(uuid.uuid4()) for _ in range(300)]
    acknowledged: dict[str, str] = {}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await up(http)

            async def post(key: str) -> None:
                body = {"page_id": SETTLEMENT_PAGE, "text": f"Яма на дороге, заявка {key[:8]}"}
                try:
                    r = await http.post(
                        "/api/v1/widget/reports", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    return  # the API died: the client will send it again
                if r.status_code == 202:
                    acknowledged[key] = r.json()["id"]

            tasks = [asyncio.create_task(post(k)) for k in keys]
            for _ in range(4000):
                if len(acknowledged) >= 100:
                    break
                await asyncio.sleep(0.005)
            os.kill(api.pid, signal.SIGKILL)
            await asyncio.gather(*tasks)
    finally:
        if api.poll() is None:
            api.kill()
        api.wait(timeout=10)
    assert 100 <= len(acknowledged) < len(keys), "the kill came too late to test anything"
    async with sessionmaker() as s:
        stored = {str(i) for i in (await s.exec(select(Item.id))).all()}
    assert set(acknowledged.values()) <= stored, "an acknowledged report was lost"
    # The clients send the rest again with the same keys: one item per key, the same ids.
    api = spawn(cli_env, "api", "--port", str(port))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await up(http)
            again: dict[str, str] = {}
            for key in keys:
                body = {"page_id": SETTLEMENT_PAGE, "text": f"Яма на дороге, заявка {key[:8]}"}
                r = await http.post(
                    "/api/v1/widget/reports", json=body, headers={"Idempotency-Key": key}
                )
                assert r.status_code == 202, r.text
                again[key] = r.json()["id"]
    finally:
        api.kill()
        api.wait(timeout=10)
    assert all(again[k] == v for k, v in acknowledged.items())
    async with sessionmaker() as s:
        assert (await s.exec(select(func.count()).select_from(Item))).one() == len(keys)


async def test_a_worker_stopped_for_a_deploy_finishes_the_delivery_it_started(
    client, settings, make_user, sessionmaker, cli_env
):
    """SIGTERM while an alert is on its way to a slow receiver: the worker finishes that
    delivery (recorded sent, sent once) before it exits, instead of cancelling it mid-send."""
    from schemas.sla import AlertDelivery
    from tests.builders import one_minute_policy
    from tests.receiver import receiver
    from tests.workers.test_sla_delivery import endpoint

    admin = await make_user("admin", "op_tsur")
    with receiver(delay_s=3) as rec:
        await one_minute_policy(client, admin, seconds=2)  # the warning is due at +1 s
        await endpoint(client, admin, rec.url, rec.secret)
        await widget_report(client)
        worker = spawn(cli_env, "worker")
        try:
            for _ in range(600):
                if rec.attempts:
                    break
                await asyncio.sleep(0.05)
            assert rec.attempts, "no delivery started"
            stopped = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(worker.wait, 25)
        finally:
            if worker.poll() is None:
                worker.kill()
        took = time.monotonic() - stopped
    assert code == 0 and took < 20, (code, took)
    assert len(rec.attempts) == 1 and len(rec.accepted) == 1
    async with sessionmaker() as s:
        [delivery] = (await s.exec(select(AlertDelivery))).all()
    assert (delivery.status, delivery.attempts) == ("sent", 0)  # attempts counts failures
