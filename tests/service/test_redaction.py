"""Contact details written into texts go with the contact at the end of retention (152-FZ)."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from schemas.extensions import DeadlineExtension
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


def mask_of(contact: dict[str, str | None]):
    masks = redactor(Contact(item_id=uuid.uuid4(), **contact))
    return masks.any_text, masks.citizens


def test_the_contacts_own_details_in_any_form_are_masked():
    any_text, _ = mask_of(CONTACT)
    text = "Марии Ивановой: 123-45-67, +79131234567, 8 913 1234567, Maria@Mail.ru"
    assert any_text(text) == ", ".join([f"{MASK} {MASK}: {MASK}", MASK, MASK, MASK])


def test_places_and_other_words_that_share_a_stem_stay():
    any_text, citizens = mask_of(CONTACT)
    text = "Ивановка, улица Марийская, дом 12, кв. 45, индекс 656000, 2021 год, 8 домов"
    assert any_text(text) == text
    assert citizens(text) == text


def test_every_case_form_of_the_name_as_a_name_is_written():
    any_text, _ = mask_of({"name": "Пётр Вишневский", "email": None, "phone": None})
    text = "Петр Вишневский; Петру; ВИШНЕВСКОМУ; Уважаемый Пётр!; вишневый сад"
    assert any_text(text) == f"{MASK} {MASK}; {MASK}; {MASK}; Уважаемый {MASK}!; вишневый сад"
    any_text, _ = mask_of({"name": "Андрей Ян", "email": None, "phone": None})
    assert any_text("Андрей, Андрея, Ян, Яну, андреевский") == ", ".join(
        [MASK] * 4 + ["андреевский"]
    )


def test_a_name_that_is_also_a_word_goes_only_as_a_name():
    any_text, _ = mask_of({"name": "Вера Лев", "email": None, "phone": None})
    text = "Вера пишет: на левом берегу вера в справедливость, Льва нет"
    assert any_text(text) == f"{MASK} пишет: на левом берегу вера в справедливость, {MASK} нет"


def test_codes_that_look_like_phones_stay():
    _, citizens = mask_of({"name": None, "email": None, "phone": None})
    text = "ИНН 8401234567, счёт № 8913123456, тел. 79131234567 и (913) 123 45 67"
    assert citizens(text) == f"ИНН 8401234567, счёт № 8913123456, тел. {MASK} и {MASK}"


def test_a_long_token_does_not_stall_the_e_mail_search():
    import time

    _, citizens = mask_of({"name": None, "email": None, "phone": None})
    started = time.perf_counter()
    citizens("x" * 20_000 + "@" + "y" * 10)
    # Linear: ~5 ms; the pattern that could start inside the token took ~1 s on this length.
    assert time.perf_counter() - started < 0.2


def test_in_the_citizens_words_any_phone_or_address_goes_too():
    _, citizens = mask_of({"name": "Мария", "email": None, "phone": None})
    said = "Мой 89991234567, у соседа +7 (923) 555-66-77 и 8-38553-2-12-34, почта x.y@ya.ru"
    assert citizens(said) == f"Мой {MASK}, у соседа {MASK} и {MASK}, почта {MASK}"


async def test_the_purge_masks_the_details_in_every_text_of_the_item(
    client, settings, make_user, sessionmaker
):
    address = "Садовая 5, спросить Марию"
    r = await widget_report(client, text=REPORT, contact=CONTACT, consent=True, address=address)
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
    supervisor = await make_user("supervisor", "d_aleysky")
    extension = {"reason": "Мария Иванова просила дождаться ремонта опоры"}
    r = await client.post(f"{base}/extensions", headers=supervisor, json=extension)
    assert r.status_code == 201, r.text
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
        [ext] = (await s.exec(select(DeadlineExtension))).all()
    assert item is not None
    assert item.text == (
        f"Не горит фонарь у дома 5 в Ивановке. Звоните {MASK} или пишите {MASK}, "
        f"{MASK} {MASK}. Сосед тоже ждёт: {MASK}, {MASK}."
    )
    assert example == item.text
    texts = {
        e.kind: e.data.get("text") or e.data.get("question") or e.data.get("reason") for e in events
    }
    assert texts["citizen_reply"] == f"Дом 5. Мой второй номер {MASK}"
    assert texts["request_info"] == f"{MASK}, уточните номер дома"
    # The authority's own phone in the official's reply is not the citizen's: it stays.
    assert texts["reply"] == (
        f"Уважаемая {MASK} {MASK}! Фонарь заменён. Телефон администрации {AUTHORITY_PHONE}."
    )
    assert item.address == f"Садовая 5, спросить {MASK}"
    assert texts["extension_requested"] == f"{MASK} {MASK} просила дождаться ремонта опоры"
    assert ext.reason == texts["extension_requested"]
    notice = next(e for e in events if e.kind == "deadline_extended").data
    assert "Мария" not in notice["text"] and MASK in notice["text"]
    purged = [e for e in events if e.kind == "pii_purged"]
    # The item, its question, the citizen's answer, the reply, the extension's two events,
    # the extension itself and the training example.
    assert [e.data["texts_masked"] for e in purged] == [8]
    public = (await client.get(status_url)).json()
    assert "Мария" not in str(public) and AUTHORITY_PHONE in str(public)
