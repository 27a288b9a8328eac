-- Merchant payments with fees, and their refunds.

-- A merchant's fee in basis points; merchants without a row pay the configured default.
CREATE TABLE merchant_fees (
    merchant_id uuid        NOT NULL,
    fee_bps     integer     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT merchant_fees_pkey PRIMARY KEY (merchant_id),
    CONSTRAINT merchant_fees_merchant_fkey FOREIGN KEY (merchant_id) REFERENCES users (id),
    CONSTRAINT merchant_fees_bps_range CHECK (fee_bps BETWEEN 0 AND 10000)
);

CREATE TABLE payments (
    -- The payment's ledger transaction.
    id                 uuid        NOT NULL,
    payer_wallet_id    uuid        NOT NULL,
    merchant_wallet_id uuid        NOT NULL,
    currency           text        NOT NULL,
    amount             bigint      NOT NULL,
    fee                bigint      NOT NULL,
    refunded           bigint      NOT NULL DEFAULT 0,
    fee_refunded       bigint      NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_pkey PRIMARY KEY (id),
    -- Deferred: a batch records the payment before it writes the transaction, in one commit.
    CONSTRAINT payments_transaction_fkey FOREIGN KEY (id) REFERENCES ledger_transactions (id)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT payments_payer_fkey FOREIGN KEY (payer_wallet_id) REFERENCES wallets (id),
    CONSTRAINT payments_merchant_fkey FOREIGN KEY (merchant_wallet_id) REFERENCES wallets (id),
    CONSTRAINT payments_amount_positive CHECK (amount > 0),
    CONSTRAINT payments_fee_range CHECK (fee BETWEEN 0 AND amount),
    -- Never more refunded than was paid, and never more fee given back than was taken.
    CONSTRAINT payments_refunded_range CHECK (refunded BETWEEN 0 AND amount),
    CONSTRAINT payments_fee_refunded_range CHECK (fee_refunded BETWEEN 0 AND fee)
);

CREATE INDEX payments_merchant_idx ON payments (merchant_wallet_id, created_at DESC);

CREATE TABLE payment_refunds (
    -- The refund's ledger transaction.
    id         uuid        NOT NULL,
    payment_id uuid        NOT NULL,
    amount     bigint      NOT NULL,
    fee_refund bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_refunds_pkey PRIMARY KEY (id),
    CONSTRAINT payment_refunds_payment_fkey FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT payment_refunds_transaction_fkey FOREIGN KEY (id) REFERENCES ledger_transactions (id)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT payment_refunds_amount_positive CHECK (amount > 0),
    CONSTRAINT payment_refunds_fee_refund_range CHECK (fee_refund BETWEEN 0 AND amount)
);

CREATE INDEX payment_refunds_payment_idx ON payment_refunds (payment_id);
