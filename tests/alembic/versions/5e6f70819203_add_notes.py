"""Add notes to people

Revision ID: 5e6f70819203
Revises: 2b3c4d5e6f70
Create Date: 2023-04-03 16:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "5e6f70819203"
down_revision = "2b3c4d5e6f70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE people ADD COLUMN notes text DEFAULT ''")


def downgrade() -> None:
    pass
