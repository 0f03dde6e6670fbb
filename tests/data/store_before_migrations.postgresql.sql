-- The account store's schema on PostgreSQL as the last release before migrations made it
-- (create_all; pg_dump --schema-only, unqualified): tests/test_migrations.py. Never regenerate.
CREATE TYPE alert_status AS ENUM (
    'pending',
    'sending',
    'sent',
    'waiting_visit',
    'failed',
    'cancelled'
);
CREATE TYPE case_author AS ENUM (
    'customer',
    'bot',
    'agent',
    'system'
);
CREATE TYPE case_delivery AS ENUM (
    'pending',
    'sent',
    'stored',
    'failed'
);
CREATE TYPE case_status AS ENUM (
    'waiting',
    'with_agent',
    'closed'
);
CREATE TYPE entry_kind AS ENUM (
    'deposit',
    'auto_recharge',
    'call_charge'
);
CREATE TABLE accounts (
    id integer NOT NULL,
    number character varying(20) NOT NULL,
    company character varying(120) NOT NULL,
    timezone character varying(64) NOT NULL,
    balance bigint NOT NULL,
    pin_hash character varying(200)
);
CREATE SEQUENCE accounts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE accounts_id_seq OWNED BY accounts.id;
CREATE TABLE alert_outbox (
    id integer NOT NULL,
    subscription_id integer,
    account character varying(20) NOT NULL,
    kind character varying(20) NOT NULL,
    channel character varying(30) NOT NULL,
    channel_user character varying(120) NOT NULL,
    variables text NOT NULL,
    dedupe_key character varying(120) NOT NULL,
    status alert_status NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone NOT NULL,
    claim_token character varying(40),
    lease_until timestamp without time zone,
    last_error character varying(300),
    source_at timestamp without time zone NOT NULL,
    created_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone
);
CREATE SEQUENCE alert_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE alert_outbox_id_seq OWNED BY alert_outbox.id;
CREATE TABLE alert_state (
    key character varying(40) NOT NULL,
    value text NOT NULL
);
CREATE TABLE alert_subscriptions (
    id integer NOT NULL,
    account character varying(20) NOT NULL,
    channel character varying(30) NOT NULL,
    channel_user character varying(120) NOT NULL,
    threshold bigint NOT NULL,
    armed boolean NOT NULL,
    after_entry_id integer NOT NULL,
    after_failure_id integer NOT NULL,
    created_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE alert_subscriptions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE alert_subscriptions_id_seq OWNED BY alert_subscriptions.id;
CREATE TABLE auto_recharge (
    account_id integer NOT NULL,
    enabled boolean NOT NULL,
    threshold bigint NOT NULL,
    amount bigint NOT NULL
);
CREATE TABLE cards (
    account_id integer NOT NULL,
    brand character varying(20) NOT NULL,
    last4 character varying(4) NOT NULL,
    exp_month smallint NOT NULL,
    exp_year smallint NOT NULL,
    CONSTRAINT card_exp_month CHECK (((exp_month >= 1) AND (exp_month <= 12))),
    CONSTRAINT card_last4_len CHECK ((length((last4)::text) = 4))
);
CREATE TABLE case_messages (
    id integer NOT NULL,
    case_id integer NOT NULL,
    author case_author NOT NULL,
    agent_id integer,
    agent_name character varying(80),
    text text NOT NULL,
    at timestamp without time zone NOT NULL,
    delivery case_delivery,
    delivery_note character varying(200),
    attempts integer NOT NULL,
    delivered_at timestamp without time zone,
    synced boolean NOT NULL
);
CREATE SEQUENCE case_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE case_messages_id_seq OWNED BY case_messages.id;
CREATE TABLE channel_links (
    channel character varying(20) NOT NULL,
    user_id character varying(120) NOT NULL,
    account_id integer NOT NULL,
    linked_at timestamp without time zone NOT NULL
);
CREATE TABLE channel_states (
    channel character varying(20) NOT NULL,
    user_id character varying(120) NOT NULL,
    link_step character varying(10),
    pending_account character varying(20),
    failures integer NOT NULL,
    locked_until timestamp without time zone,
    options text,
    updated_at timestamp without time zone NOT NULL
);
CREATE TABLE deliveries (
    channel character varying(20) NOT NULL,
    message_id character varying(128) NOT NULL,
    received_at timestamp without time zone NOT NULL
);
CREATE TABLE extensions (
    id integer NOT NULL,
    account_id integer NOT NULL,
    number character varying(8) NOT NULL,
    label character varying(80) NOT NULL
);
CREATE SEQUENCE extensions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE extensions_id_seq OWNED BY extensions.id;
CREATE TABLE insight_labels (
    text character varying(500) NOT NULL,
    label character varying(60) NOT NULL,
    labelled_by character varying(80) NOT NULL,
    labelled_at timestamp without time zone NOT NULL
);
CREATE TABLE insight_state (
    key character varying(40) NOT NULL,
    value text NOT NULL
);
CREATE TABLE insight_turns (
    event_id integer NOT NULL,
    sender_id character varying(255) NOT NULL,
    at timestamp without time zone NOT NULL,
    day date NOT NULL,
    channel character varying(30) NOT NULL,
    intent character varying(60),
    confidence double precision,
    guess_1 character varying(60),
    confidence_1 double precision,
    guess_2 character varying(60),
    confidence_2 double precision,
    fallback boolean NOT NULL,
    clarified boolean NOT NULL,
    second_miss boolean NOT NULL,
    picked boolean NOT NULL,
    handoff_reason character varying(20),
    lookup character varying(40),
    response_ms integer,
    text text
);
CREATE TABLE ledger_entries (
    id integer NOT NULL,
    account_id integer NOT NULL,
    occurred_at timestamp without time zone NOT NULL,
    kind entry_kind NOT NULL,
    amount bigint NOT NULL,
    balance_after bigint NOT NULL,
    extension_id integer,
    destination_country character varying(60),
    duration_seconds integer,
    CONSTRAINT ledger_amount_sign CHECK ((((kind = 'call_charge'::entry_kind) AND (amount < 0)) OR ((kind <> 'call_charge'::entry_kind) AND (amount > 0))))
);
CREATE SEQUENCE ledger_entries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE ledger_entries_id_seq OWNED BY ledger_entries.id;
CREATE TABLE link_guards (
    key character varying(160) NOT NULL,
    failures integer NOT NULL,
    locked_until timestamp without time zone,
    updated_at timestamp without time zone NOT NULL
);
CREATE TABLE recharge_failures (
    id integer NOT NULL,
    account_id integer NOT NULL,
    occurred_at timestamp without time zone NOT NULL,
    amount bigint NOT NULL,
    reason character varying(120) NOT NULL
);
CREATE SEQUENCE recharge_failures_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE recharge_failures_id_seq OWNED BY recharge_failures.id;
CREATE TABLE staff_sessions (
    token_hash character varying(64) NOT NULL,
    staff_id integer NOT NULL,
    csrf character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    expires_at timestamp without time zone NOT NULL
);
CREATE TABLE staff_users (
    id integer NOT NULL,
    username character varying(60) NOT NULL,
    display_name character varying(80) NOT NULL,
    password_hash character varying(200) NOT NULL,
    active boolean NOT NULL,
    failed_logins integer NOT NULL,
    locked_until timestamp without time zone,
    created_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE staff_users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE staff_users_id_seq OWNED BY staff_users.id;
CREATE TABLE support_cases (
    id integer NOT NULL,
    conversation_id character varying(128) NOT NULL,
    channel character varying(30) NOT NULL,
    channel_user character varying(120),
    account character varying(20),
    reason character varying(20) NOT NULL,
    description text,
    status case_status NOT NULL,
    agent_id integer,
    opened_at timestamp without time zone NOT NULL,
    taken_at timestamp without time zone,
    closed_at timestamp without time zone,
    updated_at timestamp without time zone NOT NULL,
    desk_ref character varying(64)
);
CREATE SEQUENCE support_cases_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE support_cases_id_seq OWNED BY support_cases.id;
ALTER TABLE ONLY accounts ALTER COLUMN id SET DEFAULT nextval('accounts_id_seq'::regclass);
ALTER TABLE ONLY alert_outbox ALTER COLUMN id SET DEFAULT nextval('alert_outbox_id_seq'::regclass);
ALTER TABLE ONLY alert_subscriptions ALTER COLUMN id SET DEFAULT nextval('alert_subscriptions_id_seq'::regclass);
ALTER TABLE ONLY case_messages ALTER COLUMN id SET DEFAULT nextval('case_messages_id_seq'::regclass);
ALTER TABLE ONLY extensions ALTER COLUMN id SET DEFAULT nextval('extensions_id_seq'::regclass);
ALTER TABLE ONLY ledger_entries ALTER COLUMN id SET DEFAULT nextval('ledger_entries_id_seq'::regclass);
ALTER TABLE ONLY recharge_failures ALTER COLUMN id SET DEFAULT nextval('recharge_failures_id_seq'::regclass);
ALTER TABLE ONLY staff_users ALTER COLUMN id SET DEFAULT nextval('staff_users_id_seq'::regclass);
ALTER TABLE ONLY support_cases ALTER COLUMN id SET DEFAULT nextval('support_cases_id_seq'::regclass);
ALTER TABLE ONLY accounts
    ADD CONSTRAINT accounts_number_key UNIQUE (number);
ALTER TABLE ONLY accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);
ALTER TABLE ONLY alert_outbox
    ADD CONSTRAINT alert_outbox_dedupe_key_key UNIQUE (dedupe_key);
ALTER TABLE ONLY alert_outbox
    ADD CONSTRAINT alert_outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY alert_state
    ADD CONSTRAINT alert_state_pkey PRIMARY KEY (key);
ALTER TABLE ONLY alert_subscriptions
    ADD CONSTRAINT alert_subscriptions_account_channel_channel_user_key UNIQUE (account, channel, channel_user);
ALTER TABLE ONLY alert_subscriptions
    ADD CONSTRAINT alert_subscriptions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY auto_recharge
    ADD CONSTRAINT auto_recharge_pkey PRIMARY KEY (account_id);
ALTER TABLE ONLY cards
    ADD CONSTRAINT cards_pkey PRIMARY KEY (account_id);
ALTER TABLE ONLY case_messages
    ADD CONSTRAINT case_messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY channel_links
    ADD CONSTRAINT channel_links_pkey PRIMARY KEY (channel, user_id);
ALTER TABLE ONLY channel_states
    ADD CONSTRAINT channel_states_pkey PRIMARY KEY (channel, user_id);
ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (channel, message_id);
ALTER TABLE ONLY extensions
    ADD CONSTRAINT extensions_account_id_number_key UNIQUE (account_id, number);
ALTER TABLE ONLY extensions
    ADD CONSTRAINT extensions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY insight_labels
    ADD CONSTRAINT insight_labels_pkey PRIMARY KEY (text);
ALTER TABLE ONLY insight_state
    ADD CONSTRAINT insight_state_pkey PRIMARY KEY (key);
ALTER TABLE ONLY insight_turns
    ADD CONSTRAINT insight_turns_pkey PRIMARY KEY (event_id);
ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id);
ALTER TABLE ONLY link_guards
    ADD CONSTRAINT link_guards_pkey PRIMARY KEY (key);
