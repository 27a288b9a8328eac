-- The database refuses an unbalanced transaction.
--
-- Every transaction's entries are written by one statement (the ledger's batch insert,
-- contacto-core/src/wallet/store.rs), so when that statement ends each transaction it wrote must
-- have two or more entries summing to zero. One set-based check per statement, over the
-- statement's new rows, enforces it: for a batch of 1,024 entries it is one aggregate. In
-- alternating runs of the wallet benchmark it cost a few percent at most, within the machine's
-- noise (docs/PERFORMANCE.md, "The wallet through the library"). Reconciliation still checks the
-- whole ledger; this stops a bug from writing an unbalanced transaction in the first place.

CREATE FUNCTION ledger_entries_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offending uuid;
BEGIN
    SELECT transaction_id INTO offending FROM new_entries
    GROUP BY transaction_id HAVING sum(amount) <> 0 OR count(*) < 2
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the entries of transaction % do not balance: two or more, summing to zero',
            offending
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check();
