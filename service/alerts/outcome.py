"""What one delivery attempt produced, and how HTTP answers map onto it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from service.alerts.ssrf import TargetKind

ERROR_MAX_CHARS = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """Where one alert goes: the caller maps its alert-endpoint row onto this."""

    kind: TargetKind
    target: str  # URL, e-mail address or Telegram chat id
    secrets: tuple[str, ...] = ()  # webhook signing; several during a rotation


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryOutcome:
    """The result of one attempt; senders return it instead of raising for expected failures.

    `permanent`: do not retry this alert. `disable_endpoint`: the receiver is gone (410, bot
    blocked); stop sending anything there. `attempted=False`: nothing left the process (local
    pacing), so the attempt need not count against the retry budget. `new_target`: Telegram moved
    the chat (group became a supergroup): store it.
    """

    ok: bool
    status_code: int | None = None
    retry_after_s: float | None = None
    permanent: bool = False
    error: str | None = None
    duration_ms: int = 0
    disable_endpoint: bool = False
    attempted: bool = True
    new_target: str | None = None


def short_error(text: str) -> str:
    # Errors are stored and shown to operators: one line, bounded.
    return " ".join(text.split())[:ERROR_MAX_CHARS]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, math.ceil(delta))


# Client errors that say "not now" rather than "never" (RFC 9110, RFC 8470, RFC 6585).
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


def classify_status(status: int) -> tuple[bool, bool]:
    """(ok, permanent) for a webhook answer per Standard Webhooks delivery rules."""
    if 200 <= status < 300:
        return True, False
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return False, True
    # 1xx/3xx (redirects are not followed) and 5xx: a failure worth retrying.
    return False, False


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
