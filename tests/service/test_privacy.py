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
