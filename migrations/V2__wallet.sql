-- Wallet: a double-entry ledger. Balances live on wallets and change only together with
-- immutable entries written in the same transaction (contacto-core/src/wallet/).

CREATE TABLE wallets (
    id                 uuid        NOT NULL,
    -- NULL for the platform's system accounts.
    owner_id           uuid,
    kind               text        NOT NULL,
    -- For system accounts: what money flows through it.
    system_role        text,
    currency           text        NOT NULL,
    posted             bigint      NOT NULL DEFAULT 0,
    pending            bigint      NOT NULL DEFAULT 0,
    -- Only system accounts may go below zero (funding is negative by the money that came in).
    may_go_negative    boolean     NOT NULL DEFAULT false,
    frozen             boolean     NOT NULL DEFAULT false,
    verification_level smallint    NOT NULL DEFAULT 0,
    -- Entries written so far: the next entry's sequence number is entry_count + 1.
    entry_count        bigint      NOT NULL DEFAULT 0,
    -- Outgoing total of the current Africa/Algiers day, for daily limits.
    outgoing_day       date,
    outgoing_minor     bigint      NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallets_pkey PRIMARY KEY (id),
    CONSTRAINT wallets_owner_fkey FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT wallets_kind_known CHECK (kind IN ('personal', 'business', 'system')),
    CONSTRAINT wallets_owner_matches_kind CHECK ((kind = 'system') = (owner_id IS NULL)),
    CONSTRAINT wallets_system_role_known CHECK (
        (kind = 'system' AND system_role IN ('funding', 'fee_revenue', 'payouts_in_transit', 'suspense'))
        OR (kind <> 'system' AND system_role IS NULL)),
    CONSTRAINT wallets_currency_iso4217 CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT wallets_pending_nonnegative CHECK (pending >= 0),
    CONSTRAINT wallets_available_nonnegative CHECK (may_go_negative OR posted - pending >= 0),
    CONSTRAINT wallets_negative_only_system CHECK (NOT may_go_negative OR kind = 'system'),
    CONSTRAINT wallets_verification_level_range CHECK (verification_level BETWEEN 0 AND 2),
    CONSTRAINT wallets_outgoing_nonnegative CHECK (outgoing_minor >= 0)
);

-- Every posting rewrites its wallets' balance columns, none of which is indexed: room left on each
-- page lets PostgreSQL keep the new row version on the same page (a HOT update) and skip the
-- index writes.
ALTER TABLE wallets SET (fillfactor = 80);

-- One wallet per owner and currency; one system account per role and currency.
CREATE UNIQUE INDEX wallets_owner_currency_key ON wallets (owner_id, currency) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX wallets_system_role_currency_key ON wallets (system_role, currency) WHERE kind = 'system';

CREATE TABLE ledger_transactions (
    -- UUIDv7: time-ordered, so the primary key and BRIN indexes stay append-only.
    id          uuid        NOT NULL,
    kind        text        NOT NULL,
    currency    text        NOT NULL,
    amount      bigint      NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_transactions_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_transactions_kind_known CHECK (kind IN (
        'transfer', 'payment', 'refund', 'deposit', 'withdrawal', 'withdrawal_completion',
        'withdrawal_release', 'hold_capture', 'adjustment')),
    CONSTRAINT ledger_transactions_amount_positive CHECK (amount > 0),
    CONSTRAINT ledger_transactions_description_length CHECK (char_length(description) <= 500)
);

CREATE TABLE ledger_entries (
    wallet_id      uuid   NOT NULL,
    -- The wallet's n-th entry: history pages and balance-at-time reads walk this key.
    seq            bigint NOT NULL,
    transaction_id uuid   NOT NULL,
    amount         bigint NOT NULL,
    -- The wallet's posted balance right after this entry.
    balance_after  bigint NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (wallet_id, seq),
    CONSTRAINT ledger_entries_transaction_fkey FOREIGN KEY (transaction_id)
        REFERENCES ledger_transactions (id),
    CONSTRAINT ledger_entries_amount_nonzero CHECK (amount <> 0)
);

-- Entries are written in transaction-id order, so a BRIN index finds a transaction's entries for
-- a few bytes per thousand rows instead of a B-tree entry per row.
CREATE INDEX ledger_entries_transaction_brin ON ledger_entries USING brin (transaction_id);

-- Entries and transactions are immutable: a correction is a new, reversing transaction.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: post a reversing transaction instead'
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'ledger_immutable';
END;
$$;

CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Money-moving requests are exactly-once: the key, a hash of the request and the outcome are
-- stored in the same transaction as the posting.
CREATE TABLE idempotency_keys (
    caller_id    uuid        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    -- The outcome as the JSON bytes first sent: replays are answered from it, byte for byte.
    outcome      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (caller_id, key),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The system accounts of the first currency.
INSERT INTO wallets (id, kind, system_role, currency, may_go_negative) VALUES
    ('00000000-0000-7000-8000-000000000001', 'system', 'funding', 'DZD', true),
    ('00000000-0000-7000-8000-000000000002', 'system', 'fee_revenue', 'DZD', false),
    ('00000000-0000-7000-8000-000000000003', 'system', 'payouts_in_transit', 'DZD', false),
    ('00000000-0000-7000-8000-000000000004', 'system', 'suspense', 'DZD', true);

-- Top-ups: pending until the payment provider confirms them through the signed webhook.
CREATE TABLE deposits (
    id                 uuid        NOT NULL,
    wallet_id          uuid        NOT NULL,
    owner_id           uuid        NOT NULL,
    amount             bigint      NOT NULL,
    currency           text        NOT NULL,
    method             text        NOT NULL,
    reference          text,
    status             text        NOT NULL DEFAULT 'pending',
    provider_reference text,
    transaction_id     uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deposits_pkey PRIMARY KEY (id),
    CONSTRAINT deposits_wallet_fkey FOREIGN KEY (wallet_id) REFERENCES wallets (id),
    CONSTRAINT deposits_owner_fkey FOREIGN KEY (owner_id) REFERENCES users (id),
    -- Deferred: the batch settles the deposit before it writes the transaction, in one commit.
    CONSTRAINT deposits_transaction_fkey FOREIGN KEY (transaction_id) REFERENCES ledger_transactions (id)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT deposits_amount_positive CHECK (amount > 0),
    CONSTRAINT deposits_method_known CHECK (method IN ('cib', 'edahabia', 'baridimob', 'bank_transfer')),
    CONSTRAINT deposits_status_known CHECK (status IN ('pending', 'succeeded', 'failed')),
    CONSTRAINT deposits_succeeded_has_transaction CHECK ((status = 'succeeded') = (transaction_id IS NOT NULL)),
    CONSTRAINT deposits_reference_length CHECK (char_length(reference) <= 100),
    CONSTRAINT deposits_provider_reference_length CHECK (char_length(provider_reference) <= 200)
);

CREATE INDEX deposits_wallet_idx ON deposits (wallet_id, created_at DESC);
