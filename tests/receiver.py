"""A local webhook receiver over real HTTP that verifies Standard Webhooks signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    key: bytes
    fail_first: int = 0  # answer 500 to this many requests first
    delay_s: float = 0  # answer each request this much later (a slow receiver)
    url: str = ""
    attempts: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    accepted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def secret(self) -> str:
        return "whsec_" + base64.b64encode(self.key).decode()

    def handle(self, headers: Any, body: bytes) -> int:
        mid, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
        payload = json.loads(body)
        with self.lock:
            self.attempts.append((time.time(), mid, payload))
            refused = len(self.attempts) <= self.fail_first
        time.sleep(self.delay_s)
        with self.lock:
            if refused:
                return 500
            digest = hmac.new(self.key, f"{mid}.{ts}.".encode() + body, hashlib.sha256).digest()
            want = base64.b64encode(digest).decode()
            sigs = headers.get("webhook-signature", "").split()
            if not any(s.startswith("v1,") and hmac.compare_digest(s[3:], want) for s in sigs):
                self.bad_signatures += 1
                return 401
            self.accepted.setdefault(mid, []).append(payload)
        return 200

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [v[0] for v in self.accepted.values() if v[0]["type"] == kind]


@contextmanager
def receiver(fail_first: int = 0, delay_s: float = 0) -> Iterator[Receiver]:
    rec = Receiver(key=b"k" * 32, fail_first=fail_first, delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(rec.handle(self.headers, body))
            self.end_headers()

    with serve(Handler) as base_url:
        rec.url = f"{base_url}/hook"
        yield rec


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free local port in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
