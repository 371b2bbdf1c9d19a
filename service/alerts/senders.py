"""Async senders, one per endpoint kind, and the dispatch between them.

Every expected failure comes back as a `DeliveryOutcome`; only programming errors raise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from service.alerts.mail import EmailSender
from service.alerts.messages import AlertMessage, telegram_text, webhook_body
from service.alerts.outcome import (
    DeliveryOutcome,
    Destination,
    classify_status,
    elapsed_ms,
    parse_retry_after,
    short_error,
)
from service.alerts.pacing import TelegramPacer
from service.alerts.signing import webhook_headers
from service.alerts.ssrf import (
    Resolver,
    TargetKind,
    TargetRejected,
    TargetUnresolvable,
    check_target_async,
    normalize_chat_id,
    parse_kind,
    parse_webhook_url,
    resolve_host,
)
from service.alerts.transport import DEFAULT_TIMEOUT

# reliability.md §5: at most 15 s per attempt, whatever the per-phase timeouts add up to.
ATTEMPT_TIMEOUT_S = 15.0
TELEGRAM_API = "https://api.telegram.org"


class Sender(Protocol):
    async def send(self, message: AlertMessage, destination: Destination) -> DeliveryOutcome: ...


def _failed(started: float, error: str, **fields: Any) -> DeliveryOutcome:
    return DeliveryOutcome(
        ok=False, error=short_error(error), duration_ms=elapsed_ms(started), **fields
    )


def _transport_failure(started: float, exc: BaseException, scrub: str = "") -> DeliveryOutcome:
    if isinstance(exc, TargetUnresolvable):
        return _failed(started, str(exc))
    if isinstance(exc, TargetRejected):
        # The name now points somewhere forbidden (DNS changed or rebinding): never send there.
        return _failed(started, str(exc), permanent=True, attempted=False)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return _failed(started, f"timed out ({type(exc).__name__})")
    text = f"{type(exc).__name__}: {exc}"
    return _failed(started, text.replace(scrub, "***") if scrub else text)


class WebhookSender:
    """Signed JSON POST (Standard Webhooks); use a client from `make_alert_client`.

    The URL is re-checked (with DNS) before each attempt, so even a plain client never posts to
    a forbidden address; the guarded client also pins the connection to the checked address.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allow_private: bool = False,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        attempt_timeout_s: float = ATTEMPT_TIMEOUT_S,
        resolver: Resolver = resolve_host,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._allow_private = allow_private
        self._timeout = timeout
        self._attempt_timeout_s = attempt_timeout_s
        self._resolver = resolver
        self._clock = clock

    def _request(self, message: AlertMessage, destination: Destination) -> httpx.Request:
        body = webhook_body(message)
        # The timestamp is this attempt's; the id stays the alert's across retries.
        ts = int(self._clock())
        headers = webhook_headers(destination.secrets, message.alert_id, body, timestamp=ts)
        headers["content-type"] = "application/json"
        return self._client.build_request(
            "POST", destination.target, content=body, headers=headers, timeout=self._timeout
        )

    async def send(self, message: AlertMessage, destination: Destination) -> DeliveryOutcome:
        started = time.monotonic()
        try:
            parse_webhook_url(destination.target, allow_private=self._allow_private)
            request = self._request(message, destination)
        except (ValueError, httpx.InvalidURL) as exc:
            # A bad URL or a missing/malformed secret (TargetRejected is a ValueError too):
            # retrying cannot help until the endpoint is fixed and the alert replayed.
            return _failed(started, str(exc), permanent=True, attempted=False)
        try:
            async with asyncio.timeout(self._attempt_timeout_s):
                await check_target_async(
                    destination.target,
                    TargetKind.WEBHOOK,
                    allow_private=self._allow_private,
                    resolver=self._resolver,
                )
                # Streamed and closed unread: a receiver's body is of no use and may be huge.
                response = await self._client.send(request, stream=True, follow_redirects=False)
                await response.aclose()
        except (TargetRejected, TimeoutError, httpx.HTTPError) as exc:
            return _transport_failure(started, exc)
        return _webhook_outcome(response, started)


def _webhook_outcome(response: httpx.Response, started: float) -> DeliveryOutcome:
    status = response.status_code
    ok, permanent = classify_status(status)
    if ok:
        return DeliveryOutcome(ok=True, status_code=status, duration_ms=elapsed_ms(started))
    error = f"HTTP {status} {response.reason_phrase}"
    if 300 <= status < 400:
        error += f"; redirect to {response.headers.get('location', '?')} not followed"
    retry_after = None if permanent else parse_retry_after(response.headers.get("retry-after"))
    return _failed(
        started,
        error,
        status_code=status,
        retry_after_s=retry_after,
        permanent=permanent,
        disable_endpoint=status == 410,
    )


