"""Builders shared by the alert tests."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from service.alerts import AlertMessage, AlertType, Clock
from service.alerts.signing import SECRET_PREFIX

# Short enough to keep the timeout tests quick, long enough for a loaded 2-core machine.
FAST_TIMEOUT = httpx.Timeout(connect=2.0, read=0.4, write=2.0, pool=2.0)

CANARY = "КАНАРЕЙКА-7f3a"
CANARY_EMAIL = "canary-7f3a@example.org"
CANARY_PHONE = "+7 900 555-77-33"
CANARIES = (CANARY, CANARY_EMAIL, CANARY_PHONE, "Ленина", "фонарь")


@dataclass
class Secret:
    key: bytes
    value: str


def make_secret() -> Secret:
    key = secrets.token_bytes(24)
    return Secret(key, SECRET_PREFIX + base64.b64encode(key).decode())


@dataclass
class CitizenItem:
    """Item-shaped object carrying personal data that must never reach an alert."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    authority_code: str | None = "s_zarya"
    first_response_due_at: datetime | None = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)
    resolution_due_at: datetime | None = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)
    text: str = f"Не горит фонарь у дома 5, {CANARY}, звоните {CANARY_PHONE}"
    address: str = f"ул. Ленина, 5, кв. 12 ({CANARY})"
    contact: dict[str, Any] = field(
        default_factory=lambda: {"name": CANARY, "phone": CANARY_PHONE, "email": CANARY_EMAIL}
    )


def make_message(**overrides: Any) -> AlertMessage:
    fields: dict[str, Any] = {
        "alert_id": f"alert_{uuid.uuid4().hex}",
        "type": AlertType.BREACH,
        "item_id": str(uuid.uuid4()),
        "authority_code": "s_zarya",
        "clock": Clock.FIRST_RESPONSE,
        "due_at": datetime(2026, 3, 12, 11, 0, tzinfo=UTC),
        "level": 1,
        "link": "https://cur.example.ru/items/42",
        "occurred_at": datetime(2026, 3, 12, 11, 0, 3, tzinfo=UTC),
    }
    fields.update(overrides)
    return AlertMessage(**fields)
