"""Create organisations

Revision ID: 3c4d5e6f7081
Revises: 2b3c4d5e6f70
Create Date: 2023-04-01 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "3c4d5e6f7081"
down_revision = "2b3c4d5e6f70"
branch_labels = ("orgs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, server_default="it's \"new\""),
    )
    op.add_column("people", sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id")))


def downgrade() -> None:
    op.drop_column("people", "organisation_id")
    op.drop_table("organisations")
