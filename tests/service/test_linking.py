"""Items about one problem linked to a main item: the main's final answer answers them all."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlmodel import select

from schemas.items import Item, ItemEvent
from tests.builders import (
    DISTRICT,
    SETTLEMENT,
    SIBLING_SETTLEMENT,
    run_worker_burst,
    widget_report,
)
from tests.service.test_vk_callback import URL, event
from tests.workers.test_reply_channels import connect, deliveries

pytestmark = pytest.mark.usefixtures("redis")

LIGHT = "Не горит фонарь на улице Центральной у дома 3, вечером темно."
ANSWER = "Линия уличного освещения на Центральной отремонтирована."


async def reports(client: httpx.AsyncClient, settings: Any, *texts: str) -> list[dict[str, Any]]:
    """Widget reports on the settlement page, routed by one worker run: their 202 bodies."""
    bodies = []
    for text in texts:
        r = await widget_report(client, text=text)
        assert r.status_code == 202, r.text
        bodies.append(r.json())
    await run_worker_burst(settings)
    return bodies


async def act(client: httpx.AsyncClient, item_id: Any, action: str, staff: Any, body: Any = None):
    return await client.post(f"/api/v1/items/{item_id}/{action}", headers=staff, json=body)


async def history(sessionmaker: Any, item_id: Any) -> list[ItemEvent]:
    async with sessionmaker() as s:
        stmt = select(ItemEvent).where(ItemEvent.item_id == uuid.UUID(str(item_id)))
        return list((await s.exec(stmt.order_by(ItemEvent.id))).all())


async def redirect(client: httpx.AsyncClient, item_id: Any, staff: Any, to: str, why: str):
    body = {"authority_code": to, "reason": why}
    return await act(client, item_id, "redirect", staff, body)


async def linked_pair(client, settings, make_user) -> tuple[dict, dict, Any]:
    main, other = await reports(
        client, settings, LIGHT, "Опять не горит фонарь на Центральной, дом 5."
    )
    staff = await make_user("responder", SETTLEMENT)
    r = await act(client, other["id"], "link", staff, {"main_id": main["id"], "note": "одна линия"})
    assert r.status_code == 200, r.text
    assert r.json()["main_item_id"] == main["id"] and r.json()["status"] == "routed"
    return main, other, staff


async def test_the_main_items_final_reply_answers_its_linked_items(
    client, settings, make_user, sessionmaker
):
    main, other, staff = await linked_pair(client, settings, make_user)
    r = await act(client, main["id"], "reply", staff, {"text": ANSWER, "final": True})
    assert r.status_code == 200 and r.json()["status"] == "answered"
    assert r.json()["linked_count"] == 1
    r = await client.get(f"/api/v1/items/{other['id']}", headers=staff)
    assert r.json()["status"] == "answered" and r.json()["first_responded_at"]
    [reply] = [e for e in await history(sessionmaker, other["id"]) if e.kind == "reply"]
    assert reply.public and reply.data["text"] == ANSWER and reply.data["final"] is True
    assert reply.data["via_main_item"] == main["id"]
    # The citizen of the linked report reads the notice and the answer on its status page.
    token = parse_qs(urlparse(other["status_url"]).query)["token"][0]
    page = await client.get(f"/api/v1/widget/reports/{other['id']}", params={"token": token})
    kinds = [(m["kind"], m["final"]) for m in page.json()["messages"]]
    assert kinds == [("linked", False), ("reply", True)]
    assert "объединено" in page.json()["messages"][0]["text"]
    main_events = [e.kind for e in await history(sessionmaker, main["id"])]
    assert "incident_linked" in main_events and main_events.count("reply") == 1


async def test_a_linked_vk_comment_gets_the_answer_under_its_own_comment(
    live, make_user, sessionmaker
):
    settings, client, vk, _ = live
    await connect(client, make_user)
    assert (await client.post(URL, json=event(comment_id=601, text=LIGHT))).text == "ok"
    [main] = await reports(client, settings, "Не горит фонарь на Центральной, дом 7.")
    async with sessionmaker() as s:
        comment = (await s.exec(select(Item).where(Item.channel == "comment"))).one()
    staff = await make_user("responder", SETTLEMENT)
    assert (
        await act(client, comment.id, "link", staff, {"main_id": main["id"]})
    ).status_code == 200
    await act(client, main["id"], "reply", staff, {"text": ANSWER, "final": True})
    await run_worker_burst(settings)
    [delivery] = await deliveries(sessionmaker, comment.id)
    assert (delivery.kind, delivery.status) == ("vk_comment", "sent")
    [(_, _, posted)] = [r for r in vk.requests if r[0].endswith("wall.createComment")]
    assert posted["reply_to_comment"] == "601" and posted["message"] == ANSWER


async def test_links_that_would_mislead_are_refused(client, settings, make_user):
    main, other, staff = await linked_pair(client, settings, make_user)
    third, elsewhere = await reports(client, settings, LIGHT + " Дом 9.", LIGHT + " Дом 11.")
    assert (
        await act(client, main["id"], "link", staff, {"main_id": main["id"]})
    ).status_code == 422
    # A main that is itself linked, an item others are linked to, an item linked elsewhere.
    r = await act(client, third["id"], "link", staff, {"main_id": other["id"]})
    assert r.status_code == 409 and main["id"] in r.json()["detail"]
    r = await act(client, main["id"], "link", staff, {"main_id": third["id"]})
    assert r.status_code == 409 and "link them to the main item" in r.json()["detail"]
    r = await act(client, other["id"], "link", staff, {"main_id": third["id"]})
    assert r.status_code == 409 and "unlink it first" in r.json()["detail"]
    # The same link again changes nothing.
    r = await act(client, other["id"], "link", staff, {"main_id": main["id"]})
    assert r.status_code == 200 and r.json()["main_item_id"] == main["id"]
    # Another authority's item: a responder cannot see it; a supervisor sees both but the
    # answer would come from the wrong authority.
    admin = await make_user("admin", "op_tsur")
    r = await redirect(client, elsewhere["id"], admin, SIBLING_SETTLEMENT, "соседнее поселение")
    assert r.status_code == 200, r.text
    r = await act(client, third["id"], "link", staff, {"main_id": elsewhere["id"]})
    assert r.status_code == 404
    boss = await make_user("supervisor", DISTRICT)
    r = await act(client, third["id"], "link", boss, {"main_id": elsewhere["id"]})
    assert r.status_code == 409 and "redirect one first" in r.json()["detail"]
    # A finished main item.
    await act(client, third["id"], "reject", staff, {"reason": "дубль"})
    r = await act(client, elsewhere["id"], "link", admin, {"main_id": third["id"]})
    assert r.status_code == 409 and "rejected" in r.json()["detail"]
    r = await act(client, main["id"], "link", staff, {"main_id": str(uuid.uuid4())})
    assert r.status_code == 404


async def test_unlink_and_the_main_ending_unanswered_release_the_items(
    client, settings, make_user, sessionmaker
):
    main, other, staff = await linked_pair(client, settings, make_user)
    r = await act(client, other["id"], "unlink", staff, {"note": "другая линия"})
    assert r.status_code == 200 and r.json()["main_item_id"] is None
    assert (await act(client, other["id"], "unlink", staff)).status_code == 409
    await act(client, other["id"], "link", staff, {"main_id": main["id"]})
    r = await act(client, main["id"], "reject", staff, {"reason": "спам"})
    assert r.status_code == 200
    r = await client.get(f"/api/v1/items/{other['id']}", headers=staff)
    assert r.json()["main_item_id"] is None and r.json()["status"] == "routed"
    kinds = [(e.kind, e.data.get("reason")) for e in await history(sessionmaker, other["id"])]
    assert kinds[-1] == ("unlinked", "the main item was rejected")
    assert [k for k, _ in kinds].count("unlinked") == 2


async def test_a_redirected_main_item_takes_its_linked_items_along(client, settings, make_user):
    main, other, staff = await linked_pair(client, settings, make_user)
    r = await redirect(client, main["id"], staff, DISTRICT, "районная линия освещения")
    assert r.status_code == 200, r.text
    boss = await make_user("responder", DISTRICT)
    r = await client.get(f"/api/v1/items/{other['id']}", headers=boss)
    assert r.json()["authority_code"] == DISTRICT and r.json()["main_item_id"] == main["id"]
    r = await client.get(f"/api/v1/items/{main['id']}/linked", headers=boss)
    assert [i["id"] for i in r.json()] == [other["id"]]


async def test_queue_filter_and_similar_items(client, settings, make_user):
    main, other, staff = await linked_pair(client, settings, make_user)
    playground, same = await reports(
        client,
        settings,
        "Сломаны качели на детской площадке во дворе.",
        "Не горит фонарь на улице Центральной, дом 9.",
    )
    r = await client.get("/api/v1/queue", headers=staff, params={"linked": "false"})
    assert {i["id"] for i in r.json()["items"]} == {main["id"], playground["id"], same["id"]}
    r = await client.get("/api/v1/queue", headers=staff, params={"linked": "true"})
    assert [i["id"] for i in r.json()["items"]] == [other["id"]]
    r = await client.get(f"/api/v1/items/{same['id']}/similar", headers=staff)
    assert r.status_code == 200
    found = [(s["item"]["id"], s["score"]) for s in r.json()]
    # The linked item is no candidate; the lamp report ranks above the playground.
    assert [i for i, _ in found] == [main["id"], playground["id"]]
    assert found[0][1] > found[1][1]
    r = await client.get(f"/api/v1/items/{same['id']}/similar", headers=staff, params={"limit": 0})
    assert r.status_code == 422


async def test_a_main_item_closed_for_no_reply_releases_its_items(
    client, settings, make_user, sessionmaker
):
    """The main item's own citizen never answered a question: the linked reports were not
    answered by that, so they go back to being answered on their own."""
    import datetime as dt

    from service.db import UnitOfWork
    from service.replies.deliveries import ReplyChannels
    from service.sla.calendars import calendar_registry
    from service.sla.checks import check_item

    main, other, staff = await linked_pair(client, settings, make_user)
    r = await act(client, main["id"], "request-info", staff, {"question": "Какой дом?"})
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        registry = await calendar_registry(s, settings.catalog_dir)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
        uow = UnitOfWork(s, None)
        await check_item(uow, uuid.UUID(main["id"]), later, registry, ReplyChannels.of(settings))
        await s.commit()
    r = await client.get(f"/api/v1/items/{main['id']}", headers=staff)
    assert r.json()["status"] == "closed"
    r = await client.get(f"/api/v1/items/{other['id']}", headers=staff)
    assert r.json()["main_item_id"] is None and r.json()["status"] == "routed"
    [unlinked] = [e for e in await history(sessionmaker, other["id"]) if e.kind == "unlinked"]
    assert (unlinked.actor, unlinked.data["reason"]) == (
        "sla",
        "the main item was closed for no reply",
    )


async def test_triage_items_linked_to_a_triage_main_are_placed_with_it(client, settings, make_user):
    """The ЦУР links the unplaceable reports of one problem and places the main one: the
    others go to the same authority with the same category."""
    main, other = await reports(
        client,
        settings,
        "Помогите разобраться, уже месяц никто не отвечает по нашему вопросу",
        "Прошу принять меры по нашей проблеме, сколько можно ждать",
    )
    operator = await make_user("operator", "op_tsur")
    r = await act(client, other["id"], "link", operator, {"main_id": main["id"]})
    assert r.status_code == 200 and r.json()["status"] == "triage", r.text
    r = await act(
        client,
        main["id"],
        "assign",
        operator,
        {
            "authority_code": SETTLEMENT,
            "category": "blag_lighting",
        },
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/items/{other['id']}", headers=operator)
    placed = r.json()
    assert (placed["status"], placed["authority_code"], placed["category"]) == (
        "routed",
        SETTLEMENT,
        "blag_lighting",
    )
    assert placed["main_item_id"] == main["id"] and placed["resolution_due_at"]


async def test_a_main_resolved_with_or_without_an_answer(client, settings, make_user):
    """Resolved unanswered, the main item releases its items; resolved after its final reply,
    they were answered and stay linked."""
    main, other, staff = await linked_pair(client, settings, make_user)
    await act(client, main["id"], "claim", staff)
    assert (await act(client, main["id"], "resolve", staff)).status_code == 200
    r = await client.get(f"/api/v1/items/{other['id']}", headers=staff)
    assert (r.json()["main_item_id"], r.json()["status"]) == (None, "routed")
    second = (await reports(client, settings, "Не горит фонарь на Центральной, дом 15."))[0]
    await act(client, second["id"], "link", staff, {"main_id": other["id"]})
    await act(client, other["id"], "reply", staff, {"text": ANSWER, "final": True})
    assert (await act(client, other["id"], "resolve", staff)).status_code == 200
    r = await client.get(f"/api/v1/items/{second['id']}", headers=staff)
    assert (r.json()["main_item_id"], r.json()["status"]) == (other["id"], "answered")


async def test_a_linked_item_redirected_on_its_own_leaves_its_main(
    client, settings, make_user, sessionmaker
):
    """Only the owner of an item answers it: the main item's reply must not reach an item
    that went to another authority, nor may the main's redirect move it from there."""
    main, other, staff = await linked_pair(client, settings, make_user)
    r = await redirect(client, other["id"], staff, SIBLING_SETTLEMENT, "соседнее поселение")
    assert r.status_code == 200, r.text
    sibling = await make_user("responder", SIBLING_SETTLEMENT)
    r = await client.get(f"/api/v1/items/{other['id']}", headers=sibling)
    assert r.json()["main_item_id"] is None and r.json()["authority_code"] == SIBLING_SETTLEMENT
    assert (
        await act(client, main["id"], "reply", staff, {"text": ANSWER, "final": True})
    ).is_success
    r = await client.get(f"/api/v1/items/{other['id']}", headers=sibling)
    assert r.json()["status"] == "routed"
    [unlinked] = [e for e in await history(sessionmaker, other["id"]) if e.kind == "unlinked"]
    assert unlinked.data["reason"] == "the item went to another authority"


