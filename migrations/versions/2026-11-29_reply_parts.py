"""the further messages of a reply split by the channel, so an answer to any of them joins

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["reply_delivery.id"],
            name=op.f("fk_reply_part_delivery_id_reply_delivery"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_part")),
        sa.UniqueConstraint(
            "delivery_id", "external_ref", name=op.f("uq_reply_part_delivery_id_external_ref")
        ),
    )
    op.create_index("ix_reply_part_ref", "reply_part", ["kind", "external_ref"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reply_part_ref", table_name="reply_part")
    op.drop_table("reply_part")
