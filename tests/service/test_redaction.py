"""Contact details written into texts go with the contact at the end of retention (152-FZ)."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from schemas.items import Contact, Item, ItemEvent
from schemas.routing import LabelledExample
from service.items.privacy import purge_expired
from service.items.redaction import MASK, redactor
from tests.builders import SETTLEMENT, run_worker_burst, widget_report

CONTACT = {"name": "Мария Иванова", "email": "maria@mail.ru", "phone": "+7 913 123-45-67"}
REPORT = (
    "Не горит фонарь у дома 5 в Ивановке. Звоните 8 (913) 123-45-67 или пишите MARIA@mail.ru, "
    "Иванова Мария. Сосед тоже ждёт: 8-923-555-66-77, petrov@ya.ru."
)
AUTHORITY_PHONE = "8 (38553) 2-12-34"


def mask_of(contact: dict[str, str]):
    any_text, citizens = redactor(Contact(item_id=uuid.uuid4(), **contact))
    return any_text, citizens


def test_the_contacts_own_details_in_any_form_are_masked():
    any_text, _ = mask_of(CONTACT)
    text = "Марии Ивановой: 123-45-67, +79131234567, 8 913 1234567, Maria@Mail.ru"
    assert any_text(text) == ", ".join([f"{MASK} {MASK}: {MASK}", MASK, MASK, MASK])


def test_places_and_other_words_that_share_a_stem_stay():
    any_text, citizens = mask_of(CONTACT)
    text = "Ивановка, улица Марийская, дом 12, кв. 45, индекс 656000, 2021 год, 8 домов"
    assert any_text(text) == text
    assert citizens(text) == text


def test_in_the_citizens_words_any_phone_or_address_goes_too():
    _, citizens = mask_of({"name": "Мария", "email": "", "phone": ""})
    said = "Мой 89991234567, у соседа +7 (923) 555-66-77 и 8-38553-2-12-34, почта x.y@ya.ru"
    assert citizens(said) == f"Мой {MASK}, у соседа {MASK} и {MASK}, почта {MASK}"


async def test_the_purge_masks_the_details_in_every_text_of_the_item(
    client, settings, make_user, sessionmaker
):
    r = await widget_report(client, text=REPORT, contact=CONTACT, consent=True)
    item_id, status_url = r.json()["id"], r.json()["status_url"]
    await run_worker_burst(settings)
    staff = await make_user("responder", SETTLEMENT)
    base = f"/api/v1/items/{item_id}"
    await client.post(f"{base}/claim", headers=staff)
    question = "Мария, уточните номер дома"
    assert (
        await client.post(f"{base}/request-info", headers=staff, json={"question": question})
    ).status_code == 200
    token = parse_qs(urlparse(status_url).query)["token"][0]
    r = await client.post(
        f"/api/v1/widget/reports/{item_id}/messages",
        params={"token": token},
        json={"text": "Дом 5. Мой второй номер 8 960 111-22-33"},
    )
    assert r.status_code == 200, r.text
    answer = f"Уважаемая Мария Иванова! Фонарь заменён. Телефон администрации {AUTHORITY_PHONE}."
    r = await client.post(f"{base}/reply", headers=staff, json={"text": answer, "final": True})
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        s.add(
            LabelledExample(
                item_id=uuid.UUID(item_id),
                source="triage",
                text=REPORT,
                channel="widget",
                authority_code=SETTLEMENT,
                created_by="test",
            )
        )
        await s.commit()

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.pii_retention_days + 1)
    async with sessionmaker() as s:
        assert await purge_expired(s, later, settings.pii_retention_days) == 1
        await s.commit()

    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        events = (
            await s.exec(select(ItemEvent).where(ItemEvent.item_id == uuid.UUID(item_id)))
        ).all()
        [example] = (await s.exec(select(LabelledExample.text))).all()
    assert item is not None
    assert item.text == (
        f"Не горит фонарь у дома 5 в Ивановке. Звоните {MASK} или пишите {MASK}, "
        f"{MASK} {MASK}. Сосед тоже ждёт: {MASK}, {MASK}."
    )
    assert example == item.text
    texts = {e.kind: e.data.get("text") or e.data.get("question") for e in events}
    assert texts["citizen_reply"] == f"Дом 5. Мой второй номер {MASK}"
    assert texts["request_info"] == f"{MASK}, уточните номер дома"
    # The authority's own phone in the official's reply is not the citizen's: it stays.
    assert texts["reply"] == (
        f"Уважаемая {MASK} {MASK}! Фонарь заменён. Телефон администрации {AUTHORITY_PHONE}."
    )
    purged = [e for e in events if e.kind == "pii_purged"]
    assert [e.data["texts_masked"] for e in purged] == [5]
    public = (await client.get(status_url)).json()
    assert "Мария" not in str(public) and AUTHORITY_PHONE in str(public)
