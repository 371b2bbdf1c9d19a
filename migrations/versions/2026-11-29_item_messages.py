"""citizen messages joined to an item from a channel thread

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "item_message",
        sa.Column("id", big_id, nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("event_id", big_id, nullable=False),
        sa.Column("created_at", schemas.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["item_event.id"], name=op.f("fk_item_message_event_id_item_event")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_message_item_id_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_message")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_item_message_channel_external_id")
        ),
    )
    op.create_index(op.f("ix_item_message_item_id"), "item_message", ["item_id"], unique=False)
    op.create_index(
        "ix_reply_delivery_ref", "reply_delivery", ["kind", "external_ref"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reply_delivery_ref", table_name="reply_delivery")
    op.drop_index(op.f("ix_item_message_item_id"), table_name="item_message")
    op.drop_table("item_message")
