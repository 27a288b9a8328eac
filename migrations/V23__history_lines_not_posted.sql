-- A wallet's history can list, beside its posted transactions, its deposits, withdrawals and
-- holds that are not posted: pending, failed, voided or expired (docs/WALLET.md, "History"). A
-- wallet may have many that went through (a merchant's captured holds, a customer's confirmed
-- top-ups), which the history lists as posted transactions instead; these partial indexes hold
-- only the others, newest first, so that a page walks them and stops at its end however many went
-- through. Holds are indexed for the payer's wallet and the payee's.
--
-- A status change of a deposit now writes its row anew instead of in place (it was the only one
-- of the three tables whose status no index read); withdrawals and holds already had a partial
-- index on it. `IF NOT EXISTS`: on large tables, operators may build them beforehand with
-- `CREATE INDEX CONCURRENTLY` under these names (docs/OPERATIONS.md).
CREATE INDEX IF NOT EXISTS deposits_unposted_idx ON deposits (wallet_id, created_at DESC, id DESC)
    WHERE status <> 'succeeded';
CREATE INDEX IF NOT EXISTS withdrawals_unposted_idx ON withdrawals (wallet_id, created_at DESC, id DESC)
    WHERE status <> 'completed';
CREATE INDEX IF NOT EXISTS holds_payer_unposted_idx ON holds (payer_wallet_id, created_at DESC, id DESC)
    WHERE status <> 'captured';
CREATE INDEX IF NOT EXISTS holds_payee_unposted_idx ON holds (payee_wallet_id, created_at DESC, id DESC)
    WHERE status <> 'captured';
