'''Index people's "email" — concurrently, without locking writes

The table is big: the index is built with CREATE INDEX CONCURRENTLY, which
PostgreSQL refuses inside a transaction.

Revision ID: 0004.idx_email
Revises: 2b3c4d5e6f70
Create Date: 2023-04-02 14:05:00.000000

'''
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004.idx_email'
down_revision = '2b3c4d5e6f70'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("people_email", "people", ["email"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("people_email", table_name="people", postgresql_concurrently=True)
