-- A ledger batch locks its wallets no more strongly than its update of their balances needs.
--
-- A batch locks every wallet it touches before it validates anything, and then updates their
-- balance columns. It locked them `FOR UPDATE`, the mode for a row about to be deleted or to have
-- its key changed, which also makes every foreign-key check on the wallet wait: opening a deposit
-- on a wallet (`deposits.wallet_id REFERENCES wallets`) waited for any batch holding that wallet
-- to commit, however long the batch took. No batch changes a wallet's `id` or `number`, so
-- `FOR NO KEY UPDATE`, the mode an `UPDATE` of other columns takes anyway, is enough: batches
-- over the same wallet still wait for one another, and a foreign-key check (`FOR KEY SHARE`) no
-- longer waits for them. Large batches lock by a statement in core
-- (contacto-core/src/wallet/store.rs) that changes the same way.
--
-- Only the function's lock mode changes; its settings (V17) are given again, since CREATE OR
-- REPLACE replaces them too.

CREATE OR REPLACE FUNCTION ledger_lock_wallets(p_ids uuid[])
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
    FOR NO KEY UPDATE;
END;
$$;