def _chat_param(chat_id: str) -> int | str:
    return chat_id if chat_id.startswith("@") else int(chat_id)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def telegram_outcome(response: httpx.Response, started: float) -> DeliveryOutcome:
    """Branch on HTTP status and `parameters`, not on `description` wording (channels.md §2.2)."""
    status, data = response.status_code, _json_object(response)
    if status == 200 and data.get("ok") is True:
        return DeliveryOutcome(ok=True, status_code=status, duration_ms=elapsed_ms(started))
    raw_params = data.get("parameters")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    error = f"Telegram {status}: {data.get('description') or response.reason_phrase}"
    fields: dict[str, Any] = {"status_code": status}
    if isinstance(params.get("migrate_to_chat_id"), int):
        fields["new_target"] = str(params["migrate_to_chat_id"])
    elif isinstance(params.get("retry_after"), int | float):
        fields["retry_after_s"] = float(params["retry_after"])
    elif status == 403:
        # Blocked, kicked or not a member: nothing reaches this chat until someone fixes it.
        fields.update(permanent=True, disable_endpoint=True)
    elif 400 <= status < 500 and status not in (408, 429):
        fields["permanent"] = True
    return _failed(started, error, **fields)


class TelegramSender:
    """`sendMessage` with plain text (no parse_mode, so nothing needs escaping)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        bot_token: str,
        api_base: str = TELEGRAM_API,
        *,
        pacer: TelegramPacer | None = None,
        max_wait_s: float = 5.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        attempt_timeout_s: float = ATTEMPT_TIMEOUT_S,
    ) -> None:
        self._client = client
        self._token = bot_token
        self._url = f"{api_base.rstrip('/')}/bot{bot_token}/sendMessage"
        self._pacer = pacer
        self._max_wait_s = max_wait_s
        self._timeout = timeout
        self._attempt_timeout_s = attempt_timeout_s

    async def _post(self, chat_id: str, text: str) -> DeliveryOutcome:
        started = time.monotonic()
        payload = {
            "chat_id": _chat_param(chat_id),
            "text": text,
            "link_preview_options": {"is_disabled": True},
        }
        try:
            async with asyncio.timeout(self._attempt_timeout_s):
                response = await self._client.post(
                    self._url, json=payload, timeout=self._timeout, follow_redirects=False
                )
        except (TargetRejected, TimeoutError, httpx.HTTPError) as exc:
            # The token is part of the URL: keep it out of stored errors.
            return _transport_failure(started, exc, scrub=self._token)
        return telegram_outcome(response, started)

    async def _pace(self, chat_id: str) -> DeliveryOutcome | None:
        if self._pacer is None:
            return None
        granted, delay = self._pacer.reserve(chat_id, max_wait_s=self._max_wait_s)
        if not granted:
            # Waiting longer would hold a worker slot: let the job queue defer instead.
            return DeliveryOutcome(
                ok=False, retry_after_s=delay, attempted=False, error="paced: chat rate limit"
            )
        await asyncio.sleep(delay)
        return None

    async def send(self, message: AlertMessage, destination: Destination) -> DeliveryOutcome:
        try:
            chat_id = normalize_chat_id(destination.target)
        except TargetRejected as exc:
            return _failed(time.monotonic(), str(exc), permanent=True, attempted=False)
        paced = await self._pace(chat_id)
        if paced is not None:
            return paced
        text = telegram_text(message)
        outcome = await self._post(chat_id, text)
        if outcome.new_target is not None:
            # The group became a supergroup: resend there once and report the new id to store.
            moved = await self._post(outcome.new_target, text)
            outcome = dataclasses.replace(moved, new_target=outcome.new_target)
        if self._pacer is not None and outcome.retry_after_s is not None:
            self._pacer.penalize(chat_id, outcome.retry_after_s)
        return outcome


class SenderUnavailable(LookupError):
    """No sender is configured for this endpoint kind (e.g. no Telegram bot token)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Senders:
    """Build once per worker process (worker ctx); `deliver` is what the delivery job calls."""

    webhook: Sender | None = None
    email: Sender | None = None
    telegram: Sender | None = None

    def sender_for(self, kind: TargetKind | str) -> Sender:
        sender: Sender | None = getattr(self, parse_kind(kind).value)
        if sender is None:
            raise SenderUnavailable(f"no {kind} sender is configured")
        return sender

    async def deliver(self, message: AlertMessage, destination: Destination) -> DeliveryOutcome:
        try:
            sender = self.sender_for(destination.kind)
        except (SenderUnavailable, TargetRejected) as exc:
            # Not retried: a configuration change needs a manual replay from the dead letters.
            return DeliveryOutcome(ok=False, permanent=True, attempted=False, error=str(exc))
        return await sender.send(message, destination)


__all__ = [
    "EmailSender",
    "Sender",
    "SenderUnavailable",
    "Senders",
    "TelegramSender",
    "WebhookSender",
]
