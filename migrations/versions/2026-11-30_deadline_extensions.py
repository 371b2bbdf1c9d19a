"""deadline extensions: asked for with a reason, approved by a supervisor (59-FZ art. 12)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('pending', 'approved')"
PENDING = "status = 'pending'"


def upgrade() -> None:
    moment = schemas.base.UTCDateTime(timezone=True)
    op.create_table(
        "deadline_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("clock_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", moment, nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", moment, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("previous_due_at", moment, nullable=False),
        sa.Column("new_due_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_deadline_extension_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["app_user.id"],
            name=op.f("fk_deadline_extension_requested_by_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_deadline_extension_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extension")),
    )
    op.create_index(
        op.f("ix_deadline_extension_item_id"), "deadline_extension", ["item_id"], unique=False
    )
    op.create_index(
        "uq_deadline_extension_active",
        "deadline_extension",
        ["item_id", "clock_key"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    op.create_index(
        "ix_deadline_extension_pending",
        "deadline_extension",
        ["requested_at"],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_extension_pending", table_name="deadline_extension")
    op.drop_index("uq_deadline_extension_active", table_name="deadline_extension")
    op.drop_index(op.f("ix_deadline_extension_item_id"), table_name="deadline_extension")
    op.drop_table("deadline_extension")
