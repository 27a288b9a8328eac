-- Two-phase holds: authorise an amount (held on the payer's wallet), then capture all or part of
-- it to the payee, void it, or let it expire.
CREATE TABLE holds (
    id              uuid        NOT NULL,
    payer_wallet_id uuid        NOT NULL,
    payee_wallet_id uuid        NOT NULL,
    amount          bigint      NOT NULL,
    captured        bigint      NOT NULL DEFAULT 0,
    currency        text        NOT NULL,
    status          text        NOT NULL DEFAULT 'authorized',
    expires_at      timestamptz NOT NULL,
    transaction_id  uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT holds_pkey PRIMARY KEY (id),
    CONSTRAINT holds_payer_fkey FOREIGN KEY (payer_wallet_id) REFERENCES wallets (id),
    CONSTRAINT holds_payee_fkey FOREIGN KEY (payee_wallet_id) REFERENCES wallets (id),
    CONSTRAINT holds_transaction_fkey FOREIGN KEY (transaction_id)
        REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT holds_amount_positive CHECK (amount > 0),
    CONSTRAINT holds_captured_range CHECK (captured BETWEEN 0 AND amount),
    CONSTRAINT holds_status_known CHECK (status IN ('authorized', 'captured', 'voided', 'expired')),
    CONSTRAINT holds_captured_has_transaction CHECK ((status = 'captured') = (transaction_id IS NOT NULL))
);

-- The expiry sweep reads only live holds, oldest deadline first.
CREATE INDEX holds_expiry_idx ON holds (expires_at) WHERE status = 'authorized';
