-- A batch writes its wallets' new states where its lock found them.
--
-- A batch locks every wallet it touches (`SELECT ... FOR UPDATE`) before it validates anything,
-- and then wrote the changed ones back with `UPDATE wallets ... WHERE w.id = v.id`: a second
-- descent of the primary key for every wallet, about 15 µs of PostgreSQL's time per transfer under
-- load (`wallet-bench --statements`). The lock now also returns each row's `ctid`, and this
-- function updates the rows at those addresses (a TID scan: no index read).
--
-- The address stays right while the batch runs: the batch holds the rows' locks, so no other
-- transaction updates them, and this update is the only change the batch makes to a wallet row.
-- The function checks it anyway: a row not found at its address (or found holding another
-- wallet) would otherwise be a balance silently left unwritten, so any count short of the
-- number of wallets raises, and the batch, which sends this before its `COMMIT`, is rolled back.
--
-- The plan is pinned to the TID scan: with sequential, index and bitmap scans and hash and merge
-- joins off, a nested loop probing each address is the only plan left without a penalty, so the
-- plan PL/pgSQL caches for the connection (until the table's statistics change) is that one,
-- whatever the batch's size or the table's size when it was made.

CREATE FUNCTION ledger_update_wallets(
    p_rows text[], p_ids uuid[], p_posted bigint[], p_pending bigint[], p_entry_counts bigint[],
    p_outgoing_days date[], p_outgoing bigint[]
) RETURNS void
LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
SET enable_indexscan = off
SET enable_indexonlyscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    written bigint;
BEGIN
    UPDATE wallets w
    SET posted = v.posted, pending = v.pending, entry_count = v.entry_count,
        outgoing_day = v.outgoing_day, outgoing_minor = v.outgoing_minor
    FROM unnest(p_rows::tid[], p_ids, p_posted, p_pending, p_entry_counts, p_outgoing_days,
                p_outgoing)
        AS v(row_address, id, posted, pending, entry_count, outgoing_day, outgoing_minor)
    WHERE w.ctid = v.row_address AND w.id = v.id;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written IS DISTINCT FROM cardinality(p_ids) THEN
        RAISE EXCEPTION 'updated % of % wallets at the addresses their lock returned',
            written, cardinality(p_ids)
            USING ERRCODE = 'internal_error';
    END IF;
END;
$$;
