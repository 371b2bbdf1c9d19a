"""The SLA context (calendars, one `now`) for a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from service.deps import SettingsDep, UowDep
from service.sla.hooks import SlaContext, sla_context


async def get_sla(uow: UowDep, settings: SettingsDep) -> SlaContext:
    return await sla_context(uow, settings)


SlaDep = Annotated[SlaContext, Depends(get_sla)]
