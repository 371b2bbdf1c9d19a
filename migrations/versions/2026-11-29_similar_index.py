"""indexes for linking: an authority's open, unlinked items by time; the linked items only

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen here as it stood (schemas.items.OPEN_UNLINKED_PREDICATE).
OPEN_UNLINKED_PREDICATE = (
    "status IN ('routed', 'triage', 'in_progress', 'awaiting_citizen', 'reopened') "
    "AND main_item_id IS NULL"
)

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every new item is unlinked: a full index on the column took an entry per intake row.
    op.drop_index("ix_item_main_item_id", table_name="item")
    op.create_index(
        "ix_item_linked",
        "item",
        ["main_item_id"],
        unique=False,
        postgresql_where=sa.text("main_item_id IS NOT NULL"),
        sqlite_where=sa.text("main_item_id IS NOT NULL"),
    )
    op.create_index(
        "ix_item_open_unlinked_received",
        "item",
        ["authority_code", "received_at"],
        unique=False,
        postgresql_where=sa.text(OPEN_UNLINKED_PREDICATE),
        sqlite_where=sa.text(OPEN_UNLINKED_PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_item_open_unlinked_received", table_name="item")
    op.drop_index("ix_item_linked", table_name="item")
    op.create_index("ix_item_main_item_id", "item", ["main_item_id"], unique=False)
