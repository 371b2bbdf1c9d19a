"""replies back into VK comments and platform answers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vk_group") as batch:
        batch.add_column(
            sa.Column("access_token", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
    with op.batch_alter_table("reply_delivery") as batch:
        batch.add_column(
            sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reply_delivery") as batch:
        batch.drop_column("external_ref")
    with op.batch_alter_table("vk_group") as batch:
        batch.drop_column("access_token")
