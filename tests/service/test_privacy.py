"""Personal data: masked by default, revealed only with an audit event, purged after retention."""

from __future__ import annotations

import datetime as dt
import uuid

from schemas.items import Contact, Item
from service.items.privacy import purge_expired
from tests.builders import SETTLEMENT, run_worker_burst, widget_report

CONTACT = {"name": "Иван Петров", "email": "ivan@mail.ru", "phone": "+7 913 000-00-12"}


async def reported(client, settings) -> str:
    r = await widget_report(client, contact=CONTACT, consent=True)
    await run_worker_burst(settings)
    return str(r.json()["id"])


async def test_contact_masked_in_detail(client, settings, make_user):
    item_id = await reported(client, settings)
    staff = await make_user("responder", SETTLEMENT)
    contact = (await client.get(f"/api/v1/items/{item_id}", headers=staff)).json()["contact"]
    assert contact == {
        "name": "И***",
        "email": "i***@mail.ru",
        "phone": "+7 *** ***-**-12",
        "masked": True,
    }


async def test_reveal_is_audited_and_role_bound(client, settings, make_user):
    item_id = await reported(client, settings)
    staff = await make_user("responder", SETTLEMENT)
    sup = await make_user("supervisor", "d_aleysky")
    url = f"/api/v1/items/{item_id}/contact/reveal"
    assert (await client.post(url, headers=staff, json={"reason": "звонок"})).status_code == 403
    r = await client.post(url, headers=sup, json={"reason": "уточнить адрес по телефону"})
    assert r.status_code == 200
    assert r.json() == {**CONTACT, "masked": False}
    events = (await client.get(f"/api/v1/items/{item_id}/events", headers=sup)).json()
    assert events[-1]["kind"] == "contact_revealed"
    assert events[-1]["actor"] == f"user:{sup['id']}"
    other = await make_user("supervisor", "d_shipunovsky")
    assert (await client.post(url, headers=other, json={"reason": "x" * 5})).status_code == 404


async def test_purge_after_retention(client, settings, make_user, sessionmaker):
    item_id = await reported(client, settings)
    staff = await make_user("responder", SETTLEMENT)
    await client.post(
        f"/api/v1/items/{item_id}/reply", headers=staff, json={"text": "Сделано", "final": True}
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.pii_retention_days + 1)
    async with sessionmaker() as s:
        assert await purge_expired(s, dt.datetime.now(dt.UTC), settings.pii_retention_days) == 0
        assert await purge_expired(s, later, settings.pii_retention_days) == 1
        await s.commit()
    async with sessionmaker() as s:
        contact = await s.get(Contact, uuid.UUID(item_id))
        item = await s.get(Item, uuid.UUID(item_id))
    assert contact is not None and contact.purged_at is not None
    assert (contact.name, contact.email, contact.phone) == (None, None, None)
    assert item is not None and item.text  # the appeal itself is kept (archive rules)
    detail = (await client.get(f"/api/v1/items/{item_id}", headers=staff)).json()
    assert detail["contact"] is None
    events = (await client.get(f"/api/v1/items/{item_id}/events", headers=staff)).json()
    assert events[-1]["kind"] == "pii_purged"


async def test_purge_counts_from_the_finish_or_the_receipt_and_erases_the_copies(
    client, settings, make_user, sessionmaker
):
    """A reveal (an event) does not restart the period; an item nobody finished is purged
    counting from its receipt; the request's fingerprint (a hash of the body, contact included)
    and its deliveries' last errors go with the contact."""
    from sqlmodel import select

    from schemas.items import ItemEvent
    from schemas.replies import ReplyDelivery

    days = settings.pii_retention_days
    answered, untouched = await reported(client, settings), await reported(client, settings)
    staff = await make_user("responder", SETTLEMENT)
    sup = await make_user("supervisor", "d_aleysky")
    await client.post(
        f"/api/v1/items/{answered}/reply", headers=staff, json={"text": "Сделано", "final": True}
    )
    async with sessionmaker() as s:
        old = await s.get(Item, uuid.UUID(untouched))
        done = await s.get(Item, uuid.UUID(answered))
        assert old is not None and done is not None and done.answered_at and done.request_hash
        old.received_at -= dt.timedelta(days=days)  # received long ago, never finished
        done.answered_at -= dt.timedelta(days=days)  # answered long ago
        s.add_all([old, done])
        [event_id] = (await s.exec(select(ItemEvent.id).where(ItemEvent.item_id == done.id))).all()[
            :1
        ]
        s.add(ReplyDelivery(item_id=done.id, event_id=event_id, kind="email", last_error="550"))
        await s.commit()
    reveal = f"/api/v1/items/{answered}/contact/reveal"
    assert (await client.post(reveal, headers=sup, json={"reason": "звонок"})).status_code == 200
    async with sessionmaker() as s:
        assert await purge_expired(s, dt.datetime.now(dt.UTC) + dt.timedelta(days=1), days) == 2
        await s.commit()
    async with sessionmaker() as s:
        for item_id in (answered, untouched):
            item = await s.get(Item, uuid.UUID(item_id))
            contact = await s.get(Contact, uuid.UUID(item_id))
            assert item is not None and item.request_hash is None
            assert contact is not None and contact.email is None
        errors = (await s.exec(select(ReplyDelivery.last_error))).all()
        assert all(e is None for e in errors), errors


async def test_the_purge_job_works_through_a_backlog(settings, sessionmaker, monkeypatch):
    from workers import items as jobs

    async with sessionmaker() as s:
        for _ in range(5):
            item = Item(channel="widget", external_id=uuid.uuid4().hex, text="яма")
            item.received_at -= dt.timedelta(days=settings.pii_retention_days + 1)
            s.add(item)
            await s.flush()
            s.add(Contact(item_id=item.id, phone="+79130000000", consent=True))
        await s.commit()
    monkeypatch.setattr(jobs, "PURGE_BATCH", 2)  # three batches: 2, 2, 1
    ctx = {"settings": settings, "sessionmaker": sessionmaker, "redis": None}
    assert await jobs.purge_personal_data(ctx) == 5


async def test_database_errors_do_not_carry_the_values(settings):
    """Error texts reach the logs: an insert that fails must not print its contact values."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from service.db import make_engine

    engine = make_engine(settings, name="test")
    try:
        async with engine.begin() as conn:
            with pytest.raises(IntegrityError) as failed:
                await conn.execute(
                    Contact.__table__.insert(),  # type: ignore[attr-defined]
                    {"item_id": uuid.uuid4(), "email": "secret.person@mail.ru", "consent": True},
                )
    finally:
        await engine.dispose()
    assert "secret.person@mail.ru" not in str(failed.value)
