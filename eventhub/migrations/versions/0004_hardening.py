"""hardening: webhook deliveries remembered; personal tokens derived, not stored

Participants' plain ``token`` column goes. A token is now HMAC(SECRET_KEY, id + nonce), and
a migration does not know SECRET_KEY: each row gets a random nonce and a placeholder digest,
so the old links stop working, and ``flask eventhub init-db`` (which runs this migration)
then sets the digests of the new links (services.access.refresh_token_digests). Organizers
send the new links (the back office and the API show them, as before).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:05:00.000000

"""
from alembic import op
import secrets

import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'digest')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_received_at'), ['received_at'],
                              unique=False)

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_nonce', sa.String(length=64), nullable=True))
    participants = sa.table('participants', sa.column('id', sa.Integer),
                            sa.column('token_nonce', sa.String),
                            sa.column('token_digest', sa.String))
    bind = op.get_bind()
    for (participant_id,) in bind.execute(sa.select(participants.c.id)).all():
        bind.execute(participants.update().where(participants.c.id == participant_id).values(
            token_nonce=secrets.token_urlsafe(32), token_digest="-" + secrets.token_hex(31)))
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('token_nonce', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.drop_column('token')


def downgrade():
    # The old column comes back with each row's placeholder: links issued since the upgrade
    # are derived and cannot be stored back; organizers rotate them after a downgrade.
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=100), nullable=True))
    op.execute("UPDATE participants SET token = token_digest")
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column('token_nonce')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_received_at'))
    op.drop_table('webhook_deliveries')
