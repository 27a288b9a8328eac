-- Every entry names a transaction: checked once per statement instead of once per row.
--
-- The foreign key from ledger_entries to ledger_transactions ran, for every entry, a lookup of
-- its transaction that also locked the transaction's row (FOR KEY SHARE, written to the WAL):
-- measured with `wallet-bench --statements`, inserting a batch's entries cost 29.5 µs of
-- PostgreSQL's time per transfer with the key and 14.4 µs without it (docs/PERFORMANCE.md). What
-- the key guarded against is a missing transaction, and since transactions can be neither
-- deleted nor truncated (V2's triggers), a check when the entries are written is the whole
-- guarantee: a statement-level trigger, beside V9's balance check, looks each distinct
-- transaction of the statement's entries up, once, through the primary key. The error keeps the
-- key's name and SQLSTATE (23503), so callers and tests read it as before.
--
-- The function pins its plan to a nested loop over the primary key: plans are cached per
-- connection, and one costed while ledger_transactions was small (a new database, a benchmark's
-- first batch) could otherwise hash-join the whole table for every statement until the next
-- ANALYZE.

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_transaction_fkey;

CREATE FUNCTION ledger_entries_transactions_exist() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT e.transaction_id INTO missing
    FROM (SELECT DISTINCT transaction_id FROM new_entries) e
    WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = e.transaction_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entries name transaction %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_transaction_fkey';
    END IF;
    RETURN NULL;
END;
$$;

-- Statement triggers fire in name order: after `ledger_entries_balanced` (V9).
CREATE TRIGGER ledger_entries_transactions_exist AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_transactions_exist();
