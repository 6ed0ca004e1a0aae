"""sessions.planned_mode (the mode each session was planned with) and sessions.track_names

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_mode', sa.String(length=20),
                                      server_default='in_person', nullable=False))
        batch_op.add_column(sa.Column('track_names', sa.JSON(), server_default='{}',
                                      nullable=False))
    # The best plan we know for existing sessions is the mode they have now.
    op.execute("UPDATE sessions SET planned_mode = mode")


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('track_names')
        batch_op.drop_column('planned_mode')
