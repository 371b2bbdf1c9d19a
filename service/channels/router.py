"""Channel endpoints: the VK Callback API, the Telegram webhook, and connecting VK communities
and Telegram discussion groups (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from schemas.channels import (
    TelegramChatIn,
    TelegramChatRead,
    TelegramUpdate,
    VkEnvelope,
    VkGroupIn,
    VkGroupRead,
)
from service.catalog.service import bump_version
from service.channels import telegram, vk
from service.deps import AdminUser, SettingsDep, UowDep
from service.errors import Unprocessable

router = APIRouter(prefix="/api/v1", tags=["channels"])


@router.post(
    "/channels/vk/callback", response_class=PlainTextResponse, responses={403: {}, 422: {}}
)
async def vk_callback(request: Request, uow: UowDep, settings: SettingsDep) -> PlainTextResponse:
    """Answers the confirmation string, or `ok` once the event is stored (VK retries otherwise)."""
    try:
        envelope = VkEnvelope.model_validate_json(await request.body())
    except ValidationError as exc:
        raise Unprocessable(f"not a VK Callback API event: {exc.errors()[0]['msg']}") from exc
    group = await vk.authenticate(uow.session, envelope)
    if envelope.type == "confirmation":
        return PlainTextResponse(group.confirmation)
    outcome = await vk.handle_event(uow, group, envelope, settings)
    await uow.commit()
    vk.log.info(
        "vk.event",
        type=envelope.type,
        event_id=envelope.event_id,
        outcome=outcome,
        retry=request.headers.get("x-retry-counter"),
    )
    return PlainTextResponse("ok")


ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 422: {}}


@router.post("/admin/vk-groups", status_code=201, response_model=VkGroupRead, responses=ERRORS)
async def connect_vk_group(body: VkGroupIn, uow: UowDep, _: AdminUser) -> VkGroupRead:
    group = await vk.register_group(uow.session, body)
    await uow.commit()
    return VkGroupRead(
        group_id=group.group_id,
        page_id=group.page_id,
        has_secret=group.secret is not None,
        can_reply=group.access_token is not None,
        created_at=group.created_at,
    )


@router.post("/channels/telegram/webhook", responses={403: {}, 404: {}, 422: {}})
async def telegram_webhook(
    request: Request, uow: UowDep, settings: SettingsDep
) -> dict[str, str | bool]:
    """Takes a Bot API update; a comment in a connected discussion group is stored first."""
    telegram.authenticate(settings, request.headers.get(telegram.SECRET_HEADER))
    try:
        update = TelegramUpdate.model_validate_json(await request.body())
    except ValidationError as exc:
        raise Unprocessable(f"not a Telegram update: {exc.errors()[0]['msg']}") from exc
    outcome = await telegram.handle_update(uow, update, settings)
    await uow.commit()
    telegram.log.info("telegram.update", update_id=update.update_id, outcome=outcome)
    return {"ok": True, "outcome": outcome}


@router.post(
    "/admin/telegram-chats", status_code=201, response_model=TelegramChatRead, responses=ERRORS
)
async def connect_telegram_chat(
    body: TelegramChatIn, uow: UowDep, settings: SettingsDep, request: Request, _: AdminUser
) -> TelegramChatRead:
    chat, page_created = await telegram.register_chat(uow.session, body)
    if page_created:
        await bump_version(uow.session)
    await uow.commit()
    if page_created:  # this process at once; other API processes within the cache's 30 s
        request.app.state.references.invalidate()
    return TelegramChatRead(
        chat_id=chat.chat_id,
        page_id=chat.page_id,
        can_reply=bool(settings.telegram_bot_token),
        created_at=chat.created_at,
    )
