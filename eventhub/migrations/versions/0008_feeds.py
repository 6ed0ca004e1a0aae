"""feed_stamps: each feed's last ETag and Last-Modified, kept across restarts and processes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_stamps',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('etag', sa.String(length=80), nullable=False),
        sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade():
    op.drop_table('feed_stamps')
