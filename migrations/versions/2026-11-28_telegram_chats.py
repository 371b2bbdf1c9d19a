"""telegram discussion groups whose messages are comments

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_chat",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("page_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", schemas.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"], ["page.page_id"], name=op.f("fk_telegram_chat_page_id_page")
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chat")),
        sa.UniqueConstraint("page_id", name=op.f("uq_telegram_chat_page_id")),
    )


def downgrade() -> None:
    op.drop_table("telegram_chat")
