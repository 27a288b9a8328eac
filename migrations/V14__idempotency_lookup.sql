-- A batch's lookup of its idempotency keys, in a function whose plan is pinned to the primary key.
--
-- Batches of up to 16 operations (an idle caller's among them) look their keys up in the same
-- round trip as their wallets' locks. Sent as a prepared statement, the lookup settled on a
-- generic plan costed with the table's size at the time, and on a young table that plan
-- hash-joined every key: 5,262 buffers per lookup of a few keys, on average, while the table grew
-- to 169,000 keys (`wallet-bench --statements`). Planned with its keys every time instead, it
-- probed the primary key but paid 90 to 170 µs of planning per batch, a tenth of an idle
-- transfer.
--
-- In this function each key is probed on its own, through a LATERAL subquery that cannot be
-- flattened into a join, with sequential scans, bitmap scans, hash and merge joins off: the plan
-- PL/pgSQL caches for the connection (until the table's statistics change) is one descent of the
-- primary key per key, whatever the table's size when it was made. (A flattened join, even with
-- those settings, was planned on a table analysed while nearly empty as a walk of the whole
-- primary key: 170,048 buffers for 2 keys once the table held 169,000.) The statement that calls
-- it is prepared once, and the lookup costs its index probes (about 4.5 buffers per key) and the
-- call.

CREATE FUNCTION idempotency_records(p_callers uuid[], p_keys text[])
RETURNS TABLE (caller_id uuid, idempotency_key text, request_hash bytea, outcome bytea)
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
    RETURN QUERY
    SELECT r.caller_id, r.key, r.request_hash, r.outcome
    FROM unnest(p_callers, p_keys) AS k(caller, name)
    CROSS JOIN LATERAL (
        SELECT i.caller_id, i.key, i.request_hash, i.outcome
        FROM idempotency_keys i
        WHERE i.caller_id = k.caller AND i.key = k.name
        LIMIT 1
    ) r;
END;
$$;
