"""Message rendering, and the personal-data canary across every outbound channel."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy

import httpx
import pytest

from service.alerts import (
    AlertMessage,
    AlertType,
    Clock,
    Destination,
    EmailSender,
    Senders,
    TargetKind,
    TelegramSender,
    WebhookSender,
    email_text,
    telegram_text,
    webhook_body,
)

from .fakes import FakeSmtp, TelegramServer, WebhookReceiver
from .helpers import CANARIES, FAST_TIMEOUT, CitizenItem, Secret, make_message

NOW = datetime(2026, 3, 12, 11, 0, 5, tzinfo=UTC)


def from_item(item: CitizenItem, **overrides: object) -> AlertMessage:
    fields: dict[str, object] = {
        "alert_id": uuid.uuid4(),
        "type": "sla.warning",
        "clock": "first_response",
        "level": 0,
        "link": f"https://cur.example.ru/items/{item.id}",
        "occurred_at": NOW,
        "authority_name": "Администрация Зарянского сельсовета",
    }
    fields.update(overrides)
    return AlertMessage.for_item(item, **fields)  # type: ignore[arg-type]


def test_for_item_takes_the_deadline_of_the_clock() -> None:
    item = CitizenItem()
    assert from_item(item).due_at == item.first_response_due_at
    resolution = from_item(item, clock="resolution", type=AlertType.ESCALATION, level=2)
    assert resolution.due_at == item.resolution_due_at and resolution.clock is Clock.RESOLUTION
    assert from_item(item, authority_code="d_parent").authority_code == "d_parent"


def test_for_item_without_deadline_fails_loudly() -> None:
    with pytest.raises(ValueError, match="deadline"):
        from_item(CitizenItem(first_response_due_at=None))


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "sla.unknown"},
        {"clock": "lunch"},
        {"due_at": datetime(2026, 3, 12, 11, 0)},
        {"alert_id": "a.b"},
        {"timezone": "Mars/Olympus"},
    ],
)
def test_invalid_messages_are_refused_at_construction(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own wording
        make_message(**bad)


def test_webhook_body_has_the_contract_fields_in_iso_8601() -> None:
    message = make_message(due_at=datetime(2026, 3, 12, 18, 0, tzinfo=timezone(timedelta(hours=7))))
    body = json.loads(webhook_body(message))
    assert body == {
        "type": "sla.breach",
        "timestamp": "2026-03-12T11:00:03+00:00",
        "alert_id": message.alert_id,
        "item_id": message.item_id,
        "authority_code": "s_zarya",
        "clock": "first_response",
        "due_at": "2026-03-12T18:00:00+07:00",
        "level": 1,
        "link": message.link,
        "occurred_at": "2026-03-12T11:00:03+00:00",
    }
    assert webhook_body(message) == webhook_body(message)  # stable bytes across retries


def test_human_texts_show_the_deadline_in_the_authority_time_zone() -> None:
    message = make_message(type="sla.warning", clock="resolution", level="ЦУР")
    subject, body = email_text(message)
    assert subject == f"[SLA] Приближается срок решения: обращение {message.item_id}"
    assert "Срок решения: 12.03.2026 18:00 (Asia/Barnaul, UTC+07:00)" in body
    assert "Уровень: ЦУР" in body
    moscow = make_message(timezone="Europe/Moscow")
    assert "12.03.2026 14:00 (Europe/Moscow, UTC+03:00)" in telegram_text(moscow)


def test_renderings_carry_no_personal_data() -> None:
    message = from_item(CitizenItem())
    texts = [webhook_body(message).decode(), *email_text(message), telegram_text(message)]
    for text in texts:
        for canary in CANARIES:
            assert canary not in text


async def test_no_personal_data_leaves_through_any_channel(
    client: httpx.AsyncClient,
    receiver: WebhookReceiver,
    telegram: TelegramServer,
    smtp: FakeSmtp,
    secret: Secret,
) -> None:
    senders = Senders(
        webhook=WebhookSender(client, allow_private=True, timeout=FAST_TIMEOUT),
        telegram=TelegramSender(client, telegram.fake.token, telegram.url, timeout=FAST_TIMEOUT),
        email=EmailSender("127.0.0.1", smtp.port, "alerts@cur.example.ru", timeout=3),
    )
    message = from_item(CitizenItem())
    destinations = [
        Destination(kind=TargetKind.WEBHOOK, target=receiver.url + "/ok", secrets=(secret.value,)),
        Destination(kind=TargetKind.TELEGRAM, target="-1001"),
        Destination(kind=TargetKind.EMAIL, target="head@example.ru"),
    ]
    for destination in destinations:
        assert (await senders.deliver(message, destination)).ok
    email = message_from_bytes(smtp.mails[0].data, policy=policy.default)
    outbound = [
        receiver.hits[0].body.decode(),
        json.dumps(receiver.hits[0].headers, ensure_ascii=False),
        telegram.fake.calls[0].raw.decode(),
        json.dumps(telegram.fake.calls[0].payload, ensure_ascii=False),
        smtp.mails[0].data.decode(),
        str(email["Subject"]),
        email.get_content(),
    ]
    for text in outbound:
        for canary in CANARIES:
            assert canary not in text
    assert all(message.item_id in text for text in (outbound[0], outbound[3], outbound[6]))


async def test_dispatch_by_kind_and_unconfigured_kinds() -> None:
    senders = Senders()
    outcome = await senders.deliver(
        make_message(), Destination(kind=TargetKind.TELEGRAM, target="1")
    )
    assert outcome.permanent and not outcome.attempted and "telegram" in (outcome.error or "")
    email = EmailSender("127.0.0.1", 1, "a@example.ru")
    assert Senders(email=email).sender_for("email") is email
