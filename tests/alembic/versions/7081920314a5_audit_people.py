"""Audit people's changes

Revision ID: 7081920314a5
Revises: 6f7081920314
Create Date: 2023-06-20 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7081920314a5"
down_revision = "6f7081920314"
branch_labels = None
depends_on = ["audit"]


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id")))


def downgrade() -> None:
    op.drop_column("audit_log", "person_id")
