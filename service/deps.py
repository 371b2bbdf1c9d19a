"""Shared dependencies: the unit of work, the current user and role guards."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.users import AdminEvent, Role, User
from service.config import Settings
from service.db import UnitOfWork, unit_of_work
from service.errors import Forbidden, Unauthorized
from service.fastroute import lean_dependency
from service.users.cache import TokenCache
from service.users.service import user_for_token

bearer = HTTPBearer(auto_error=False, description="API token from `feedback-router users create`")


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    state = request.app.state
    async with unit_of_work(state.sessionmaker, state.queue) as uow:
        yield uow


# Async on purpose: FastAPI runs a plain `def` dependency in a worker thread (~0.1 ms a call).
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
# The integer keys these paths name are 32-bit columns on PostgreSQL: a larger number is a 422
# here, not a driver error (503) or an overflow (500) at the database.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_user(request: Request, uow: UowDep, creds: Credentials) -> User:
    return _noted(request, _known(await user_for_token(uow.session, _token(creds))))


def _noted(request: Request, user: User) -> User:
    # For the access log: who made the request (staff reads are not item events).
    request.state.user_id = user.id
    return user


async def caller_apart(request: Request, creds: Credentials) -> User:
    """The caller, looked up in a session of its own that is closed before the handler runs:
    intake endpoints write through the group-commit writer and hold no transaction."""
    token = _token(creds)
    cache: TokenCache = request.app.state.token_cache

    async def load() -> User:
        async with request.app.state.sessionmaker() as session:
            return _known(await user_for_token(session, token))

    return _noted(request, await cache.lookup(token, load))


def _token(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None or not creds.credentials:
        raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return creds.credentials


def _known(user: User | None) -> User:
    if user is None:
        raise Unauthorized(
            "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    allowed = {r.value for r in roles}

    async def guard(user: CurrentUser) -> User:
        return _allowed(user, allowed)

    return guard


def _allowed(user: User, allowed: set[str]) -> User:
    if user.role not in allowed:
        raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(allowed))}")
    return user


_INTAKE_ROLES = {Role.service.value, Role.admin.value}


async def _service_caller_lean(request: Request) -> User:
    # The same steps as FastAPI solving `_service_caller` below, without its machinery.
    return _allowed(await caller_apart(request, await bearer(request)), _INTAKE_ROLES)


@lean_dependency(_service_caller_lean)
async def _service_caller(user: Annotated[User, Depends(caller_apart)]) -> User:
    return _allowed(user, _INTAKE_ROLES)


ServiceUser = Annotated[User, Depends(require_roles(Role.service, Role.admin))]
# For intake: the same roles, without holding a request transaction.
IntakeCaller = Annotated[User, Depends(_service_caller)]
StaffUser = Annotated[
    User, Depends(require_roles(Role.responder, Role.supervisor, Role.operator, Role.admin))
]
SupervisorUser = Annotated[User, Depends(require_roles(Role.supervisor, Role.operator, Role.admin))]
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def audited_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    """`require_roles`, and a change under /api/v1/admin is recorded with its commit: who,
    which route with which ids, which fields (not their values: tokens, secrets)."""
    allowed = {r.value for r in roles}

    async def guard(user: CurrentUser, request: Request, uow: UowDep) -> User:
        _allowed(user, allowed)
        if request.method not in _READS and request.url.path.startswith("/api/v1/admin"):
            uow.audit = AdminEvent(
                actor=f"user:{user.id}",  # as item events name their actors
                action=f"{request.method} {_route_path(request)}",
                target={k: str(v) for k, v in request.path_params.items()},
                fields=await _body_fields(request),
            )
        return user

    return guard


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


async def _body_fields(request: Request) -> list[str]:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return []
    return sorted(str(k) for k in body) if isinstance(body, dict) else []


AdminUser = Annotated[User, Depends(audited_roles(Role.admin))]
OperatorUser = Annotated[User, Depends(audited_roles(Role.operator, Role.admin))]
