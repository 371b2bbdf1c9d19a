"""when each staff member last opened an item (unread marks in the queue)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_seen",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", schemas.base.UTCDateTime(timezone=True), nullable=False),
        # No foreign key to item: see schemas.items.ItemSeen (a lock-order deadlock).
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_item_seen_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "item_id", name=op.f("pk_item_seen")),
    )


def downgrade() -> None:
    op.drop_table("item_seen")
