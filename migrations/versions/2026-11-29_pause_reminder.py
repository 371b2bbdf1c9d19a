"""SLA policies say when an unanswered question is recalled to the citizen

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing policies remind as new ones do by default.
    op.add_column(
        "sla_policy",
        sa.Column("remind_at", sa.Float(), nullable=False, server_default=sa.text("0.67")),
    )


def downgrade() -> None:
    with op.batch_alter_table("sla_policy") as batch:
        batch.drop_column("remind_at")
