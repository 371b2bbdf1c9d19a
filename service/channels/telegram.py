"""Telegram: comments under a channel's posts, read from its linked discussion group.

A comment on a channel post is a message in the channel's discussion group (docs/channels.md
§2.2); the bot must be a member there, with privacy mode off or as an admin, to see them all.
The webhook (`setWebhook` with `secret_token`) sends every update with that token in
`X-Telegram-Bot-Api-Secret-Token`; anything without it is refused. Repeats are harmless: an
item is unique on (channel, external id), and a valid update always gets 200, because any other
answer makes Telegram send it again.
"""

from __future__ import annotations

import datetime as dt
import hmac

import structlog
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority, Page
from schemas.channels import TelegramChat, TelegramChatIn, TelegramMessage, TelegramUpdate
from schemas.common import check_text
from schemas.items import Channel
from service.channels.comments import store_comment
from service.config import Settings
from service.db import UnitOfWork
from service.errors import Forbidden, NotFound, Unprocessable
from service.items.intake import NewItem

log = structlog.get_logger()

SECRET_HEADER = "x-telegram-bot-api-secret-token"


def authenticate(settings: Settings, token: str | None) -> None:
    if not settings.telegram_webhook_secret:
        raise NotFound("Telegram intake is off (TELEGRAM_WEBHOOK_SECRET is not set)")
    if not hmac.compare_digest((token or "").encode(), settings.telegram_webhook_secret.encode()):
        log.warning("telegram.bad_secret")
        raise Forbidden("missing or wrong X-Telegram-Bot-Api-Secret-Token")


async def register_chat(session: AsyncSession, body: TelegramChatIn) -> tuple[TelegramChat, bool]:
    """Connect a discussion group to its channel's `tg` page (made here if the catalog has none).

    Says whether a page was created, so the caller can refresh the catalog caches. A channel
    that moved to another discussion group is re-linked: the page keeps one group.
    """
    page, created = await _tg_page(session, body), False
    if page is None:
        if not (body.title and body.authority_code):
            raise Unprocessable(
                f"unknown page_id {body.page_id!r}: give title and authority_code to create it",
                field="page_id",
            )
        if await session.get(Authority, body.authority_code) is None:
            raise Unprocessable(
                f"unknown authority_code {body.authority_code!r}", field="authority_code"
            )
        page = Page(
            page_id=body.page_id, network="tg", title=body.title, authority_code=body.authority_code
        )
        session.add(page)
        created = True
    stale = select(TelegramChat).where(
        TelegramChat.page_id == body.page_id, TelegramChat.chat_id != body.chat_id
    )
    for old in (await session.exec(stale)).all():
        await session.delete(old)
    await session.flush()
    chat = await session.get(TelegramChat, body.chat_id) or TelegramChat(
        chat_id=body.chat_id, page_id=body.page_id
    )
    chat.page_id = body.page_id
    session.add(chat)
    await session.flush()
    return chat, created


async def _tg_page(session: AsyncSession, body: TelegramChatIn) -> Page | None:
    page = await session.get(Page, body.page_id)
    if page is not None and page.network != "tg":
        # Comment ids are unique per page; another network's page would mix two id spaces.
        raise Unprocessable(
            f"page {body.page_id!r} is a {page.network} page, not a Telegram channel",
            field="page_id",
        )
    return page


def _author_name(message: TelegramMessage) -> str | None:
    user = message.from_
    if user is None:
        return None
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    # Names are free text too: no NUL or lone surrogate may reach the database.
    return name.replace("\x00", "").encode("utf-8", "ignore").decode() or None


def _text(message: TelegramMessage) -> str | None:
    try:
        return check_text(message.text or message.caption or "")
    except ValueError:
        return None  # a sticker, a photo without a caption: nothing a person can route


def _is_citizen_comment(message: TelegramMessage) -> bool:
    # The group's copy of the channel post, the channel or an anonymous admin writing as
    # the group, and bots (ours included) are not citizens.
    if message.is_automatic_forward or message.sender_chat is not None:
        return False
    return message.from_ is not None and not message.from_.is_bot


def _new_item(chat: TelegramChat, message: TelegramMessage, text: str) -> NewItem:
    parent = message.reply_to_message
    on_post = parent is not None and parent.is_automatic_forward
    origin = parent.forward_origin if parent is not None and on_post else None
    post_id = origin.message_id if origin is not None else None
    created = dt.datetime.fromtimestamp(message.date, dt.UTC) if message.date else None
    user = message.from_
    return NewItem(
        channel=Channel.comment,
        network="tg",
        # As the ingest API keys comments: the id is unique within the page's group.
        external_id=f"{chat.page_id}#{message.message_id}",
        page_id=chat.page_id,
        text=text,
        source_created_at=created,
        source={
            "chat_id": str(chat.chat_id),
            "post_id": str(post_id) if post_id is not None else None,
            "comment_id": str(message.message_id),
            "reply_to": str(parent.message_id) if parent is not None and not on_post else None,
        },
        contact={
            "name": _author_name(message),
            "author_external_id": str(user.id) if user is not None else None,
        },
    )


async def handle_update(uow: UnitOfWork, update: TelegramUpdate, settings: Settings) -> str:
    """Store a citizen's comment (or its edit) and say what happened, for the log."""
    message = update.message or update.edited_message
    if message is None:
        return "ignored"
    chat = await uow.session.get(TelegramChat, message.chat.id)
    if chat is None:
        return "not connected"  # the bot is also in groups that are not ours to watch
    text = _text(message)
    if not _is_citizen_comment(message) or text is None:
        return "skipped"
    new = _new_item(chat, message, text)
    return await store_comment(uow, new, edit=update.edited_message is not None, settings=settings)
