"""Replies go back where the citizen wrote: under the VK comment, to the feedback platform."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import select

from schemas.catalog import Authority
from schemas.items import Item
from schemas.replies import ReplyDelivery
from service.alerts.pacing import TelegramPacer
from service.replies.channels import TelegramBot, TelegramTarget, post_telegram_reply
from tests.builders import SETTLEMENT_PAGE, comment, run_worker_burst
from tests.fake_channels import TELEGRAM_BOT, fake_channel
from tests.service.test_vk_callback import GROUP, URL, event

TOKEN = "vk1.a.community-token-0123456789"
ANSWER = "Фонарь у школы заменят до пятницы."


async def connect(client, make_user, token: str | None = TOKEN) -> dict:
    admin = await make_user("admin", "op_tsur")
    body = {
        "group_id": GROUP,
        "page_id": SETTLEMENT_PAGE,
        "confirmation": "693d0ba9",
        "secret": "s3cret-key",
    }
    r = await client.post(
        "/api/v1/admin/vk-groups", headers=admin, json={**body, "access_token": token}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def answer(client, settings, make_user, sessionmaker, external_id: str) -> Item:
    """Route the item, then its authority's responder answers it (final)."""
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        item = (await s.exec(select(Item).where(Item.external_id == external_id))).one()
    assert item.authority_code, item
    staff = await make_user("responder", item.authority_code)
    r = await client.post(
        f"/api/v1/items/{item.id}/reply", headers=staff, json={"text": ANSWER, "final": True}
    )
    assert r.status_code == 200, r.text
    await run_worker_burst(settings)
    return item


async def deliveries(sessionmaker, item_id: uuid.UUID) -> list[ReplyDelivery]:
    async with sessionmaker() as s:
        stmt = select(ReplyDelivery).where(ReplyDelivery.item_id == item_id)
        return list((await s.exec(stmt)).all())


