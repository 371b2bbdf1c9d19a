"""SLA policies: the final answer's deadline after the first interim reply

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sla_policy") as batch:
        batch.add_column(sa.Column("after_interim_duration", sa.Float(), nullable=True))
        batch.add_column(sa.Column("after_interim_unit", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sla_policy") as batch:
        batch.drop_column("after_interim_unit")
        batch.drop_column("after_interim_duration")
