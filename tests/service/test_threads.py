"""A citizen's answer in the comment thread joins the item it answers (VK, Telegram, ingest API).

The official asks in the thread (request-info goes out as a VK comment or a Telegram message);
the citizen answers there. The answer must resume that item, not become a new appeal; anybody
else's comment in the thread, and an answer to a finished item, stay appeals of their own.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from schemas.items import Item, ItemEvent, ItemMessage
from schemas.replies import ReplyPart
from tests.builders import SETTLEMENT_PAGE, comment, run_worker_burst
from tests.service.test_vk_callback import URL, event
from tests.workers.test_reply_channels import connect, deliveries

QUESTION = "Уточните, пожалуйста, номер дома."
ANSWER_TEXT = "Дом 12, у второго подъезда."
INGEST = "/api/v1/ingest/comments"


async def items(sessionmaker: Any) -> list[Item]:
    async with sessionmaker() as s:
        return list((await s.exec(select(Item).order_by(Item.received_at))).all())


async def events(sessionmaker: Any, item_id: uuid.UUID) -> list[ItemEvent]:
    async with sessionmaker() as s:
        stmt = select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id)
        return list((await s.exec(stmt)).all())


async def ask(
    client: httpx.AsyncClient,
    settings: Any,
    make_user: Any,
    sessionmaker: Any,
    question: str = QUESTION,
) -> Item:
    """Route the one item, then its responder claims it and asks the citizen; the worker posts
    the question into the thread."""
    await run_worker_burst(settings)
    [item] = await items(sessionmaker)
    staff = await make_user("responder", item.authority_code)
    for action, body in (("claim", None), ("request-info", {"question": question})):
        r = await client.post(f"/api/v1/items/{item.id}/{action}", headers=staff, json=body)
        assert r.status_code == 200, r.text
    await run_worker_burst(settings)
    return item


async def vk_item_asked(
    client: httpx.AsyncClient, settings: Any, make_user: Any, sessionmaker: Any
) -> Item:
    """A VK comment (501, author 777) on the connected community, routed and asked about; the
    question went out as our comment 9000."""
    await connect(client, make_user)
    await client.post(URL, json=event(comment_id=501))
    return await ask(client, settings, make_user, sessionmaker)


async def status_of(sessionmaker: Any, item_id: uuid.UUID) -> str | None:
    async with sessionmaker() as s:
        item = await s.get(Item, item_id)
    return None if item is None else item.status


def vk_answer(comment_id: int, *, from_id: int = 777, **thread: Any) -> dict[str, Any]:
    body = event(
        comment_id=comment_id, text=ANSWER_TEXT, from_id=from_id, event_id=f"a{comment_id}"
    )
    body["object"].update(thread)
    return body


async def assert_resumed(sessionmaker: Any, item: Item) -> list[ItemEvent]:
    async with sessionmaker() as s:
        now = await s.get(Item, item.id)
    assert now is not None and now.status == "in_progress"
    assert now.sla is not None
    assert now.sla["clocks"]["resolution"]["paused_at"] is None, "the clock still paused"
    history = await events(sessionmaker, item.id)
    replies = [e for e in history if e.kind == "citizen_reply"]
    assert [(e.actor, e.public, e.data["text"]) for e in replies] == [
        ("citizen", True, ANSWER_TEXT)
    ]
    return history


async def test_vk_answer_to_our_question_resumes_the_item(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    await connect(client, make_user)
    assert (await client.post(URL, json=event(comment_id=501))).text == "ok"
    item = await ask(client, settings, make_user, sessionmaker)
    [question] = await deliveries(sessionmaker, item.id)
    assert (question.status, question.external_ref) == ("sent", "9000")
    answer = vk_answer(502, reply_to_comment=9000, parents_stack=[501])
    for _ in range(2):  # VK retries an event it got no `ok` for
        assert (await client.post(URL, json=answer)).text == "ok"
    assert [i.id for i in await items(sessionmaker)] == [item.id]
    await assert_resumed(sessionmaker, item)
    async with sessionmaker() as s:
        [message] = (await s.exec(select(ItemMessage))).all()
    assert (message.item_id, message.external_id) == (item.id, f"{SETTLEMENT_PAGE}#502")


async def test_vk_answer_found_by_any_one_of_its_thread_fields(live, make_user, sessionmaker):
    """Our comment alone (`reply_to_comment`), or the thread's top comment alone."""
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=vk_answer(502, reply_to_comment=9000))
    await assert_resumed(sessionmaker, item)
    staff = await make_user("responder", item.authority_code)
    r = await client.post(
        f"/api/v1/items/{item.id}/request-info", headers=staff, json={"question": "Подъезд?"}
    )
    assert r.status_code == 200, r.text
    await client.post(URL, json=vk_answer(503, parents_stack=[501]))
    assert await status_of(sessionmaker, item.id) == "in_progress"
    assert len(await items(sessionmaker)) == 1


