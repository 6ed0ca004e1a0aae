"""Host pools and interpretation: video_rooms.host and counts, sessions.interpretation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('video_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('host_assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('participant_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_video_rooms_host'), ['host'], unique=False)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interpretation', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('interpretation')
    with op.batch_alter_table('video_rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_video_rooms_host'))
        batch_op.drop_column('counted_at')
        batch_op.drop_column('participant_count')
        batch_op.drop_column('host_assigned_at')
        batch_op.drop_column('host')
