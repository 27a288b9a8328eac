-- Withdrawals to Algerian bank accounts: the funds are held (the wallet's pending balance) at
-- once, then completed (moved to payouts in transit) or failed (released).
CREATE TABLE withdrawals (
    id             uuid        NOT NULL,
    wallet_id      uuid        NOT NULL,
    amount         bigint      NOT NULL,
    currency       text        NOT NULL,
    -- The 20-digit RIB, validated (bank, branch, account, MOD 97 key) before it is stored.
    rib            text        NOT NULL,
    status         text        NOT NULL DEFAULT 'pending',
    transaction_id uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT withdrawals_pkey PRIMARY KEY (id),
    CONSTRAINT withdrawals_wallet_fkey FOREIGN KEY (wallet_id) REFERENCES wallets (id),
    CONSTRAINT withdrawals_transaction_fkey FOREIGN KEY (transaction_id)
        REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT withdrawals_amount_positive CHECK (amount > 0),
    CONSTRAINT withdrawals_rib_format CHECK (rib ~ '^[0-9]{20}$'),
    CONSTRAINT withdrawals_status_known CHECK (status IN ('pending', 'completed', 'failed')),
    CONSTRAINT withdrawals_completed_has_transaction CHECK ((status = 'completed') = (transaction_id IS NOT NULL))
);

CREATE INDEX withdrawals_wallet_idx ON withdrawals (wallet_id, created_at DESC);
CREATE INDEX withdrawals_pending_idx ON withdrawals (created_at) WHERE status = 'pending';
