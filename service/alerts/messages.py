"""The alert message and its renderings for webhook, e-mail and Telegram.

Only ids, the authority, the clock, the deadline, the level and a link ever leave the service:
e-mail and Telegram carry no personal data (SPEC §5, §8; 584-FZ), and the webhook body is thin
too. `AlertMessage.for_item` reads nothing else from an item, so the citizen's text and contact
details cannot leak into an alert by accident.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Barnaul"
TELEGRAM_MAX_CHARS = 4096


class AlertType(StrEnum):
    WARNING = "sla.warning"
    BREACH = "sla.breach"
    ESCALATION = "sla.escalation"


class Clock(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class ItemRef(Protocol):
    """The only item attributes an alert may use (schemas.items.Item satisfies it)."""

    @property
    def id(self) -> uuid.UUID | str: ...

    @property
    def authority_code(self) -> str | None: ...

    @property
    def first_response_due_at(self) -> datetime | None: ...

    @property
    def resolution_due_at(self) -> datetime | None: ...


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertMessage:
    alert_id: str  # the webhook-id: stable across retries so receivers can de-duplicate
    type: AlertType
    item_id: str
    authority_code: str
    clock: Clock
    due_at: datetime
    level: int | str
    link: str
    occurred_at: datetime
    authority_name: str | None = None
    timezone: str = DEFAULT_TIMEZONE  # the authority's, for deadlines shown to people

    def __post_init__(self) -> None:
        # Coerce plain strings from the DB layer; unknown values fail here, not mid-delivery.
        object.__setattr__(self, "type", AlertType(self.type))
        object.__setattr__(self, "clock", Clock(self.clock))
        _require_aware("due_at", self.due_at)
        _require_aware("occurred_at", self.occurred_at)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if not self.alert_id or "." in self.alert_id or any(c.isspace() for c in self.alert_id):
            raise ValueError("alert_id must be non-empty, without '.' or whitespace")

    @classmethod
    def for_item(
        cls,
        item: ItemRef,
        *,
        alert_id: str | uuid.UUID,
        type: AlertType | str,
        clock: Clock | str,
        level: int | str,
        link: str,
        occurred_at: datetime,
        authority_code: str | None = None,
        authority_name: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> AlertMessage:
        """Build from an item; `authority_code` overrides the item's (escalation to a parent)."""
        clock = Clock(clock)
        due = (
            item.first_response_due_at if clock is Clock.FIRST_RESPONSE else item.resolution_due_at
        )
        code = authority_code or item.authority_code
        if due is None or code is None:
            raise ValueError(f"item {item.id} has no {clock.value} deadline or no authority")
        return cls(
            alert_id=str(alert_id),
            type=AlertType(type),
            item_id=str(item.id),
            authority_code=code,
            clock=clock,
            due_at=due,
            level=level,
            link=link,
            occurred_at=occurred_at,
            authority_name=authority_name,
            timezone=timezone,
        )


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def webhook_payload(message: AlertMessage) -> dict[str, Any]:
    return {
        "type": message.type.value,
        "timestamp": _iso(message.occurred_at),  # Standard Webhooks' recommended event time
        "alert_id": message.alert_id,
        "item_id": message.item_id,
        "authority_code": message.authority_code,
        "clock": message.clock.value,
        "due_at": _iso(message.due_at),
        "level": message.level,
        "link": message.link,
        "occurred_at": _iso(message.occurred_at),
    }


def webhook_body(message: AlertMessage) -> bytes:
    """Compact, key-sorted JSON: the same message always gives the same bytes."""
    payload = webhook_payload(message)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


_HEADLINES = {
    AlertType.WARNING: "Приближается срок",
    AlertType.BREACH: "Нарушен срок",
    AlertType.ESCALATION: "Эскалация: нарушен срок",
}
_CLOCKS = {Clock.FIRST_RESPONSE: "первого ответа", Clock.RESOLUTION: "решения"}


def local_deadline(message: AlertMessage) -> str:
    """`31.12.2026 18:00 (Asia/Barnaul, UTC+07:00)`."""
    local = message.due_at.astimezone(ZoneInfo(message.timezone))
    offset = local.strftime("%z")
    return f"{local:%d.%m.%Y %H:%M} ({message.timezone}, UTC{offset[:3]}:{offset[3:]})"


def _authority(message: AlertMessage) -> str:
    if message.authority_name:
        return f"{message.authority_name} ({message.authority_code})"
    return message.authority_code


def _facts(message: AlertMessage) -> list[str]:
    return [
        f"Обращение: {message.item_id}",
        f"Орган власти: {_authority(message)}",
        f"Срок {_CLOCKS[message.clock]}: {local_deadline(message)}",
        f"Уровень: {message.level}",
        f"Ссылка: {message.link}",
    ]


class EmailText(NamedTuple):
    subject: str
    body: str


def email_text(message: AlertMessage) -> EmailText:
    headline = f"{_HEADLINES[message.type]} {_CLOCKS[message.clock]}"
    subject = f"[SLA] {headline}: обращение {message.item_id}"
    lines = [
        f"{headline} по обращению.",
        "",
        *_facts(message),
        "",
        "Текст обращения и данные заявителя в уведомление не включаются: откройте ссылку.",
        "Это автоматическое сообщение, отвечать на него не нужно.",
    ]
    return EmailText(subject, "\n".join(lines) + "\n")


def telegram_text(message: AlertMessage) -> str:
    headline = f"{_HEADLINES[message.type]} {_CLOCKS[message.clock]}"
    text = "\n".join([f"⚠️ {headline}", *_facts(message)])
    return text[:TELEGRAM_MAX_CHARS]
