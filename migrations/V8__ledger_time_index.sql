-- Reads by time (a wallet's balance at a past moment, history within a date range) find their
-- place in a wallet's entries by binary search on `seq`, instead of walking back from the newest
-- entry: O(log n) index probes, ~20 for a wallet with a million entries.
--
-- It relies on posting times never going backwards within a wallet. The ledger takes a batch's
-- time after it holds the locks of every wallet in the batch (contacto-core/src/wallet/batcher.rs),
-- so a later entry of a wallet always has a time at or after an earlier one's, whichever instance
-- posted them. (Before this migration a batch used its transaction's start time; entries posted
-- concurrently by two instances could be out of order by the time one waited for the other's lock,
-- a few milliseconds, which can place a time-range boundary that many milliseconds off.)
--
-- The alternatives were measured at 10 million entries (docs/PERFORMANCE.md, "Ledger growth"):
-- monthly partitions and a `posted_at` column with its own index are as fast for these reads, but
-- cost 18 and 58 bytes more per entry, and partitions make a typical wallet's first page twice as
-- slow. The search costs nothing per entry.

-- The largest `seq` of `p_wallet` whose transaction is older than `p_at`; 0 when there is none.
CREATE FUNCTION ledger_seq_before(p_wallet uuid, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lo bigint := 0;  -- the answer is at least lo (0: no entry)
    hi bigint;       -- and at most hi
    mid bigint;
    mid_at timestamptz;
BEGIN
    SELECT max(seq) INTO hi FROM ledger_entries WHERE wallet_id = p_wallet;
    IF hi IS NULL THEN
        RETURN 0;
    END IF;
    WHILE lo < hi LOOP
        mid := lo + (hi - lo + 1) / 2;
        SELECT t.created_at INTO mid_at
        FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE e.wallet_id = p_wallet AND e.seq = mid;
        IF mid_at < p_at THEN
            lo := mid;
        ELSE
            hi := mid - 1;
        END IF;
    END LOOP;
    RETURN lo;
END;
$$;