async def test_a_reopened_item_leaves_its_answered_main(client, settings, make_user):
    """Its main item's answer was not the last word: it is answered on its own, shows in the
    queue of unlinked items, and no chain through it can form later."""
    main, other, staff = await linked_pair(client, settings, make_user)
    await act(client, main["id"], "reply", staff, {"text": ANSWER, "final": True})
    r = await act(client, other["id"], "reopen", staff)
    assert r.status_code == 200 and r.json()["main_item_id"] is None
    r = await client.get("/api/v1/queue", headers=staff, params={"linked": "false"})
    assert other["id"] in [i["id"] for i in r.json()["items"]]
    # The answered main item, reopened, may now be linked elsewhere with nothing hanging on it.
    await act(client, main["id"], "reopen", staff)
    r = await act(client, main["id"], "link", staff, {"main_id": other["id"]})
    assert r.status_code == 200, r.text


async def test_the_citizen_learns_that_a_link_was_released(client, settings, make_user):
    main, other, staff = await linked_pair(client, settings, make_user)
    await act(client, main["id"], "reject", staff, {"reason": "спам"})
    token = parse_qs(urlparse(other["status_url"]).query)["token"][0]
    page = await client.get(f"/api/v1/widget/reports/{other['id']}", params={"token": token})
    kinds = [m["kind"] for m in page.json()["messages"]]
    assert kinds == ["linked", "unlinked"]
    assert "отдельно" in page.json()["messages"][1]["text"]