ALTER TABLE ONLY recharge_failures
    ADD CONSTRAINT recharge_failures_pkey PRIMARY KEY (id);
ALTER TABLE ONLY staff_sessions
    ADD CONSTRAINT staff_sessions_pkey PRIMARY KEY (token_hash);
ALTER TABLE ONLY staff_users
    ADD CONSTRAINT staff_users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY staff_users
    ADD CONSTRAINT staff_users_username_key UNIQUE (username);
ALTER TABLE ONLY support_cases
    ADD CONSTRAINT support_cases_pkey PRIMARY KEY (id);
CREATE INDEX ix_alert_outbox_due ON alert_outbox USING btree (status, next_attempt_at);
CREATE INDEX ix_alert_outbox_visit ON alert_outbox USING btree (account, status);
CREATE INDEX ix_alert_subscriptions_account ON alert_subscriptions USING btree (account);
CREATE INDEX ix_case_messages_case_id ON case_messages USING btree (case_id);
CREATE INDEX ix_case_messages_delivery ON case_messages USING btree (delivery, case_id);
CREATE INDEX ix_cases_conversation_status ON support_cases USING btree (conversation_id, status);
CREATE INDEX ix_cases_status_opened ON support_cases USING btree (status, opened_at);
CREATE INDEX ix_channel_links_account_id ON channel_links USING btree (account_id);
CREATE INDEX ix_deliveries_received_at ON deliveries USING btree (received_at);
CREATE INDEX ix_insight_turns_day_channel ON insight_turns USING btree (day, channel);
CREATE INDEX ix_insight_turns_sender ON insight_turns USING btree (sender_id, event_id);
CREATE INDEX ix_ledger_account_ext_time ON ledger_entries USING btree (account_id, extension_id, occurred_at);
CREATE INDEX ix_ledger_account_time ON ledger_entries USING btree (account_id, occurred_at, id);
CREATE INDEX ix_recharge_failures_account_time ON recharge_failures USING btree (account_id, occurred_at);
CREATE INDEX ix_staff_sessions_staff_id ON staff_sessions USING btree (staff_id);
CREATE INDEX ix_support_cases_desk_ref ON support_cases USING btree (desk_ref);
ALTER TABLE ONLY alert_outbox
    ADD CONSTRAINT alert_outbox_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES alert_subscriptions(id) ON DELETE SET NULL;
ALTER TABLE ONLY auto_recharge
    ADD CONSTRAINT auto_recharge_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY cards
    ADD CONSTRAINT cards_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY case_messages
    ADD CONSTRAINT case_messages_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES staff_users(id);
ALTER TABLE ONLY case_messages
    ADD CONSTRAINT case_messages_case_id_fkey FOREIGN KEY (case_id) REFERENCES support_cases(id) ON DELETE CASCADE;
ALTER TABLE ONLY channel_links
    ADD CONSTRAINT channel_links_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY extensions
    ADD CONSTRAINT extensions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_extension_id_fkey FOREIGN KEY (extension_id) REFERENCES extensions(id);
ALTER TABLE ONLY recharge_failures
    ADD CONSTRAINT recharge_failures_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY staff_sessions
    ADD CONSTRAINT staff_sessions_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES staff_users(id) ON DELETE CASCADE;
ALTER TABLE ONLY support_cases
    ADD CONSTRAINT support_cases_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES staff_users(id);
