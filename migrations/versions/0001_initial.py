"""The account store as the last release before migrations made it with create_all.

Accounts, extensions, cards, auto-recharge and the ledger; channel links, link guards,
deliveries and channel states; support cases, their messages, staff and staff sessions;
insights; alert subscriptions, outbox and state. Types are frozen here (Money is BIGINT
centavos, UTCDateTime a naive UTC DateTime), so a later change to the models never rewrites
this revision: it goes in a new one.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ENUMS = ("entry_kind", "case_status", "case_author", "case_delivery", "alert_status")


def upgrade() -> None:
    # A database from before migrations (create_all, any earlier release) already has some of
    # these tables: they are kept as they are, with their rows, and only the missing ones are
    # created, as create_all did on every start. A new database gets them all.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    created = set()

    def table(name, *elements):
        if name not in existing:
            op.create_table(name, *elements)
            created.add(name)

    def index(name, table_name, columns):
        if table_name in created:
            op.create_index(name, table_name, columns, unique=False)

    table('accounts',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('number', sa.String(length=20), nullable=False),
          sa.Column('company', sa.String(length=120), nullable=False),
          sa.Column('timezone', sa.String(length=64), nullable=False),
          sa.Column('balance', sa.BigInteger(), nullable=False),
          sa.Column('pin_hash', sa.String(length=200), nullable=True),
          sa.PrimaryKeyConstraint('id'),
          sa.UniqueConstraint('number')
          )
    table('alert_state',
          sa.Column('key', sa.String(length=40), nullable=False),
          sa.Column('value', sa.Text(), nullable=False),
          sa.PrimaryKeyConstraint('key')
          )
    table('alert_subscriptions',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('account', sa.String(length=20), nullable=False),
          sa.Column('channel', sa.String(length=30), nullable=False),
          sa.Column('channel_user', sa.String(length=120), nullable=False),
          sa.Column('threshold', sa.BigInteger(), nullable=False),
          sa.Column('armed', sa.Boolean(), nullable=False),
          sa.Column('after_entry_id', sa.Integer(), nullable=False),
          sa.Column('after_failure_id', sa.Integer(), nullable=False),
          sa.Column('created_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('id'),
          sa.UniqueConstraint('account', 'channel', 'channel_user')
          )
    index('ix_alert_subscriptions_account', 'alert_subscriptions', ['account'])
    table('channel_states',
          sa.Column('channel', sa.String(length=20), nullable=False),
          sa.Column('user_id', sa.String(length=120), nullable=False),
          sa.Column('link_step', sa.String(length=10), nullable=True),
          sa.Column('pending_account', sa.String(length=20), nullable=True),
          sa.Column('failures', sa.Integer(), nullable=False),
          sa.Column('locked_until', sa.DateTime(), nullable=True),
          sa.Column('options', sa.Text(), nullable=True),
          sa.Column('updated_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('channel', 'user_id')
          )
    table('deliveries',
          sa.Column('channel', sa.String(length=20), nullable=False),
          sa.Column('message_id', sa.String(length=128), nullable=False),
          sa.Column('received_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('channel', 'message_id')
          )
    index('ix_deliveries_received_at', 'deliveries', ['received_at'])
    table('insight_labels',
          sa.Column('text', sa.String(length=500), nullable=False),
          sa.Column('label', sa.String(length=60), nullable=False),
          sa.Column('labelled_by', sa.String(length=80), nullable=False),
          sa.Column('labelled_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('text')
          )
    table('insight_state',
          sa.Column('key', sa.String(length=40), nullable=False),
          sa.Column('value', sa.Text(), nullable=False),
          sa.PrimaryKeyConstraint('key')
          )
    table('insight_turns',
          sa.Column('event_id', sa.Integer(), autoincrement=False, nullable=False),
          sa.Column('sender_id', sa.String(length=255), nullable=False),
          sa.Column('at', sa.DateTime(), nullable=False),
          sa.Column('day', sa.Date(), nullable=False),
          sa.Column('channel', sa.String(length=30), nullable=False),
          sa.Column('intent', sa.String(length=60), nullable=True),
          sa.Column('confidence', sa.Float(), nullable=True),
          sa.Column('guess_1', sa.String(length=60), nullable=True),
          sa.Column('confidence_1', sa.Float(), nullable=True),
          sa.Column('guess_2', sa.String(length=60), nullable=True),
          sa.Column('confidence_2', sa.Float(), nullable=True),
          sa.Column('fallback', sa.Boolean(), nullable=False),
          sa.Column('clarified', sa.Boolean(), nullable=False),
          sa.Column('second_miss', sa.Boolean(), nullable=False),
          sa.Column('picked', sa.Boolean(), nullable=False),
          sa.Column('handoff_reason', sa.String(length=20), nullable=True),
          sa.Column('lookup', sa.String(length=40), nullable=True),
          sa.Column('response_ms', sa.Integer(), nullable=True),
          sa.Column('text', sa.Text(), nullable=True),
          sa.PrimaryKeyConstraint('event_id')
          )
    index('ix_insight_turns_day_channel', 'insight_turns', ['day', 'channel'])
    index('ix_insight_turns_sender', 'insight_turns', ['sender_id', 'event_id'])
    table('link_guards',
          sa.Column('key', sa.String(length=160), nullable=False),
          sa.Column('failures', sa.Integer(), nullable=False),
          sa.Column('locked_until', sa.DateTime(), nullable=True),
          sa.Column('updated_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('key')
          )
    table('staff_users',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('username', sa.String(length=60), nullable=False),
          sa.Column('display_name', sa.String(length=80), nullable=False),
          sa.Column('password_hash', sa.String(length=200), nullable=False),
          sa.Column('active', sa.Boolean(), nullable=False),
          sa.Column('failed_logins', sa.Integer(), nullable=False),
          sa.Column('locked_until', sa.DateTime(), nullable=True),
          sa.Column('created_at', sa.DateTime(), nullable=False),
          sa.PrimaryKeyConstraint('id'),
          sa.UniqueConstraint('username')
          )
    table('alert_outbox',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('subscription_id', sa.Integer(), nullable=True),
          sa.Column('account', sa.String(length=20), nullable=False),
          sa.Column('kind', sa.String(length=20), nullable=False),
          sa.Column('channel', sa.String(length=30), nullable=False),
          sa.Column('channel_user', sa.String(length=120), nullable=False),
          sa.Column('variables', sa.Text(), nullable=False),
          sa.Column('dedupe_key', sa.String(length=120), nullable=False),
          sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'waiting_visit', 'failed', 'cancelled', name='alert_status'), nullable=False),
          sa.Column('attempts', sa.Integer(), nullable=False),
          sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
          sa.Column('claim_token', sa.String(length=40), nullable=True),
          sa.Column('lease_until', sa.DateTime(), nullable=True),
          sa.Column('last_error', sa.String(length=300), nullable=True),
          sa.Column('source_at', sa.DateTime(), nullable=False),
          sa.Column('created_at', sa.DateTime(), nullable=False),
          sa.Column('sent_at', sa.DateTime(), nullable=True),
          sa.ForeignKeyConstraint(['subscription_id'], ['alert_subscriptions.id'], ondelete='SET NULL'),
          sa.PrimaryKeyConstraint('id'),
          sa.UniqueConstraint('dedupe_key')
          )
    index('ix_alert_outbox_due', 'alert_outbox', ['status', 'next_attempt_at'])
    index('ix_alert_outbox_visit', 'alert_outbox', ['account', 'status'])
    table('auto_recharge',
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('enabled', sa.Boolean(), nullable=False),
          sa.Column('threshold', sa.BigInteger(), nullable=False),
          sa.Column('amount', sa.BigInteger(), nullable=False),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('account_id')
          )
    table('cards',
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('brand', sa.String(length=20), nullable=False),
          sa.Column('last4', sa.String(length=4), nullable=False),
          sa.Column('exp_month', sa.SmallInteger(), nullable=False),
          sa.Column('exp_year', sa.SmallInteger(), nullable=False),
          sa.CheckConstraint('exp_month BETWEEN 1 AND 12', name='card_exp_month'),
          sa.CheckConstraint('length(last4) = 4', name='card_last4_len'),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('account_id')
          )
    table('channel_links',
          sa.Column('channel', sa.String(length=20), nullable=False),
          sa.Column('user_id', sa.String(length=120), nullable=False),
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('linked_at', sa.DateTime(), nullable=False),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('channel', 'user_id')
          )
    index('ix_channel_links_account_id', 'channel_links', ['account_id'])
    table('extensions',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('number', sa.String(length=8), nullable=False),
          sa.Column('label', sa.String(length=80), nullable=False),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('id'),
          sa.UniqueConstraint('account_id', 'number')
          )
    table('recharge_failures',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('occurred_at', sa.DateTime(), nullable=False),
          sa.Column('amount', sa.BigInteger(), nullable=False),
          sa.Column('reason', sa.String(length=120), nullable=False),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('id')
          )
    index('ix_recharge_failures_account_time', 'recharge_failures', ['account_id', 'occurred_at'])
    table('staff_sessions',
          sa.Column('token_hash', sa.String(length=64), nullable=False),
          sa.Column('staff_id', sa.Integer(), nullable=False),
          sa.Column('csrf', sa.String(length=64), nullable=False),
          sa.Column('created_at', sa.DateTime(), nullable=False),
          sa.Column('expires_at', sa.DateTime(), nullable=False),
          sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('token_hash')
          )
    index('ix_staff_sessions_staff_id', 'staff_sessions', ['staff_id'])
    table('support_cases',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('conversation_id', sa.String(length=128), nullable=False),
          sa.Column('channel', sa.String(length=30), nullable=False),
          sa.Column('channel_user', sa.String(length=120), nullable=True),
          sa.Column('account', sa.String(length=20), nullable=True),
          sa.Column('reason', sa.String(length=20), nullable=False),
          sa.Column('description', sa.Text(), nullable=True),
          sa.Column('status', sa.Enum('waiting', 'with_agent', 'closed', name='case_status'), nullable=False),
          sa.Column('agent_id', sa.Integer(), nullable=True),
          sa.Column('opened_at', sa.DateTime(), nullable=False),
          sa.Column('taken_at', sa.DateTime(), nullable=True),
          sa.Column('closed_at', sa.DateTime(), nullable=True),
          sa.Column('updated_at', sa.DateTime(), nullable=False),
          sa.Column('desk_ref', sa.String(length=64), nullable=True),
          sa.ForeignKeyConstraint(['agent_id'], ['staff_users.id'], ),
          sa.PrimaryKeyConstraint('id')
          )
    index('ix_cases_conversation_status', 'support_cases', ['conversation_id', 'status'])
    index('ix_cases_status_opened', 'support_cases', ['status', 'opened_at'])
    index('ix_support_cases_desk_ref', 'support_cases', ['desk_ref'])
    table('case_messages',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('case_id', sa.Integer(), nullable=False),
          sa.Column('author', sa.Enum('customer', 'bot', 'agent', 'system', name='case_author'), nullable=False),
          sa.Column('agent_id', sa.Integer(), nullable=True),
          sa.Column('agent_name', sa.String(length=80), nullable=True),
          sa.Column('text', sa.Text(), nullable=False),
          sa.Column('at', sa.DateTime(), nullable=False),
          sa.Column('delivery', sa.Enum('pending', 'sent', 'stored', 'failed', name='case_delivery'), nullable=True),
          sa.Column('delivery_note', sa.String(length=200), nullable=True),
          sa.Column('attempts', sa.Integer(), nullable=False),
          sa.Column('delivered_at', sa.DateTime(), nullable=True),
          sa.Column('synced', sa.Boolean(), nullable=False),
          sa.ForeignKeyConstraint(['agent_id'], ['staff_users.id'], ),
          sa.ForeignKeyConstraint(['case_id'], ['support_cases.id'], ondelete='CASCADE'),
          sa.PrimaryKeyConstraint('id')
          )
    index('ix_case_messages_case_id', 'case_messages', ['case_id'])
    index('ix_case_messages_delivery', 'case_messages', ['delivery', 'case_id'])
    table('ledger_entries',
          sa.Column('id', sa.Integer(), nullable=False),
          sa.Column('account_id', sa.Integer(), nullable=False),
          sa.Column('occurred_at', sa.DateTime(), nullable=False),
          sa.Column('kind', sa.Enum('deposit', 'auto_recharge', 'call_charge', name='entry_kind'), nullable=False),
          sa.Column('amount', sa.BigInteger(), nullable=False),
          sa.Column('balance_after', sa.BigInteger(), nullable=False),
          sa.Column('extension_id', sa.Integer(), nullable=True),
          sa.Column('destination_country', sa.String(length=60), nullable=True),
          sa.Column('duration_seconds', sa.Integer(), nullable=True),
          sa.CheckConstraint("(kind = 'call_charge' AND amount < 0) OR (kind <> 'call_charge' AND amount > 0)", name='ledger_amount_sign'),
          sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
          sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], ),
          sa.PrimaryKeyConstraint('id')
          )
    index('ix_ledger_account_ext_time', 'ledger_entries', ['account_id', 'extension_id', 'occurred_at'])
    index('ix_ledger_account_time', 'ledger_entries', ['account_id', 'occurred_at', 'id'])


def downgrade() -> None:
    op.drop_table('ledger_entries')
    op.drop_table('case_messages')
    op.drop_table('support_cases')
    op.drop_table('staff_sessions')
    op.drop_table('recharge_failures')
    op.drop_table('extensions')
    op.drop_table('channel_links')
    op.drop_table('cards')
    op.drop_table('auto_recharge')
    op.drop_table('alert_outbox')
    op.drop_table('staff_users')
    op.drop_table('link_guards')
    op.drop_table('insight_turns')
    op.drop_table('insight_state')
    op.drop_table('insight_labels')
    op.drop_table('deliveries')
    op.drop_table('channel_states')
    op.drop_table('alert_subscriptions')
    op.drop_table('alert_state')
    op.drop_table('accounts')
    if op.get_bind().dialect.name == "postgresql":
        for name in ENUMS:
            op.execute(f"DROP TYPE IF EXISTS {name}")
