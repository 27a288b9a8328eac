-- The ledger's functions keep one plan per connection instead of planning at every call.
--
-- V14's lookup of idempotency keys and V15's update of the wallets pin the shape of their plans
-- with planner settings, but PostgreSQL still chose, at every call, between that plan made for
-- the call's own arrays (a "custom" plan) and one made once for any arrays (a "generic" plan). A
-- generic plan assumes unnest() yields ten rows; made for two, the custom plan looked cheaper,
-- so it was chosen every time, and every call planned its statement again. On a machine where
-- pgbench's L_1 was 0.35 ms, `wallet-bench --statements` with one caller put these two
-- statements at 278-300 and 129-139 µs of PostgreSQL's time per transfer, for two wallets and
-- one key, and `perf` put 43% of the update function's time in planning (docs/PERFORMANCE.md,
-- "Planning at every call (seventeenth stop)"). Their pinned shapes are right for any number of
-- rows, so they are now planned once per connection.
--
-- A small batch (up to 16 operations, an idle caller's among them) locks its wallets through
-- the new function below, for the same reason: the statement `SELECT ... WHERE id = ANY($1)
-- ORDER BY id FOR UPDATE`, prepared, was planned again at every batch (40-60 µs). The function
-- reads the primary key in order (no bitmap scan, no sort) and keeps that plan. Large batches
-- keep the statement planned with their ids, whose plan does depend on how many there are.

ALTER FUNCTION ledger_update_wallets(text[], uuid[], bigint[], bigint[], bigint[], date[], bigint[])
    SET plan_cache_mode = force_generic_plan;

ALTER FUNCTION idempotency_records(uuid[], text[])
    SET plan_cache_mode = force_generic_plan;

CREATE FUNCTION ledger_lock_wallets(p_ids uuid[])
RETURNS TABLE (
    id uuid, currency text, posted bigint, pending bigint, may_go_negative boolean,
    frozen boolean, verification_level smallint, entry_count bigint, outgoing_day date,
    outgoing_minor bigint, owner_id uuid, address text, number bigint
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
BEGIN
    RETURN QUERY
    SELECT w.id, w.currency, w.posted, w.pending, w.may_go_negative, w.frozen,
           w.verification_level, w.entry_count, w.outgoing_day, w.outgoing_minor, w.owner_id,
           w.ctid::text, w.number
    FROM wallets w
    WHERE w.id = ANY (p_ids)
    ORDER BY w.id
    FOR UPDATE;
END;
$$;
