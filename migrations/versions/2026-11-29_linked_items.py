"""items linked to a main item of the same problem (incidents answered by the main's answer)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but a new column may carry its reference
        # (the batch mode's copy of the item table is not worth it for one nullable column).
        op.execute("ALTER TABLE item ADD COLUMN main_item_id CHAR(32) REFERENCES item (id)")
    else:
        op.add_column("item", sa.Column("main_item_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_item_main_item_id_item"), "item", "item", ["main_item_id"], ["id"]
        )
    op.create_index(op.f("ix_item_main_item_id"), "item", ["main_item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_item_main_item_id"), table_name="item")
    if op.get_bind().dialect.name == "sqlite":
        # The reference added with the column has no name; the table copy leaves it behind.
        with op.batch_alter_table("item") as batch:
            batch.drop_column("main_item_id")
    else:
        op.drop_constraint(op.f("fk_item_main_item_id_item"), "item", type_="foreignkey")
        op.drop_column("item", "main_item_id")