async def test_someone_else_in_the_thread_writes_an_appeal_of_their_own(
    live, make_user, sessionmaker
):
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=vk_answer(502, from_id=888, reply_to_comment=9000))
    stored = await items(sessionmaker)
    assert [i.external_id for i in stored] == [item.external_id, f"{SETTLEMENT_PAGE}#502"]
    assert await status_of(sessionmaker, item.id) == "awaiting_citizen"


async def test_an_edit_of_a_joined_answer_is_recorded_on_the_item(live, make_user, sessionmaker):
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=vk_answer(502, parents_stack=[501]))
    edit = copy.deepcopy(vk_answer(502, parents_stack=[501]))
    edit["type"], edit["object"]["text"] = "wall_reply_edit", "Дом 14, у второго подъезда."
    for _ in range(2):
        assert (await client.post(URL, json=edit)).text == "ok"
    assert len(await items(sessionmaker)) == 1
    edits = [e for e in await events(sessionmaker, item.id) if e.kind == "citizen_message_edited"]
    assert [(e.data["previous_text"], e.data["text"]) for e in edits] == [
        (ANSWER_TEXT, "Дом 14, у второго подъезда.")
    ]


async def test_an_answer_to_a_finished_item_is_a_new_appeal(live, make_user, sessionmaker):
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    staff = await make_user("responder", item.authority_code)
    r = await client.post(
        f"/api/v1/items/{item.id}/reply", headers=staff, json={"text": "Сделано", "final": True}
    )
    assert r.status_code == 200 and r.json()["status"] == "answered", r.text
    await client.post(URL, json=vk_answer(502, reply_to_comment=9000, parents_stack=[501]))
    assert len(await items(sessionmaker)) == 2


async def test_telegram_reply_to_the_bots_question_resumes_the_item(
    tg_live, make_user, sessionmaker
):
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    await tg.connect(client, make_user)
    await client.post(tg.URL, json=tg.update(message_id=801), headers=tg.HEADERS)
    item = await ask(client, settings, make_user, sessionmaker)
    [question] = await deliveries(sessionmaker, item.id)
    bot_message = {"message_id": int(question.external_ref or 0), "chat": {"id": tg.GROUP}}
    bot_message["from"] = {"id": 1, "is_bot": True, "first_name": "ЦУР"}
    answer = tg.update(2, message_id=802, text=ANSWER_TEXT, reply_to_message=bot_message)
    r = await client.post(tg.URL, json=answer, headers=tg.HEADERS)
    assert r.json()["outcome"] == "joined"
    r = await client.post(tg.URL, json=answer, headers=tg.HEADERS)
    assert r.json()["outcome"] == "duplicate"
    assert len(await items(sessionmaker)) == 1
    await assert_resumed(sessionmaker, item)


async def test_an_answer_to_any_part_of_a_split_telegram_question_joins(
    tg_live, make_user, sessionmaker
):
    """A question over Telegram's 4,096 characters goes out as two messages; the citizen may
    answer the second, and that must find the item as the first would."""
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    await tg.connect(client, make_user)
    await client.post(tg.URL, json=tg.update(message_id=801), headers=tg.HEADERS)
    long_question = "\n\n".join(["Уточните, пожалуйста, адрес и номер дома. " * 50] * 2)
    assert len(long_question) > 4096
    item = await ask(client, settings, make_user, sessionmaker, question=long_question)
    parts = [path for path, _, _ in bot_api.requests if path.endswith("/sendMessage")]
    assert len(parts) == 2
    [delivery] = await deliveries(sessionmaker, item.id)
    async with sessionmaker() as s:
        more = (await s.exec(select(ReplyPart).where(ReplyPart.delivery_id == delivery.id))).all()
    assert [p.external_ref for p in more] == [str(int(delivery.external_ref or 0) + 1)]
    second = {"message_id": int(more[0].external_ref), "chat": {"id": tg.GROUP}}
    second["from"] = {"id": 1, "is_bot": True, "first_name": "ЦУР"}
    answer = tg.update(2, message_id=802, text=ANSWER_TEXT, reply_to_message=second)
    r = await client.post(tg.URL, json=answer, headers=tg.HEADERS)
    assert r.json()["outcome"] == "joined"
    assert len(await items(sessionmaker)) == 1
    await assert_resumed(sessionmaker, item)


