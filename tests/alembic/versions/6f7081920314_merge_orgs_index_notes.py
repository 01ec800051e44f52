"""merge organisations, email index and notes

Revision ID: 6f7081920314
Revises: 3c4d5e6f7081, 0004.idx_email, 5e6f70819203
Create Date: 2023-05-10 11:11:11.111111

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "6f7081920314"
down_revision = (
    "3c4d5e6f7081",
    "0004.idx_email",
    "5e6f70819203",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