async def test_reply_goes_under_the_citizens_vk_comment(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    group = await connect(client, make_user)
    assert group["can_reply"] is True and TOKEN not in str(group)
    r = await client.post(URL, json=event(comment_id=501, event_id="r1"))
    assert r.text == "ok"
    item = await answer(client, settings, make_user, sessionmaker, f"{SETTLEMENT_PAGE}#501")
    [delivery] = await deliveries(sessionmaker, item.id)
    assert (delivery.kind, delivery.status, delivery.attempts) == ("vk_comment", "sent", 1)
    [(path, headers, form)] = vk.requests
    assert path == "/method/wall.createComment"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert form == {
        "owner_id": str(-GROUP),
        "post_id": "10",
        "from_group": str(GROUP),
        "reply_to_comment": "501",
        "message": ANSWER,
        "guid": f"feedback-router-reply-{delivery.id}",
        "v": "5.199",
    }
    assert delivery.external_ref == "9000"
    await run_worker_burst(settings)
    assert len(vk.requests) == 1  # sent once


async def test_vk_errors_are_retried_or_given_up_by_code(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    await connect(client, make_user)
    too_fast = {"error": {"error_code": 6, "error_msg": "Too many requests per second"}}
    closed = {"error": {"error_code": 213, "error_msg": "Access to status replies denied"}}
    vk.scripted.update(
        {"601": [(200, too_fast)], "602": [(200, closed)], "603": [(502, {"bad": "gateway"})]}
    )
    outcomes = []
    for n in (601, 602, 603):
        await client.post(URL, json=event(comment_id=n, event_id=f"e{n}"))
        item = await answer(client, settings, make_user, sessionmaker, f"{SETTLEMENT_PAGE}#{n}")
        [d] = await deliveries(sessionmaker, item.id)
        outcomes.append((d.status, d.attempts, (d.last_error or "")[:12]))
    assert outcomes == [
        ("pending", 1, "VK error 6: "),
        ("dead", 1, "VK error 213"),
        ("pending", 1, 'HTTP 502: {"'),
    ]


async def test_no_token_no_vk_delivery(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    assert (await connect(client, make_user, token=None))["can_reply"] is False
    await client.post(URL, json=event(comment_id=701, event_id="n1"))
    item = await answer(client, settings, make_user, sessionmaker, f"{SETTLEMENT_PAGE}#701")
    assert await deliveries(sessionmaker, item.id) == [] and vk.requests == []


async def test_comment_from_the_ingest_api_finds_its_community_by_page(
    live, make_user, sessionmaker
):
    settings, client, vk, _ = live
    await connect(client, make_user)
    svc = await make_user("service", "op_tsur")
    body = comment(post_id="77", comment_id="8801")
    r = await client.post("/api/v1/ingest/comments", json=body, headers=svc)
    assert r.status_code in (200, 202), r.text
    async with sessionmaker() as s:
        stored = (await s.exec(select(Item).where(Item.page_id == SETTLEMENT_PAGE))).all()
        external_id = next(i.external_id for i in stored if "8801" in (i.external_id or ""))
    item = await answer(client, settings, make_user, sessionmaker, external_id)
    [delivery] = await deliveries(sessionmaker, item.id)
    assert delivery.status == "sent"
    form = vk.requests[-1][2]
    assert (form["post_id"], form["reply_to_comment"]) == ("77", "8801")


PLATFORM = {
    "external_id": "pos-reply-1",
    "category": "roads_potholes",
    "text": "На центральной улице ямы, проехать невозможно",
    "address": "Алейский район, с. Кашино",
    "created_at": "2026-11-20T10:00:00+07:00",
}


async def test_reply_is_sent_to_the_platform_as_its_answer(live, make_user, sessionmaker):
    settings, client, _, platform = live
    svc = await make_user("service", "op_tsur")
    r = await client.post("/api/v1/ingest/platform-messages", json=PLATFORM, headers=svc)
    assert r.status_code in (200, 202), r.text
    item = await answer(client, settings, make_user, sessionmaker, "pos-reply-1")
    [delivery] = await deliveries(sessionmaker, item.id)
    assert (delivery.kind, delivery.status, delivery.external_ref) == (
        "platform",
        "sent",
        "pos-9000",
    )
    [(path, headers, body)] = platform.requests
    async with sessionmaker() as s:
        authority = await s.get(Authority, item.authority_code)
    assert path == "/answers" and headers["authorization"] == "Bearer pos-adapter-token"
    assert headers["idempotency-key"] == f"feedback-router-reply-{delivery.id}"
    assert body == {
        "external_id": "pos-reply-1",
        "final": True,
        "answer": {"text": ANSWER, "attachments": [], "signed_by": authority.name},
    }


async def test_platform_refusals(live, make_user, sessionmaker):
    settings, client, _, platform = live
    platform.scripted.update(
        {
            "pos-refused-1": [(503, {"error": "maintenance"})],
            "pos-refused-2": [(422, {"error": "unknown external_id"})],
        }
    )
    svc = await make_user("service", "op_tsur")
    states = []
    for n in (1, 2):
        message = {**PLATFORM, "external_id": f"pos-refused-{n}"}
        await client.post("/api/v1/ingest/platform-messages", json=message, headers=svc)
        item = await answer(client, settings, make_user, sessionmaker, f"pos-refused-{n}")
        [d] = await deliveries(sessionmaker, item.id)
        states.append((d.status, (d.last_error or "")[:8]))
    assert states == [("pending", "HTTP 503"), ("dead", "HTTP 422")]


BOT = TELEGRAM_BOT


async def test_reply_goes_into_the_telegram_thread_under_the_comment(
    tg_live, make_user, sessionmaker
):
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    assert (await tg.connect(client, make_user)).json()["can_reply"] is True
    r = await client.post(tg.URL, json=tg.update(message_id=801), headers=tg.HEADERS)
    assert r.json()["outcome"] == "stored"
    item = await answer(client, settings, make_user, sessionmaker, f"{tg.TG_PAGE}#801")
    [delivery] = await deliveries(sessionmaker, item.id)
    assert (delivery.kind, delivery.status, delivery.attempts) == ("tg_comment", "sent", 1)
    [(path, _, body)] = bot_api.requests
    assert path == f"/bot{BOT}/sendMessage"
    assert body == {
        "chat_id": tg.GROUP,
        "text": ANSWER,
        "reply_parameters": {"message_id": 801, "allow_sending_without_reply": True},
        "link_preview_options": {"is_disabled": True},
    }
    assert delivery.external_ref == "9001"
    await run_worker_burst(settings)
    assert len(bot_api.requests) == 1


async def test_telegram_refusals_are_retried_or_given_up(tg_live, make_user, sessionmaker):
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    await tg.connect(client, make_user)
    slow_down = {"ok": False, "error_code": 429, "parameters": {"retry_after": 3}}
    kicked = {"ok": False, "error_code": 403, "description": "bot was kicked from the group"}
    bot_api.scripted.update({"811": [(429, slow_down)], "812": [(403, kicked)]})
    states = []
    for n in (811, 812):
        await client.post(tg.URL, json=tg.update(n, message_id=n), headers=tg.HEADERS)
        item = await answer(client, settings, make_user, sessionmaker, f"{tg.TG_PAGE}#{n}")
        [d] = await deliveries(sessionmaker, item.id)
        states.append((d.status, (d.last_error or "")[:12]))
    assert states == [("pending", "Telegram 429"), ("dead", "Telegram 403")]
    assert all(BOT not in (d.last_error or "") for d in await all_deliveries(sessionmaker))


async def test_tg_comment_from_the_ingest_api_finds_its_group_by_page(
    tg_live, make_user, sessionmaker
):
    from tests.service import test_telegram_webhook as tg

    settings, client, bot_api = tg_live
    await tg.connect(client, make_user)
    svc = await make_user("service", "op_tsur")
    body = comment(network="tg", page_id=tg.TG_PAGE, post_id="42", comment_id="821")
    r = await client.post("/api/v1/ingest/comments", json=body, headers=svc)
    assert r.status_code in (200, 202), r.text
    await answer(client, settings, make_user, sessionmaker, f"{tg.TG_PAGE}#821")
    sent = bot_api.requests[-1][2]
    assert (sent["chat_id"], sent["reply_parameters"]["message_id"]) == (tg.GROUP, 821)


async def test_no_bot_token_no_telegram_delivery(live, make_user, sessionmaker):
    from tests.service import test_telegram_webhook as tg

    settings, client, _, _ = live
    assert (await tg.connect(client, make_user)).json()["can_reply"] is False
    svc = await make_user("service", "op_tsur")
    body = comment(network="tg", page_id=tg.TG_PAGE, comment_id="831")
    r = await client.post("/api/v1/ingest/comments", json=body, headers=svc)
    assert r.status_code in (200, 202), r.text
    item = await answer(client, settings, make_user, sessionmaker, f"{tg.TG_PAGE}#831")
    assert await deliveries(sessionmaker, item.id) == []


def test_long_answers_are_cut_at_paragraphs_within_the_telegram_limit():
    from service.replies.channels import telegram_parts

    paragraph = ("Слово " * 300).strip()  # 1,799 characters
    text = "\n\n".join([paragraph] * 5)
    parts = telegram_parts(text, limit=4096)
    # Two whole paragraphs fit in a part; a cut inside one would leave a part that is not.
    assert parts == ["\n\n".join([paragraph] * 2)] * 2 + [paragraph]
    # A line break beats the later spaces; no break at all cuts at the limit.
    assert telegram_parts(paragraph + "\n" + paragraph, limit=3000) == [paragraph, paragraph]
    assert telegram_parts("x" * 5000, limit=4096) == ["x" * 4096, "x" * 904]
    assert telegram_parts("  ") == []


async def all_deliveries(sessionmaker) -> list[ReplyDelivery]:
    async with sessionmaker() as s:
        return list((await s.exec(select(ReplyDelivery))).all())


def test_connector_ids_that_are_not_ascii_digits_are_not_ids():
    from service.replies.deliveries import _is_int

    assert _is_int("801") and not _is_int("²") and not _is_int("٣") and not _is_int("")


GROUP_CHAT = -1001700000001


def _bot(api: str, pacer: TelegramPacer | None) -> TelegramBot:
    return TelegramBot(api, BOT, pacer)


async def test_a_telegram_reply_waits_its_turn_in_the_group():
    """Bot API guidance: about 20 messages a minute into a group. A reply whose slot is further
    off than the wait allowed is deferred untried; a long reply books a slot per part; a 429
    pushes the group back for its retry_after."""
    target, now = TelegramTarget(GROUP_CHAT, 801), [100.0]
    frozen = TelegramPacer(clock=lambda: now[0])
    async with httpx.AsyncClient() as http:
        with fake_channel() as bot_api:
            frozen.reserve(str(GROUP_CHAT), max_wait_s=0, messages=4)  # 12 s of the group's pace
            sent = await post_telegram_reply(http, _bot(bot_api.url, frozen), target, ANSWER)
            assert (sent.outcome.ok, sent.outcome.attempted, sent.outcome.permanent) == (
                False,
                False,
                False,
            )
            assert sent.outcome.retry_after_s == pytest.approx(12.0)
            assert bot_api.requests == []

            quick = TelegramPacer(group_interval_s=0.01, global_interval_s=0, clock=lambda: now[0])
            sent = await post_telegram_reply(http, _bot(bot_api.url, quick), target, "x " * 3000)
            assert sent.outcome.ok and len(bot_api.requests) == 2
            assert quick.reserve(str(GROUP_CHAT), max_wait_s=1).delay_s == pytest.approx(0.02)

            slow_down = {"ok": False, "error_code": 429, "parameters": {"retry_after": 30}}
            bot_api.scripted["802"] = [(429, slow_down)]
            fresh = TelegramPacer(clock=lambda: now[0])
            target = TelegramTarget(GROUP_CHAT, 802)
            sent = await post_telegram_reply(http, _bot(bot_api.url, fresh), target, ANSWER)
            assert sent.outcome.retry_after_s == 30
            assert not fresh.reserve(str(GROUP_CHAT), max_wait_s=29).granted


async def test_the_worker_paces_alerts_and_replies_into_a_chat_together(settings):
    """One pacer per worker process, used by Telegram alerts and Telegram replies alike."""
    from service.alerts import Destination, TargetKind
    from service.replies.deliveries import Outgoing
    from tests.alerts.helpers import make_message
    from workers.main import _startup, on_shutdown
    from workers.replies import _send

    with fake_channel() as bot_api:
        s = settings.model_copy(
            update={"telegram_api_base": bot_api.url, "telegram_bot_token": BOT}
        )
        ctx: dict = {}
        await _startup(s)(ctx)
        try:
            chat = str(GROUP_CHAT)
            alert = await ctx["senders"].deliver(
                make_message(), Destination(kind=TargetKind.TELEGRAM, target=chat)
            )
            assert alert.ok and len(bot_api.requests) == 1
            # The alert took the group's slot: the next message may go 3 s later, not at once.
            assert not ctx["telegram_pacer"].reserve(chat, max_wait_s=1).granted
            ctx["telegram_pacer"].penalize(chat, 60)
            outgoing = Outgoing("tg_comment", 1, ANSWER, telegram=TelegramTarget(GROUP_CHAT, 801))
            reply = await _send(ctx, outgoing, "key")
            assert reply.outcome.error == "paced: chat rate limit"
            alert = await ctx["senders"].deliver(
                make_message(), Destination(kind=TargetKind.TELEGRAM, target=chat)
            )
            assert alert.error == "paced: chat rate limit"
            assert len(bot_api.requests) == 1
        finally:
            await on_shutdown(ctx)


async def test_the_question_and_the_closing_answer_go_under_the_vk_comment(
    live, make_user, sessionmaker
):
    """A VK citizen sees the responder's question where they wrote, and, when the question
    goes unanswered past the pause limit, the answer that closes the item."""
    import datetime as dt

    from service.db import UnitOfWork
    from service.replies.deliveries import ReplyChannels
    from service.sla.calendars import calendar_registry
    from service.sla.checks import CLOSE_AFTER_PAUSE, check_item

    settings, client, vk, _ = live
    await connect(client, make_user)
    await client.post(URL, json=event(comment_id=505, event_id="q1"))
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        item = (
            await s.exec(select(Item).where(Item.external_id == f"{SETTLEMENT_PAGE}#505"))
        ).one()
    staff = await make_user("responder", item.authority_code)
    question = "Уточните, пожалуйста, номер дома."
    r = await client.post(
        f"/api/v1/items/{item.id}/request-info", headers=staff, json={"question": question}
    )
    assert r.status_code == 200, r.text
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        registry = await calendar_registry(s, settings.catalog_dir)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
        uow = UnitOfWork(s, None)
        await check_item(uow, item.id, later, registry, ReplyChannels.of(settings))
        await s.commit()
    await run_worker_burst(settings)
    sent = [(form["reply_to_comment"], form["message"]) for _, _, form in vk.requests]
    assert sent == [("505", question), ("505", CLOSE_AFTER_PAUSE)]
    assert {d.status for d in await deliveries(sessionmaker, item.id)} == {"sent"}
