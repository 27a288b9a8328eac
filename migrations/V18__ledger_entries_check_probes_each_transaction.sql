-- The check that every entry names a transaction (V13) probes the primary key once per
-- transaction, whatever the statistics its plan was made with.
--
-- V13 wrote the check as `NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = ...)`,
-- with sequential scans and hash and merge joins off. PostgreSQL flattens that into an anti join,
-- and once `ledger_transactions` had been analysed while it held a row or two, the plan it cached
-- for the connection read the whole primary key once per statement, kept it in memory
-- (`Materialize`), and compared every one of the statement's transactions with every kept key:
-- a cost that grows with the ledger. `wallet-bench` after `ANALYZE ledger_transactions` on the
-- freshly funded ledger posted 1,262-1,402 transfers/s instead of about 14,000, with inserting
-- the entries at 545 µs of PostgreSQL's time per transfer instead of about 20
-- (docs/PERFORMANCE.md, "A plan made on a nearly empty ledger (seventeenth stop)"). Autovacuum
-- analyses a young ledger like that.
--
-- Here each distinct transaction is looked up through a LATERAL subquery that cannot be
-- flattened (`OFFSET 0`), so the only plan without a penalty is one probe of the primary key per
-- transaction, as V14 does for idempotency keys. The error is V13's: the key's name and SQLSTATE 23503.

CREATE OR REPLACE FUNCTION ledger_entries_transactions_exist() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_material = off
AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT e.transaction_id INTO missing
    FROM (SELECT DISTINCT transaction_id FROM new_entries) e
    LEFT JOIN LATERAL (
        SELECT t.id FROM ledger_transactions t WHERE t.id = e.transaction_id OFFSET 0
    ) found ON true
    WHERE found.id IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entries name transaction %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_transaction_fkey';
    END IF;
    RETURN NULL;
END;
$$;
