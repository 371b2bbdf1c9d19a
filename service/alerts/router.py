"""Alert endpoints (admin) and the dead-letter list (operators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.admin import AlertEndpointIn, AlertEndpointRead, DeliveryRead
from service.alerts import admin
from service.deps import AdminUser, OperatorUser, RowId, SettingsDep, UowDep

router = APIRouter(prefix="/api/v1/admin", tags=["alerts"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 422: {}}


@router.post(
    "/alert-endpoints", status_code=201, response_model=AlertEndpointRead, responses=ERRORS
)
async def create_endpoint(
    body: AlertEndpointIn, uow: UowDep, _: AdminUser, settings: SettingsDep
) -> AlertEndpointRead:
    endpoint, generated = await admin.create_endpoint(
        uow.session, body, allow_private=settings.alert_allow_private_targets
    )
    await uow.commit()
    return admin.endpoint_read(endpoint, secret=generated)


@router.get("/alert-endpoints", response_model=list[AlertEndpointRead], responses=ERRORS)
async def list_endpoints(uow: UowDep, _: AdminUser) -> list[AlertEndpointRead]:
    return [admin.endpoint_read(e) for e in await admin.list_endpoints(uow.session)]


@router.delete("/alert-endpoints/{endpoint_id}", response_model=AlertEndpointRead, responses=ERRORS)
async def disable_endpoint(endpoint_id: RowId, uow: UowDep, _: AdminUser) -> AlertEndpointRead:
    endpoint = await admin.disable_endpoint(uow.session, endpoint_id)
    await uow.commit()
    return admin.endpoint_read(endpoint)


@router.get("/alert-deliveries", response_model=list[DeliveryRead], responses=ERRORS)
async def list_deliveries(
    uow: UowDep,
    _: OperatorUser,
    status: Annotated[str, Query(pattern="^(pending|sent|dead)$")] = "dead",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeliveryRead]:
    return await admin.list_deliveries(uow.session, status=status, limit=limit)


@router.post("/alert-deliveries/{delivery_id}/retry", response_model=DeliveryRead, responses=ERRORS)
async def retry_delivery(delivery_id: RowId, uow: UowDep, _: OperatorUser) -> DeliveryRead:
    read = await admin.retry(uow, delivery_id)
    await uow.commit()
    return read
