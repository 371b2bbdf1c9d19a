"""Local fake receivers over real sockets on 127.0.0.1: webhook, Telegram Bot API, SMTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def e2e_verify(key: bytes, headers: Any, body: bytes) -> tuple[bool, bool]:
    """Signature and timestamp checks exactly as /work/shared/checks/e2e_sla.py does them."""
    mid, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
    sig = headers.get("webhook-signature", "")
    want = base64.b64encode(
        hmac.new(key, f"{mid}.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    sig_ok = any(s.startswith("v1,") and hmac.compare_digest(s[3:], want) for s in sig.split())
    ts_ok = bool(ts) and ts.isdigit() and abs(int(ts) - time.time()) <= 300
    return sig_ok, ts_ok


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout tests)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    sig_ok: bool
    ts_ok: bool

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


# Modes by path: status code and extra headers; "/fail-once" fails the first try of each id.
WEBHOOK_MODES: dict[str, tuple[int, dict[str, str]]] = {
    "/ok": (200, {}),
    "/accepted": (204, {}),
    "/429": (429, {"Retry-After": "120"}),
    "/503-date": (503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}),
    "/410": (410, {}),
    "/400": (400, {}),
    "/408": (408, {}),
    "/409": (409, {}),
    "/502": (502, {}),
    "/redirect": (302, {"Location": "/ok"}),
}


class WebhookReceiver(_Server):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.key = b""
        self.hits: list[Hit] = []
        self.failed_once: set[str] = set()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def reset(self, key: bytes) -> None:
        self.release.set()  # lets any hung handler of the previous test finish
        with self.lock:
            self.key, self.hits, self.failed_once = key, [], set()
            self.release = threading.Event()

    def on(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]


class _WebhookHandler(_Handler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        srv, body = self.server, self.body()
        with srv.lock:
            sig_ok, ts_ok = e2e_verify(srv.key, self.headers, body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            srv.hits.append(Hit(self.path, headers, body, sig_ok, ts_ok))
            first = self.headers.get("webhook-id", "") not in srv.failed_once
            srv.failed_once.add(self.headers.get("webhook-id", ""))
            release = srv.release
        if self.path == "/hang":
            release.wait(timeout=5)
            self.reply(200)
        elif self.path == "/fail-once":
            self.reply(500 if first else 200)
        else:
            status, headers = WEBHOOK_MODES.get(self.path, (404, {}))
            self.reply(status, headers=headers)


@dataclass
class TelegramCall:
    token: str
    payload: dict[str, Any]
    raw: bytes
    at: float


@dataclass
class FakeTelegram:
    """`/bot<token>/sendMessage`; per-chat scripted answers, then `{"ok": true}`."""

    token: str = "123456:TEST-token_secret"
    calls: list[TelegramCall] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls, self.script = [], defaultdict(list)

    def answer(self, token: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        payload = json.loads(raw)
        with self.lock:
            self.calls.append(TelegramCall(token, payload, raw, time.monotonic()))
            if token != self.token:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            queued = self.script[str(payload["chat_id"])]
            if queued:
                return queued.pop(0)
        return 200, {"ok": True, "result": {"message_id": len(self.calls)}}


class TelegramServer(_Server):
    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(("127.0.0.1", 0), _TelegramHandler)
        self.fake = fake


class _TelegramHandler(_Handler):
    server: TelegramServer

    def do_POST(self) -> None:
        prefix, _, method = self.path.rpartition("/")
        if not prefix.startswith("/bot") or method != "sendMessage":
            self.reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            return
        status, data = self.server.fake.answer(prefix.removeprefix("/bot"), self.body())
        body = json.dumps(data).encode()
        self.reply(status, body, {"Content-Type": "application/json"})


@dataclass
class SmtpMail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes


@dataclass
class FakeSmtp:
    """A minimal SMTP server on asyncio streams; RCPT replies scripted per address."""

    rcpt_replies: dict[str, bytes] = field(default_factory=dict)
    mails: list[SmtpMail] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state: dict[str, Any] = {"from": "", "rcpt": []}
        writer.write(b"220 fake ESMTP\r\n")
        try:
            while line := await asyncio.wait_for(reader.readline(), timeout=5):
                reply = self._command(line.decode().rstrip("\r\n"), state)
                if reply.startswith(b"354"):
                    writer.write(reply + b"\r\n")
                    await writer.drain()
                    reply = await self._data(state, reader)
                writer.write(reply + b"\r\n")
                await writer.drain()
                if reply.startswith(b"221"):
                    break
        finally:
            writer.close()

    def _command(self, line: str, state: dict[str, Any]) -> bytes:
        verb = line.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            return b"250-fake\r\n250-AUTH PLAIN\r\n250 8BITMIME"
        if verb == "AUTH":
            self.auth.append(base64.b64decode(line.split()[-1]).decode())
            return b"235 2.7.0 ok"
        if verb == "MAIL":
            state["from"], state["rcpt"] = line.split(":", 1)[1].strip(" <>"), []
            return b"250 ok"
        if verb == "RCPT":
            address = line.split(":", 1)[1].strip(" <>")
            reply = self.rcpt_replies.get(address, b"250 ok")
            if reply.startswith(b"250"):
                state["rcpt"].append(address)
            return reply
        if verb == "DATA":
            return b"354 go ahead"
        if verb == "QUIT":
            return b"221 bye"
        return b"250 ok"

    async def _data(self, state: dict[str, Any], reader: asyncio.StreamReader) -> bytes:
        lines: list[bytes] = []
        while (line := await asyncio.wait_for(reader.readline(), timeout=5)) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        self.mails.append(SmtpMail(state["from"], list(state["rcpt"]), b"".join(lines)))
        return b"250 2.0.0 queued"
