"""The feedback-platform poller against a fake adapter over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlmodel import select

from schemas.channels import PollCursor
from schemas.items import Item
from workers.items import poll_platform

MESSAGES = [
    {
        "external_id": f"pos-{n}",
        "category": "roads_potholes" if n % 2 else "made_up_code",
        "text": f"яма на дороге номер {n}",
        "address": "Алейский район, с. Кашино",
        "created_at": "2026-11-20T10:00:00+07:00",
    }
    for n in range(5)
]


@pytest.fixture
def adapter() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"fail": False, "calls": [], "url": ""}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            q = parse_qs(urlparse(self.path).query)
            state["calls"].append((q, self.headers.get("Authorization")))
            if state["fail"]:
                self.send_response(503)
                self.end_headers()
                return
            start = int(q.get("cursor", ["0"])[0])
            page = MESSAGES[start : start + 3] + ([{"text": "no id"}] if start == 0 else [])
            body = {"items": page, "next_cursor": str(start + len(page[:3]))}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/messages"
    yield state
    server.shutdown()
    server.server_close()


async def test_poll_stores_each_message_once_and_keeps_cursor(settings, sessionmaker, adapter):
    s = settings.model_copy(
        update={"platform_poll_url": adapter["url"], "platform_poll_token": "tok"}
    )
    async with httpx.AsyncClient() as http:
        ctx: Any = {"settings": s, "sessionmaker": sessionmaker, "redis": None, "http": http}
        first = await poll_platform(ctx)
        again = await poll_platform(ctx)
        adapter["fail"] = True
        failed = await poll_platform(ctx)
    assert first == {"stored": 3, "duplicate": 0, "invalid": 1}  # a short page ends a run
    assert again == {"stored": 2, "duplicate": 0, "invalid": 0}  # the next run resumes
    assert failed == {}
    assert adapter["calls"][0][1] == "Bearer tok"
    async with sessionmaker() as sess:
        items = (await sess.exec(select(Item))).all()
        cursor = await sess.get(PollCursor, "platform")
    assert sorted(i.external_id for i in items) == [f"pos-{n}" for n in range(5)]
    hints = {i.external_id: i.category_hint for i in items}
    assert hints["pos-1"] == "roads_potholes" and hints["pos-0"] is None
    assert cursor is not None and cursor.cursor == "5"


async def test_no_transaction_waits_for_the_adapter(settings, sessionmaker):
    """On SQLite a transaction holds the database's write lock: one open across the adapter's
    answer made every intake commit, SLA check and delivery lease wait for it."""
    import asyncio
    import time

    started = asyncio.Event()

    async def slow_adapter(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(1.5)
        return httpx.Response(200, json={"items": MESSAGES[:1], "next_cursor": "1"})

    s = settings.model_copy(update={"platform_poll_url": "http://adapter.invalid/poll"})

    async def other_writer() -> float:
        await started.wait()
        t0 = time.monotonic()
        async with sessionmaker() as session:
            session.add(PollCursor(source="another-source"))
            await session.commit()
        return time.monotonic() - t0

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_adapter)) as http:
        ctx: Any = {"settings": s, "sessionmaker": sessionmaker, "redis": None, "http": http}
        polled, waited = await asyncio.gather(poll_platform(ctx), other_writer())
    assert polled == {"stored": 1, "duplicate": 0, "invalid": 0}
    assert waited < 0.5, f"an unrelated write waited {waited:.2f} s for the adapter"


async def test_a_page_another_worker_stored_meanwhile_is_not_stored_again(sessionmaker):
    from service.channels.platform import store_page
    from service.db import UnitOfWork

    async with sessionmaker() as session:
        session.add(PollCursor(source="platform", cursor="3"))  # moved on while we fetched
        await session.commit()
    async with sessionmaker() as session:
        uow = UnitOfWork(session, None)
        assert await store_page(uow, "0", MESSAGES[:3], "3") is None
        await uow.commit()
    async with sessionmaker() as session:
        assert (await session.exec(select(Item))).all() == []
        cursor = await session.get(PollCursor, "platform")
        assert cursor is not None and cursor.cursor == "3"
