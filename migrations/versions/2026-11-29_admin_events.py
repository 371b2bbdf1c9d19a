"""the administrators' audit trail

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import schemas.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "admin_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", schemas.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("target", json_type, nullable=False),
        sa.Column("fields", json_type, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_event")),
    )
    op.create_index(op.f("ix_admin_event_at"), "admin_event", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_event_at"), table_name="admin_event")
    op.drop_table("admin_event")