async def test_a_flood_is_linked_in_one_call_all_or_none(client, settings, make_user):
    main, a, b, c = await reports(
        client,
        settings,
        LIGHT,
        "Не горит фонарь на Центральной, дом 21.",
        "Темно на Центральной, фонарь не работает.",
        "Фонарь на улице Центральной опять не горит.",
    )
    staff = await make_user("responder", SETTLEMENT)
    first = await act(client, c["id"], "link", staff, {"main_id": a["id"]})
    assert first.status_code == 200
    ids = [a["id"], b["id"], c["id"]]
    r = await act(client, main["id"], "linked", staff, {"item_ids": ids})
    # `c` is linked to `a`, and `a` has a linked item: refused, naming one of them; nothing
    # was linked by the call.
    assert r.status_code == 409 and r.json()["item_id"] in ids, r.text
    r = await client.get(f"/api/v1/items/{main['id']}", headers=staff)
    assert r.json()["linked_count"] == 0
    await act(client, c["id"], "unlink", staff)
    r = await act(client, main["id"], "linked", staff, {"item_ids": ids, "note": "одна линия"})
    assert r.status_code == 200 and r.json()["linked_count"] == 3, r.text
    r = await act(client, main["id"], "linked", staff, {"item_ids": [str(uuid.uuid4())]})
    assert r.status_code == 404 and r.json()["item_id"]
    r = await act(client, main["id"], "linked", staff, {"item_ids": []})
    assert r.status_code == 422