async def test_ingest_api_answer_joins_and_says_so(live, make_user, sessionmaker):
    settings, client, _, _ = live
    svc = await make_user("service", "op_tsur")
    r = await client.post(INGEST, json=comment(comment_id="c1"), headers=svc)
    assert r.status_code == 202 and r.json()["joined"] is False
    item = await ask(client, settings, make_user, sessionmaker)
    body = comment(comment_id="c2", reply_to="c1", text=ANSWER_TEXT)
    first = await client.post(INGEST, json=body, headers=svc)
    assert first.status_code == 202, first.text
    assert first.json()["id"] == str(item.id)
    assert (first.json()["joined"], first.json()["duplicate"]) == (True, False)
    assert first.json()["status"] == "in_progress"
    again = await client.post(INGEST, json=body, headers=svc)
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["duplicate"]) == (str(item.id), True)
    await assert_resumed(sessionmaker, item)
    # A second note while the item is being worked on joins without changing its status.
    more = comment(comment_id="c3", reply_to="c2", text="И ещё: фонарь мигает.")
    r = await client.post(INGEST, json=more, headers=svc)
    assert r.status_code == 202 and r.json()["joined"] is True
    notes = [e for e in await events(sessionmaker, item.id) if e.kind == "citizen_message"]
    assert [(e.from_status, e.to_status) for e in notes] == [("in_progress", "in_progress")]
    assert len(await items(sessionmaker)) == 1
    # The responder's queue shows that the citizen wrote, and when: at the last note.
    staff = await make_user("responder", item.authority_code)
    [row] = (await client.get("/api/v1/queue", headers=staff)).json()["items"]
    assert row["citizen_wrote_at"] is not None
    assert dt.datetime.fromisoformat(row["citizen_wrote_at"]) == notes[-1].at


async def test_ingest_api_answer_from_another_author_or_page_is_a_new_item(
    live, make_user, sessionmaker
):
    settings, client, _, _ = live
    svc = await make_user("service", "op_tsur")
    await client.post(INGEST, json=comment(comment_id="c1"), headers=svc)
    await ask(client, settings, make_user, sessionmaker)
    other = comment(comment_id="c2", reply_to="c1", author={"id": "43", "name": "Пётр"})
    anonymous = comment(comment_id="c3", reply_to="c1", author=None)
    for body in (other, anonymous):
        r = await client.post(INGEST, json=body, headers=svc)
        assert r.status_code == 202 and r.json()["joined"] is False, r.text
    assert len(await items(sessionmaker)) == 3


async def test_our_comment_id_counts_only_on_its_own_wall(live, make_user, sessionmaker):
    """VK numbers comments per wall: comment 9000 on another community's wall is not ours."""
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    svc = await make_user("service", "op_tsur")
    elsewhere = comment(
        page_id="vk:club_gov_altai", reply_to="9000", author={"id": "777", "name": "Мария"}
    )
    r = await client.post(INGEST, json=elsewhere, headers=svc)
    assert r.status_code == 202 and r.json()["joined"] is False, r.text
    assert await status_of(sessionmaker, item.id) == "awaiting_citizen"


async def test_a_follow_up_to_an_item_not_yet_routed_is_its_own_appeal(
    live, make_user, sessionmaker
):
    """The router reads the item's own text: a «Спасибо!» whose follow-up carried the problem
    would be rejected as thanks, the problem with it."""
    settings, client, _, _ = live
    svc = await make_user("service", "op_tsur")
    await client.post(INGEST, json=comment(comment_id="g1", text="Спасибо!"), headers=svc)
    problem = "Во дворе дома 5 на улице Ленина не горит фонарь, темно"
    follow = comment(comment_id="g2", reply_to="g1", text=problem)
    r = await client.post(INGEST, json=follow, headers=svc)
    assert r.status_code == 202 and r.json()["joined"] is False, r.text
    await run_worker_burst(settings)
    by_text = {i.text: i.status for i in await items(sessionmaker)}
    assert by_text[problem] in ("routed", "triage"), by_text


