"""Catalog and user administration: authority calendars, category defaults, page origins,
users and tokens."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request
from sqlmodel import col, select

from schemas.admin import (
    AdminEventRead,
    AuthorityPatch,
    AuthorityRead,
    CategoryPatch,
    CategoryRead,
    PagePatch,
    PageRead,
    UserIn,
    UserRead,
)
from schemas.base import utcnow
from schemas.catalog import Authority, Category, Page
from schemas.users import AdminEvent, ApiToken, User
from service.catalog.service import bump_version
from service.deps import MAX_ROW_ID, AdminUser, RowId, SettingsDep, UowDep
from service.errors import NotFound, Unprocessable
from service.items.assignment import release_all_of
from service.items.references import page_origins
from service.sla.calendars import calendar_registry
from service.sla.registry import UnknownCalendarError
from service.users.cache import announce_revocation
from service.users.service import create_user

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


@router.get("/authorities", response_model=list[AuthorityRead], responses=ERRORS)
async def list_authorities(uow: UowDep, _: AdminUser) -> list[AuthorityRead]:
    rows = (await uow.session.exec(select(Authority).order_by(col(Authority.code)))).all()
    return [AuthorityRead.model_validate(a, from_attributes=True) for a in rows]


@router.patch("/authorities/{code}", response_model=AuthorityRead, responses=ERRORS)
async def patch_authority(
    code: str, body: AuthorityPatch, uow: UowDep, _: AdminUser, settings: SettingsDep
) -> AuthorityRead:
    """Give an authority another work calendar (applies to clocks attached from now on)."""
    authority = await uow.session.get(Authority, code)
    if authority is None:
        raise NotFound(f"no authority {code!r}")
    if body.calendar_code is not None:
        try:
            (await calendar_registry(uow.session, settings.catalog_dir)).get(body.calendar_code)
        except UnknownCalendarError as exc:
            raise Unprocessable(f"unknown calendar {body.calendar_code!r}") from exc
        authority.calendar_code = body.calendar_code
    if body.timezone is not None:
        try:
            ZoneInfo(body.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Unprocessable(f"unknown time zone {body.timezone!r}") from exc
        authority.timezone = body.timezone
    uow.session.add(authority)
    await uow.commit()
    return AuthorityRead.model_validate(authority, from_attributes=True)


@router.get("/categories", response_model=list[CategoryRead], responses=ERRORS)
async def list_categories(uow: UowDep, _: AdminUser) -> list[CategoryRead]:
    rows = (await uow.session.exec(select(Category).order_by(col(Category.code)))).all()
    return [CategoryRead.model_validate(c, from_attributes=True) for c in rows]


@router.patch("/categories/{code}", response_model=CategoryRead, responses=ERRORS)
async def patch_category(code: str, body: CategoryPatch, uow: UowDep, _: AdminUser) -> CategoryRead:
    """Edit a category's default priority and deadlines (used when no SLA policy matches)."""
    category = await uow.session.get(Category, code)
    if category is None:
        raise NotFound(f"no category {code!r}")
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(category, name, value)
    uow.session.add(category)
    await bump_version(uow.session)  # the router reads priorities from the catalog
    await uow.commit()
    return CategoryRead.model_validate(category, from_attributes=True)


def _page_read(page: Page) -> PageRead:
    effective = sorted(page_origins(page.page_id, page.allowed_origins))
    return PageRead(**page.as_dict(), effective_origins=effective)


@router.get("/pages", response_model=list[PageRead], responses=ERRORS)
async def list_pages(uow: UowDep, _: AdminUser) -> list[PageRead]:
    rows = (await uow.session.exec(select(Page).order_by(col(Page.page_id)))).all()
    return [_page_read(p) for p in rows]


@router.patch("/pages/{page_id}", response_model=PageRead, responses=ERRORS)
async def patch_page(
    page_id: str, body: PagePatch, uow: UowDep, _: AdminUser, request: Request
) -> PageRead:
    """Set the browser origins allowed to post widget reports for this page (the CORS allow-list
    of the page; a `site:HOST` page always allows https://HOST)."""
    page = await uow.session.get(Page, page_id)
    if page is None:
        raise NotFound(f"no page {page_id!r}")
    page.allowed_origins = sorted({o.lower() for o in body.allowed_origins})
    uow.session.add(page)
    await bump_version(uow.session)
    await uow.commit()
    # This process at once; other API processes within the reference cache's 30 s.
    request.app.state.references.invalidate()
    return _page_read(page)


@router.post("/users", status_code=201, response_model=UserRead, responses=ERRORS)
async def add_user(body: UserIn, uow: UowDep, _: AdminUser) -> UserRead:
    user, token = await create_user(
        uow.session, name=body.name, role=body.role, authority_code=body.authority_code
    )
    await uow.commit()
    return UserRead.model_validate({**user.model_dump(), "token": token})


@router.get("/users", response_model=list[UserRead], responses=ERRORS)
async def list_users(uow: UowDep, _: AdminUser) -> list[UserRead]:
    rows = (await uow.session.exec(select(User).order_by(col(User.id)))).all()
    return [UserRead.model_validate(u, from_attributes=True) for u in rows]


@router.delete("/users/{user_id}", response_model=UserRead, responses=ERRORS)
async def deactivate_user(user_id: RowId, uow: UowDep, _: AdminUser, request: Request) -> UserRead:
    """Deactivate a user and revoke every token at once."""
    user = await uow.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    user.active = False
    tokens = (await uow.session.exec(select(ApiToken).where(ApiToken.user_id == user_id))).all()
    for token in tokens:
        token.revoked_at = token.revoked_at or utcnow()
        uow.session.add(token)
    uow.session.add(user)
    # Their claimed items would wait for them for ever: back to their authorities' queues.
    await release_all_of(uow, user, "the user was deactivated")
    await uow.commit()
    await announce_revocation(request.app)
    return UserRead.model_validate(user, from_attributes=True)


@router.get("/audit", response_model=list[AdminEventRead], responses=ERRORS)
async def list_admin_events(
    uow: UowDep,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[AdminEventRead]:
    """Changes to the set-up, newest first: who, which route with which ids, which fields."""
    stmt = select(AdminEvent).order_by(col(AdminEvent.id).desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(col(AdminEvent.id) < before)
    rows = (await uow.session.exec(stmt)).all()
    return [AdminEventRead.model_validate(e, from_attributes=True) for e in rows]
