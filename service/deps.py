"""Shared dependencies: the unit of work, the current user and role guards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.users import Role, User
from service.config import Settings
from service.db import UnitOfWork, unit_of_work
from service.errors import Forbidden, Unauthorized
from service.users.service import user_for_token

bearer = HTTPBearer(auto_error=False, description="API token from `feedback-router users create`")


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    state = request.app.state
    async with unit_of_work(state.sessionmaker, state.queue) as uow:
        yield uow


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def current_user(
    uow: UowDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    if creds is None or not creds.credentials:
        raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    user = await user_for_token(uow.session, creds.credentials)
    if user is None:
        raise Unauthorized(
            "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    allowed = {r.value for r in roles}

    async def guard(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(allowed))}")
        return user

    return guard


ServiceUser = Annotated[User, Depends(require_roles(Role.service, Role.admin))]
StaffUser = Annotated[
    User, Depends(require_roles(Role.responder, Role.supervisor, Role.operator, Role.admin))
]
SupervisorUser = Annotated[User, Depends(require_roles(Role.supervisor, Role.operator, Role.admin))]
AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
OperatorUser = Annotated[User, Depends(require_roles(Role.operator, Role.admin))]
