"""Unanswered questions grouped on arrival (insight_groups, insight_turns.group_id and the
partial indexes that page them) and the self-service payments (payment profiles, operations
with their audit trail, card setup links, messaging step-ups).

Types are frozen as in 0001 (Money is BIGINT centavos, UTCDateTime a naive UTC DateTime).

Revision ID: 0002_groups_payments
Revises: 0001_initial
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_groups_payments'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

GROUPED = sa.text("group_id IS NOT NULL")
UNGROUPED = sa.text("fallback AND text IS NOT NULL AND group_id IS NULL")  # boolean in both dialects
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table('insight_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=True),
    sa.Column('last_seen', sa.DateTime(), nullable=True),
    sa.Column('guesses', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('payment_profiles',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=80), nullable=False),
    sa.Column('payment_method_id', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('step_ups',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=120), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('resume', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel', 'user_id')
    )
    op.create_table('payment_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('add_funds', 'auto_recharge', 'card_update', name='payment_operation_kind'), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'pending', 'succeeded', 'declined', 'needs_authentication', 'unverified', 'cancelled', 'refused', 'link_sent', name='payment_operation_status'), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('conversation', sa.String(length=160), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('threshold', sa.BigInteger(), nullable=True),
    sa.Column('enabled', sa.Integer(), nullable=True),
    sa.Column('card', sa.String(length=60), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('reason', sa.String(length=80), nullable=True),
    sa.Column('folio', sa.String(length=30), nullable=True),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('folio'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('ledger_entry_id')
    )
    with op.batch_alter_table('payment_operations', schema=None) as batch_op:
        batch_op.create_index('ix_payment_operations_account_time', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('uq_payment_operations_one_pending', ['account_id'], unique=True, sqlite_where=PENDING, postgresql_where=PENDING)

    op.create_table('card_setups',
    sa.Column('session_id', sa.String(length=80), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operation_id'], ['payment_operations.id'], ),
    sa.PrimaryKeyConstraint('session_id')
    )
    with op.batch_alter_table('card_setups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_setups_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('insight_turns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_insight_turns_group_rank', ['day', 'group_id', 'second_miss', 'at'], unique=False, sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.create_index('ix_insight_turns_group_text', ['text'], unique=False, sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.create_index('ix_insight_turns_group_texts', ['group_id', 'text', 'day'], unique=False, sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.create_index('ix_insight_turns_ungrouped', ['event_id'], unique=False, sqlite_where=UNGROUPED, postgresql_where=UNGROUPED)



def downgrade() -> None:
    with op.batch_alter_table('insight_turns', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_turns_ungrouped', sqlite_where=UNGROUPED, postgresql_where=UNGROUPED)
        batch_op.drop_index('ix_insight_turns_group_texts', sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.drop_index('ix_insight_turns_group_text', sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.drop_index('ix_insight_turns_group_rank', sqlite_where=GROUPED, postgresql_where=GROUPED)
        batch_op.drop_column('group_id')

    with op.batch_alter_table('card_setups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_setups_account_id'))

    op.drop_table('card_setups')
    with op.batch_alter_table('payment_operations', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_operations_one_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index('ix_payment_operations_account_time')

    op.drop_table('payment_operations')
    op.drop_table('step_ups')
    op.drop_table('payment_profiles')
    op.drop_table('insight_groups')
