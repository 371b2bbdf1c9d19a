"""Channel endpoints: the VK Callback API, and connecting VK communities (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from schemas.channels import VkEnvelope, VkGroupIn, VkGroupRead
from service.channels import vk
from service.deps import AdminUser, UowDep
from service.errors import Unprocessable

router = APIRouter(prefix="/api/v1", tags=["channels"])


@router.post(
    "/channels/vk/callback", response_class=PlainTextResponse, responses={403: {}, 422: {}}
)
async def vk_callback(request: Request, uow: UowDep) -> PlainTextResponse:
    """Answers the confirmation string, or `ok` once the event is stored (VK retries otherwise)."""
    try:
        envelope = VkEnvelope.model_validate_json(await request.body())
    except ValidationError as exc:
        raise Unprocessable(f"not a VK Callback API event: {exc.errors()[0]['msg']}") from exc
    group = await vk.authenticate(uow.session, envelope)
    if envelope.type == "confirmation":
        return PlainTextResponse(group.confirmation)
    outcome = await vk.handle_event(uow, group, envelope)
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
