"""Channel connections: VK communities whose Callback API events become items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column
from sqlmodel import Field as SqlField
from sqlmodel import SQLModel

from schemas.base import UTCDateTime, utcnow
from schemas.common import OptionalSafeId, OptionalSafeText, SafeId, StrictModel

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class VkGroup(SQLModel, table=True):
    __tablename__ = "vk_group"

    group_id: int = SqlField(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    page_id: str = SqlField(foreign_key="page.page_id", index=True)
    # The string VK expects back on `confirmation` (it changes when the server is edited).
    confirmation: str = SqlField(max_length=100)
    secret: str | None = SqlField(default=None, max_length=100)
    # A community access token with the wall right: replies go back as comments under the
    # citizen's comment. Without it replies stay in the API and on no VK wall.
    access_token: str | None = SqlField(default=None, max_length=300)
    created_at: datetime = SqlField(default_factory=utcnow, sa_type=UTCDateTime)


class VkGroupIn(StrictModel):
    group_id: int = Field(gt=0, le=INT64_MAX)
    page_id: SafeId = Field(min_length=1, max_length=200)
    confirmation: SafeId = Field(min_length=1, max_length=100)
    # Required: without it anyone who knows the community id could post events as VK.
    secret: SafeId = Field(min_length=8, max_length=100)
    access_token: OptionalSafeId = Field(default=None, min_length=16, max_length=300)


class VkGroupRead(BaseModel):
    group_id: int
    page_id: str
    has_secret: bool
    can_reply: bool  # an access token is stored (it is never shown again)
    created_at: datetime


class VkEnvelope(BaseModel):
    """The Callback API envelope; unknown fields are allowed (VK adds them over time)."""

    type: str = Field(min_length=1, max_length=64)
    group_id: int = Field(gt=0, le=INT64_MAX)  # the key column's range: no overflow past it
    event_id: str | None = Field(default=None, max_length=100)
    v: str | None = Field(default=None, max_length=16)
    secret: str | None = Field(default=None, max_length=200)
    object: dict[str, Any] | None = None


class VkComment(BaseModel):
    id: int = Field(ge=INT64_MIN, le=INT64_MAX)
    from_id: int = Field(default=0, ge=INT64_MIN, le=INT64_MAX)
    post_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    owner_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    date: int | None = Field(default=None, ge=0, lt=2**32)  # Unix time, as VK sends it
    text: str = Field(default="", max_length=20000)
    reply_to_comment: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    # The thread's comments above this one; the first is the thread's top comment. Loosely
    # typed: an odd value here must not cost the comment itself (see `thread_root`).
    parents_stack: Any = None

    @property
    def thread_root(self) -> int | None:
        stack = self.parents_stack
        first = stack[0] if isinstance(stack, list) and stack else None
        if (
            isinstance(first, int)
            and not isinstance(first, bool)
            and INT64_MIN <= first <= INT64_MAX
        ):
            return first
        return None


class VkCommentDeleted(BaseModel):
    """`wall_reply_delete`: who deleted is `deleter_id` (SDKs) or `user_id` (VK's own schema)."""

    id: int = Field(ge=INT64_MIN, le=INT64_MAX)
    deleter_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    user_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)

    @property
    def deleted_by(self) -> int | None:
        return self.deleter_id if self.deleter_id is not None else self.user_id


class PollCursor(SQLModel, table=True):
    """Where a poller stopped; saved in the same transaction as the items it fetched."""

    __tablename__ = "poll_cursor"

    source: str = SqlField(primary_key=True, max_length=64)
    cursor: str | None = SqlField(default=None, max_length=500)
    updated_at: datetime = SqlField(default_factory=utcnow, sa_type=UTCDateTime)


class TelegramChat(SQLModel, table=True):
    """A channel's discussion group: its messages are the comments under the channel's posts."""

    __tablename__ = "telegram_chat"

    # The group's Bot API id (negative, -100… for supergroups).
    chat_id: int = SqlField(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # A channel has one discussion group: one row per `tg` page.
    page_id: str = SqlField(foreign_key="page.page_id", unique=True)
    created_at: datetime = SqlField(default_factory=utcnow, sa_type=UTCDateTime)


class TelegramChatIn(StrictModel):
    chat_id: int = Field(
        ge=INT64_MIN, lt=0, description="the discussion group's id (groups are negative)"
    )
    page_id: SafeId = Field(min_length=4, max_length=200, pattern=r"^tg:\S+$")
    # To create the channel's page when the catalog has none (its owner routes by default).
    title: OptionalSafeText = Field(default=None, min_length=1, max_length=300)
    authority_code: str | None = Field(default=None, min_length=1, max_length=100)


class TelegramChatRead(BaseModel):
    chat_id: int
    page_id: str
    can_reply: bool  # TELEGRAM_BOT_TOKEN is set, so answers go back into the thread
    created_at: datetime


class TelegramUser(BaseModel):
    id: int = Field(ge=INT64_MIN, le=INT64_MAX)
    is_bot: bool = False
    first_name: str = Field(default="", max_length=256)
    last_name: str | None = Field(default=None, max_length=256)


class TelegramChatRef(BaseModel):
    id: int = Field(ge=INT64_MIN, le=INT64_MAX)


class TelegramOrigin(BaseModel):
    message_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)


class TelegramMessage(BaseModel):
    """The Bot API `Message` fields a comment needs; the rest is ignored."""

    message_id: int = Field(ge=INT64_MIN, le=INT64_MAX)
    date: int | None = Field(default=None, ge=0, lt=2**32)
    chat: TelegramChatRef
    from_: TelegramUser | None = Field(default=None, alias="from")
    sender_chat: TelegramChatRef | None = None
    is_automatic_forward: bool = False
    forward_origin: TelegramOrigin | None = None
    reply_to_message: TelegramMessage | None = None
    text: str | None = Field(default=None, max_length=20000)
    caption: str | None = Field(default=None, max_length=20000)


class TelegramUpdate(BaseModel):
    update_id: int
    message: TelegramMessage | None = None
    edited_message: TelegramMessage | None = None
