"""Replies back through the channel the citizen wrote from: a VK comment, a platform answer, a
Telegram message in the discussion thread.

VK: `wall.createComment` as the community, threaded under the citizen's comment, with our
delivery id as `guid`, so a repeated call after a lost answer posts nothing twice
(docs/channels.md §1.3). Error codes are sorted into "try again later" and "never" by the table
in §1.5. The platform publishes no answer API (§3.2), so answers go to the same adapter the
worker polls: `POST PLATFORM_ANSWER_URL` with the message's `external_id` and
`answer {text, attachments, signed_by}`, keyed by `Idempotency-Key`. Telegram: `sendMessage`
into the discussion group as a reply to the citizen's message (§2.2); the Bot API has no
idempotency key, so a reply whose answer was lost can appear twice there; it is paced per group
with the worker's alerts (service/alerts/pacing.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx

from service.alerts.outcome import (
    DeliveryOutcome,
    classify_status,
    elapsed_ms,
    parse_retry_after,
    short_error,
)
from service.alerts.pacing import TelegramPacer
from service.alerts.senders import telegram_outcome

# Bot API limit on a message's text; a longer answer goes as several replies to the comment.
TELEGRAM_MAX_TEXT = 4096

# VK error codes worth another attempt later: unknown/internal errors, request-rate and flood
# control, method quota, too many replies. Everything else (auth, access, comments closed,
# deleted post, bad parameter) will fail the same way again.
VK_RETRYABLE = frozenset({1, 6, 9, 10, 29, 223})


@dataclass(frozen=True)
class Sent:
    outcome: DeliveryOutcome
    external_ref: str | None = None
    # The ids of the further messages when the channel made us split the reply, or of every
    # part posted before an attempt failed.
    more_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class VkTarget:
    group_id: int
    access_token: str
    post_id: int
    comment_id: int


@dataclass(frozen=True)
class PlatformTarget:
    url: str
    token: str
    external_id: str
    signed_by: str
    final: bool


@dataclass(frozen=True)
class TelegramTarget:
    chat_id: int
    message_id: int


def failed(
    error: str, *, permanent: bool, attempted: bool = True, retry_after_s: float | None = None
) -> Sent:
    outcome = DeliveryOutcome(
        ok=False,
        permanent=permanent,
        attempted=attempted,
        error=error,
        retry_after_s=retry_after_s,
    )
    return Sent(outcome)


async def post_vk_comment(
    client: httpx.AsyncClient, api: str, version: str, target: VkTarget, text: str, guid: str
) -> Sent:
    form = {
        "owner_id": str(-target.group_id),
        "post_id": str(target.post_id),
        "from_group": str(target.group_id),
        "reply_to_comment": str(target.comment_id),
        "message": text,
        "guid": guid,
        "v": version,
    }
    headers = {"Authorization": f"Bearer {target.access_token}"}
    started = time.monotonic()
    try:
        r = await client.post(f"{api.rstrip('/')}/wall.createComment", data=form, headers=headers)
    except httpx.HTTPError as exc:
        return failed(short_error(f"{type(exc).__name__}: {exc}"), permanent=False)
    if r.status_code != 200:
        return _http_failure(r, started)
    return _vk_result(_json(r), r.status_code, elapsed_ms(started))


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _vk_result(body: Any, status: int, duration: int) -> Sent:
    if isinstance(body, dict) and isinstance(body.get("response"), dict):
        comment_id = body["response"].get("comment_id")
        outcome = DeliveryOutcome(ok=True, status_code=status, duration_ms=duration)
        return Sent(outcome, str(comment_id) if comment_id is not None else None)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return failed("VK answered without response or error", permanent=False)
    code = error.get("error_code")
    message = short_error(f"VK error {code}: {error.get('error_msg', '')}")
    return failed(message, permanent=code not in VK_RETRYABLE)


def _http_failure(r: httpx.Response, started: float) -> Sent:
    _, permanent = classify_status(r.status_code)
    outcome = DeliveryOutcome(
        ok=False,
        status_code=r.status_code,
        permanent=permanent,
        retry_after_s=parse_retry_after(r.headers.get("retry-after")),
        error=short_error(f"HTTP {r.status_code}: {r.text[:200]}"),
        duration_ms=elapsed_ms(started),
    )
    return Sent(outcome)


async def post_platform_answer(
    client: httpx.AsyncClient, target: PlatformTarget, text: str, key: str
) -> Sent:
    body = {
        "external_id": target.external_id,
        "final": target.final,
        "answer": {"text": text, "attachments": [], "signed_by": target.signed_by},
    }
    headers = {"Idempotency-Key": key}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    started = time.monotonic()
    try:
        r = await client.post(target.url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return failed(short_error(f"{type(exc).__name__}: {exc}"), permanent=False)
    if not 200 <= r.status_code < 300:
        return _http_failure(r, started)
    answer = _json(r)
    ref = answer.get("answer_id") if isinstance(answer, dict) else None
    outcome = DeliveryOutcome(ok=True, status_code=r.status_code, duration_ms=elapsed_ms(started))
    return Sent(outcome, str(ref) if ref is not None else None)


def telegram_parts(text: str, limit: int = TELEGRAM_MAX_TEXT) -> list[str]:
    """Cut at the last paragraph break, else line break, else space before the limit."""
    parts, rest = [], text.strip()
    while len(rest) > limit:
        head = rest[:limit]
        # The first kind of break that leaves a part at least half full wins.
        cuts = (head.rfind(sep) for sep in ("\n\n", "\n", " "))
        cut = next((c for c in cuts if c > limit // 2), limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts


@dataclass(frozen=True)
class TelegramBot:
    api_base: str
    token: str
    pacer: TelegramPacer | None = None
    # Longer than this before the first part can go, the job is deferred rather than held.
    max_wait_s: float = 5.0


async def post_telegram_reply(
    client: httpx.AsyncClient, bot: TelegramBot, target: TelegramTarget, text: str
) -> Sent:
    parts = telegram_parts(text)
    if not parts:
        return failed("the reply has no text", permanent=True, attempted=False)
    chat, pacer = str(target.chat_id), bot.pacer
    if pacer is not None:
        granted, delay = pacer.reserve(chat, max_wait_s=bot.max_wait_s, messages=len(parts))
        if not granted:
            return failed(
                "paced: chat rate limit", permanent=False, attempted=False, retry_after_s=delay
            )
        await asyncio.sleep(delay)
    sent = await _send_parts(client, bot, target, parts)
    if pacer is not None and sent.outcome.retry_after_s is not None:
        pacer.penalize(chat, sent.outcome.retry_after_s)
    return sent


async def _send_parts(
    client: httpx.AsyncClient, bot: TelegramBot, target: TelegramTarget, parts: list[str]
) -> Sent:
    url, token = f"{bot.api_base.rstrip('/')}/bot{bot.token}/sendMessage", bot.token
    refs: list[str] = []
    outcome = DeliveryOutcome(ok=False)
    for n, part in enumerate(parts):
        if n and bot.pacer is not None:
            await asyncio.sleep(bot.pacer.spacing(str(target.chat_id)))  # booked in advance
        payload = {
            "chat_id": target.chat_id,
            "text": part,
            # Still answer if the citizen deleted the comment: the thread is public.
            "reply_parameters": {
                "message_id": target.message_id,
                "allow_sending_without_reply": True,
            },
            "link_preview_options": {"is_disabled": True},
        }
        started = time.monotonic()
        try:
            r = await client.post(url, json=payload)
        except httpx.HTTPError as exc:
            # The token is part of the URL: keep it out of stored errors.
            error = f"{type(exc).__name__}: {exc}".replace(token, "***")
            return replace(failed(short_error(error), permanent=False), more_refs=tuple(refs))
        outcome = telegram_outcome(r, started)
        if not outcome.ok:
            # The parts already posted are in the thread: the citizen may answer them.
            return Sent(outcome, None, tuple(refs))
        body = _json(r)
        result = body.get("result") if isinstance(body, dict) else None
        if isinstance(result, dict) and result.get("message_id") is not None:
            refs.append(str(result["message_id"]))
    return Sent(outcome, refs[0] if refs else None, tuple(refs[1:]))
