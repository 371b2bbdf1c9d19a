"""Local fakes over real HTTP for the channels replies go back to: the VK API, the platform,
the Telegram Bot API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.receiver import serve

TELEGRAM_BOT = "123456:telegram-bot-token"
TELEGRAM_WEBHOOK_SECRET = "tg-webhook-secret_0123"


@dataclass
class FakeChannel:
    """Answers a reply scripted for the request's target first (status, JSON body), then the
    channel's normal answer. Scripts are keyed by what the reply answers (VK comment id, Telegram
    message id, platform external id), so a retry of an earlier delivery that comes due while a
    test is on the next one cannot take the next one's script."""

    url: str = ""
    scripted: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    posted: dict[str, int] = field(default_factory=dict)  # idempotency key -> id given
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        is_json = headers.get("content-type", "").startswith("application/json")
        body = json.loads(raw) if is_json else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self.lock:
            self.requests.append((path, headers, body))
            script = self.scripted.get(_target(body))
            if script:
                return script.pop(0)
            if path.endswith("/sendMessage"):  # the Bot API: no idempotency key
                return 200, {"ok": True, "result": {"message_id": 9000 + len(self.requests)}}
            key = body.get("guid") if path.endswith("wall.createComment") else None
            key = key or headers.get("idempotency-key", "")
            # Like VK's guid: the same key posts once and answers with the same id.
            given = self.posted.setdefault(key, 9000 + len(self.posted))
        if path.endswith("wall.createComment"):
            return 200, {"response": {"comment_id": given, "parents_stack": []}}
        return 201, {"answer_id": f"pos-{given}"}


def _target(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    reply = body.get("reply_parameters")
    if isinstance(reply, dict):  # Telegram
        return str(reply.get("message_id"))
    return str(body.get("reply_to_comment") or body.get("external_id") or "")


@contextmanager
def fake_channel() -> Iterator[FakeChannel]:
    fake = FakeChannel()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.handle(self.path, headers, raw)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve(Handler) as base_url:
        fake.url = base_url
        yield fake