async def test_a_joined_answer_sent_again_as_a_plain_comment_never_reaches_a_queue(
    live, make_user, sessionmaker
):
    settings, client, _, _ = live
    svc = await make_user("service", "op_tsur")
    await client.post(INGEST, json=comment(comment_id="c1"), headers=svc)
    item = await ask(client, settings, make_user, sessionmaker)
    body = comment(comment_id="c2", reply_to="c1", text=ANSWER_TEXT)
    assert (await client.post(INGEST, json=body, headers=svc)).json()["joined"] is True
    resent = {k: v for k, v in body.items() if k != "reply_to"}  # a connector's re-sync
    assert (await client.post(INGEST, json=resent, headers=svc)).status_code in (200, 202)
    await run_worker_burst(settings)
    [twin] = [i for i in await items(sessionmaker) if i.id != item.id]
    assert (twin.status, twin.authority_code, twin.sla) == ("rejected", None, None)
    [rejected] = [e for e in await events(sessionmaker, twin.id) if e.kind == "rejected"]
    assert (rejected.data["reason"], rejected.data["duplicate_of"]) == ("duplicate", str(item.id))


@pytest.mark.parametrize("stack", [None, "501", {"a": 1}, ["x"]])
async def test_an_odd_parents_stack_does_not_cost_the_comment(live, make_user, sessionmaker, stack):
    _, client, _, _ = live
    await connect(client, make_user)
    body = event(comment_id=601)
    body["object"]["parents_stack"] = stack
    assert (await client.post(URL, json=body)).text == "ok"
    [stored] = await items(sessionmaker)
    assert stored.source["thread_root"] is None


async def test_a_batch_joins_its_answers_one_at_a_time(app, client, make_user, sessionmaker):
    """Each answer in a batch opens a session of its own: 500 of them at once would hold the
    whole pool (and more) while other requests wait. They are joined one after another, after
    the batch's plain comments went to the writer together."""
    from schemas.ingest import CommentIn
    from service.ingest.service import Threads, ingest_comment_batch
    from service.items.dependencies import get_intake

    class Counting(Threads):
        running = peak = 0

        async def join(self, new):  # type: ignore[no-untyped-def]
            Counting.running += 1
            Counting.peak = max(Counting.peak, Counting.running)
            try:
                await asyncio.sleep(0.01)  # let any sibling start if they were concurrent
                return await super().join(new)
            finally:
                Counting.running -= 1

    state = app.state
    threads = Counting(state.sessionmaker, state.queue, state.settings)
    intake = await get_intake(type("R", (), {"app": app})())
    answers = [CommentIn(**comment(comment_id=f"a{n}", reply_to=f"x{n}")) for n in range(6)]
    plain = [CommentIn(**comment(comment_id=f"p{n}")) for n in range(3)]
    results = await ingest_comment_batch(intake, threads, [*answers, *plain])
    assert Counting.peak == 1
    assert [r.joined for r in results] == [False] * 9  # nothing asked: all new appeals
    assert len(await items(sessionmaker)) == 9


async def test_the_comment_replied_to_decides_over_a_later_thread_top(
    live, make_user, sessionmaker
):
    """Our question (9000) was asked on item 501; the same author's newer item 600 is the top
    of the thread the answer names too. The question's item gets the answer."""
    settings, client, _, _ = live
    asked = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=event(comment_id=600, event_id="e600", text="Яма у магазина"))
    await run_worker_burst(settings)
    await client.post(URL, json=vk_answer(602, reply_to_comment=9000, parents_stack=[600]))
    await assert_resumed(sessionmaker, asked)


async def test_an_edited_answer_answers_the_next_question(live, make_user, sessionmaker):
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=vk_answer(502, reply_to_comment=9000))
    staff = await make_user("responder", item.authority_code)
    r = await client.post(
        f"/api/v1/items/{item.id}/request-info", headers=staff, json={"question": "Подъезд?"}
    )
    assert r.json()["status"] == "awaiting_citizen", r.text
    edit = vk_answer(502, reply_to_comment=9000)
    edit["type"], edit["object"]["text"] = "wall_reply_edit", "Дом 12, второй подъезд."
    assert (await client.post(URL, json=edit)).text == "ok"
    assert await status_of(sessionmaker, item.id) == "in_progress"
    replies = [e for e in await events(sessionmaker, item.id) if e.kind == "citizen_reply"]
    assert [e.data["text"] for e in replies] == [ANSWER_TEXT, "Дом 12, второй подъезд."]


