"""Replies reach a citizen who left an e-mail address: through the outbox, with retries."""

from __future__ import annotations

import email
import email.policy
import uuid

import httpx
import pytest
from sqlmodel import select

from schemas.replies import ReplyDelivery
from tests.builders import run_worker_burst, widget_report

CONTACT = {"name": "Иван", "email": "ivan@example.com"}


@pytest.fixture
async def mailing(settings, smtp):
    from service.main import create_app

    live = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
    app = create_app(live)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield live, c


async def _reply(client, settings, make_user, **report) -> str:
    r = await widget_report(client, **report)
    assert r.status_code == 202, r.text
    item_id = r.json()["id"]
    await run_worker_burst(settings)
    staff = await make_user("responder", "s_aleysky_kashinsky")
    text = "Фонарь заменят до пятницы."
    body = {"text": text, "final": True}
    answer = await client.post(f"/api/v1/items/{item_id}/reply", headers=staff, json=body)
    assert answer.status_code == 200, answer.text
    return str(item_id)


async def _deliveries(sessionmaker, item_id: str) -> list[ReplyDelivery]:
    async with sessionmaker() as s:
        stmt = select(ReplyDelivery).where(ReplyDelivery.item_id == uuid.UUID(item_id))
        return list((await s.exec(stmt)).all())


async def test_reply_is_mailed_to_the_citizen(mailing, smtp, make_user, sessionmaker):
    settings, client = mailing
    item_id = await _reply(client, settings, make_user, contact=CONTACT, consent=True)
    await run_worker_burst(settings)
    assert len(smtp.mails) == 1
    mail = smtp.mails[0]
    assert mail.rcpt_to == ["ivan@example.com"]
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["Subject"] == "Ответ на ваше обращение"
    body = message.get_content()
    assert "Фонарь заменят до пятницы." in body
    assert f"/api/v1/widget/reports/{item_id}?token=" in body
    [delivery] = await _deliveries(sessionmaker, item_id)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    # Running the worker again sends nothing twice.
    await run_worker_burst(settings)
    assert len(smtp.mails) == 1


async def test_no_consent_or_no_address_means_no_mail(mailing, smtp, make_user, sessionmaker):
    settings, client = mailing
    no_address = await _reply(client, settings, make_user, contact={"name": "Иван"}, consent=True)
    await run_worker_burst(settings)
    assert smtp.mails == [] and await _deliveries(sessionmaker, no_address) == []


async def test_temporary_refusal_is_retried_and_a_permanent_one_is_dead(
    mailing, smtp, make_user, sessionmaker
):
    settings, client = mailing
    smtp.rcpt_replies["ivan@example.com"] = b"451 4.7.1 greylisted"
    item_id = await _reply(client, settings, make_user, contact=CONTACT, consent=True)
    await run_worker_burst(settings)
    [delivery] = await _deliveries(sessionmaker, item_id)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error and "451" in delivery.last_error
    assert delivery.next_attempt_at > delivery.created_at

    smtp.rcpt_replies["ivan@example.com"] = b"550 5.1.1 <ivan@example.com>: no such user"
    other = await _reply(client, settings, make_user, contact=CONTACT, consent=True)
    await run_worker_burst(settings)
    [dead] = await _deliveries(sessionmaker, other)
    assert dead.status == "dead" and dead.last_error and "550" in dead.last_error
    # The citizen's address (in the refusal, twice) is kept out of the stored error.
    assert "ivan@example.com" not in dead.last_error, dead.last_error


async def test_without_smtp_nothing_is_planned(client, settings, make_user, sessionmaker):
    item_id = await _reply(client, settings, make_user, contact=CONTACT, consent=True)
    assert await _deliveries(sessionmaker, item_id) == []


async def test_a_question_is_mailed_under_its_own_subject(mailing, smtp, make_user, sessionmaker):
    settings, client = mailing
    r = await widget_report(client, contact=CONTACT, consent=True)
    item_id = r.json()["id"]
    await run_worker_burst(settings)
    staff = await make_user("responder", "s_aleysky_kashinsky")
    await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
    body = {"question": "Уточните, пожалуйста, адрес."}
    asked = await client.post(f"/api/v1/items/{item_id}/request-info", headers=staff, json=body)
    assert asked.status_code == 200, asked.text
    await run_worker_burst(settings)
    [mail] = smtp.mails
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["Subject"] == "Уточнение по вашему обращению"
    assert "Уточните, пожалуйста, адрес." in message.get_content()
