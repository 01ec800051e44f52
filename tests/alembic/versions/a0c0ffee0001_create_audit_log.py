"""Create audit log

Revision ID: a0c0ffee0001
Revises:
Create Date: 2023-02-01 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a0c0ffee0001"
down_revision = None
branch_labels = "audit"
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("happened", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
