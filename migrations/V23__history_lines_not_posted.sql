-- A wallet's history can list, beside its posted transactions, its deposits, withdrawals and
-- holds that are not posted: pending, failed, voided or expired (docs/WALLET.md, "History"). Each
-- partial index below holds one table's rows of one line status, by wallet, newest first, so that
-- a page of a status walks only that status's rows and stops at its end, however many rows of the
-- wallet are in other statuses (a merchant's thousands of captured or expired holds, a customer's
-- confirmed top-ups). A row is in at most one of them at a time. Holds are indexed for the payer's
-- wallet and the payee's.
--
-- A status change of a deposit now writes its row anew instead of in place (it was the only one
-- of the three tables whose status no index read); withdrawals and holds already had a partial
-- index on it. `IF NOT EXISTS`: on large tables, operators may build them beforehand with
-- `CREATE INDEX CONCURRENTLY` under these names (docs/OPERATIONS.md).
CREATE INDEX IF NOT EXISTS deposits_wallet_pending_idx
    ON deposits (wallet_id, created_at DESC, id DESC) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deposits_wallet_failed_idx
    ON deposits (wallet_id, created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX IF NOT EXISTS withdrawals_wallet_pending_idx
    ON withdrawals (wallet_id, created_at DESC, id DESC) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS withdrawals_wallet_failed_idx
    ON withdrawals (wallet_id, created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX IF NOT EXISTS holds_payer_authorized_idx
    ON holds (payer_wallet_id, created_at DESC, id DESC) WHERE status = 'authorized';
CREATE INDEX IF NOT EXISTS holds_payer_voided_idx
    ON holds (payer_wallet_id, created_at DESC, id DESC) WHERE status IN ('voided', 'expired');
CREATE INDEX IF NOT EXISTS holds_payee_authorized_idx
    ON holds (payee_wallet_id, created_at DESC, id DESC) WHERE status = 'authorized';
CREATE INDEX IF NOT EXISTS holds_payee_voided_idx
    ON holds (payee_wallet_id, created_at DESC, id DESC) WHERE status IN ('voided', 'expired');