def deleted(comment_id: int, event_id: str, **who: Any) -> dict[str, Any]:
    body = event(kind="wall_reply_delete", comment_id=comment_id, event_id=event_id)
    body["object"] = {
        "owner_id": body["object"]["owner_id"],
        "id": comment_id,
        "post_id": 10,
        **who,
    }
    return body


async def test_a_deleted_comment_is_recorded_once_on_its_item(live, make_user, sessionmaker):
    """`wall_reply_delete` names the deleter as `deleter_id` (SDKs) or `user_id` (VK's schema)."""
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    await client.post(URL, json=vk_answer(502, reply_to_comment=9000))
    await client.post(URL, json=event(comment_id=503, event_id="e503", from_id=888))
    for body in (
        deleted(501, "d1", deleter_id=777),
        deleted(501, "d1", deleter_id=777),  # VK's retry
        deleted(502, "d2", user_id=777),  # the joined answer, by its author (VK's naming)
        deleted(503, "d3", deleter_id=1234),  # a moderator removed a neighbour's appeal
        deleted(999, "d4", deleter_id=777),  # a comment we never stored
        {**deleted(503, "d5"), "object": {"id": "not a number"}},
    ):
        assert (await client.post(URL, json=body)).text == "ok"

    async def deletions(item_id: uuid.UUID) -> list[tuple[str, bool, str]]:
        gone = [e for e in await events(sessionmaker, item_id) if e.kind == "source_deleted"]
        return [(e.actor, e.data["by_author"], e.data["external_id"]) for e in gone]

    assert await deletions(item.id) == [
        ("citizen", True, f"{SETTLEMENT_PAGE}#501"),
        ("citizen", True, f"{SETTLEMENT_PAGE}#502"),
    ]
    [neighbour] = [i for i in await items(sessionmaker) if i.id != item.id]
    assert await deletions(neighbour.id) == [("channel", False, f"{SETTLEMENT_PAGE}#503")]
    assert await status_of(sessionmaker, item.id) == "in_progress"  # the appeal is still answered


async def test_a_part_posted_before_a_failed_attempt_still_joins(tg_live, make_user, sessionmaker):
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    await tg.connect(client, make_user)
    await client.post(tg.URL, json=tg.update(message_id=801), headers=tg.HEADERS)
    # Part 1 goes out (message 5001); part 2 hits Telegram's flood limit.
    bot_api.scripted["801"] = [
        (200, {"ok": True, "result": {"message_id": 5001}}),
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 30",
                "parameters": {"retry_after": 30},
            },
        ),
    ]
    long_question = "\n\n".join(["Уточните, пожалуйста, адрес и номер дома. " * 50] * 2)
    await ask(client, settings, make_user, sessionmaker, question=long_question)
    async with sessionmaker() as s:
        parts = (await s.exec(select(ReplyPart))).all()
    # The citizen saw message 5001 and answers it.
    first = {"message_id": 5001, "chat": {"id": tg.GROUP}}
    first["from"] = {"id": 1, "is_bot": True, "first_name": "ЦУР"}
    answer = tg.update(2, message_id=802, text=ANSWER_TEXT, reply_to_message=first)
    r = await client.post(tg.URL, json=answer, headers=tg.HEADERS)
    assert r.json()["outcome"] == "joined", (r.json(), parts)
    assert len(await items(sessionmaker)) == 1


async def test_a_restored_comment_is_recorded_once_per_deletion(live, make_user, sessionmaker):
    """VK's `wall_reply_restore` carries the comment again: on a stored comment it is recorded
    (once, whatever VK re-sends); a comment deleted again after that is recorded again. A
    restore of a comment never stored is an appeal like a new comment."""
    settings, client, _, _ = live
    item = await vk_item_asked(client, settings, make_user, sessionmaker)
    restore = event("wall_reply_restore", comment_id=501, event_id="r1")
    for body in (
        deleted(501, "d1", deleter_id=777),
        restore,
        restore,  # VK's retry
        {**event("wall_reply_restore", comment_id=501, event_id="r2")},  # nothing to restore
        deleted(501, "d6", deleter_id=777),
        event("wall_reply_restore", comment_id=777, event_id="r3", from_id=555),
    ):
        assert (await client.post(URL, json=body)).text == "ok"
    fates = [
        (e.kind, e.data.get("event_id"))
        for e in await events(sessionmaker, item.id)
        if e.kind in ("source_deleted", "source_restored")
    ]
    assert fates == [("source_deleted", "d1"), ("source_restored", "r1"), ("source_deleted", "d6")]
    assert len(await items(sessionmaker)) == 2  # the restored stranger's comment: a new appeal
