-- A wallet's rules over its fixed columns are checked when those columns are written, not at
-- every posting.
--
-- PostgreSQL checks every CHECK constraint of a table on every row an UPDATE writes, whichever
-- columns the UPDATE sets, and for every statement it reads each constraint's stored expression
-- and prepares it again. Six of the wallets' nine constraints are about columns set when a wallet
-- is opened (kind, owner, system role, currency, may_go_negative) or changed only by an admin
-- (verification level). A ledger batch writes only the balance columns, yet its update of the
-- wallets paid for the six every time: on a scratch cluster, updating one wallet took 49-77 µs
-- with the nine constraints and 24-33 µs with the three over balance columns alone
-- (docs/PERFORMANCE.md, "Checks a posting does not need (eighteenth stop)").
--
-- The six are now one row trigger that fires on INSERT, and on an UPDATE only when the UPDATE
-- sets one of those six columns: the same rules, the same SQLSTATE (23514, check_violation) and
-- the same constraint names in the error. An AFTER trigger, not a BEFORE one: for an UPDATE that
-- sets none of its columns, a BEFORE trigger would still lock the old row version before looking
-- at the column list. The three constraints over the columns a posting writes (pending,
-- available, outgoing total) stay CHECK constraints.
--
-- What differs for a row that breaks a rule: the trigger runs once the row is written, so a row
-- that also breaks a NOT NULL, one of the three remaining constraints, the owner's foreign key or
-- a unique index gets that error instead (before, the nine constraints were checked first, in
-- name order; among the six the order is kept), and the error has no "Failing row contains"
-- detail. Core validates what it writes before it writes it, so none of its paths reaches
-- either case.
--
-- The trigger is enabled ALWAYS, so that sessions with `session_replication_role = replica` (as
-- logical replication and some bulk-load tools set) run it too. It does not run while disabled
-- (`ALTER TABLE ... DISABLE TRIGGER`, `pg_restore --disable-triggers`), nor on rows a restore
-- loads before it creates triggers; `wallets_broken_rule()` below finds the wallets breaking a
-- rule after such a load.
--
-- The wallets table is locked first, in the strongest mode the migration needs: creating the
-- trigger and then dropping the constraints would otherwise take two locks in turn, and a
-- ledger batch holding its wallets' row locks while waiting to update them could wait on the
-- migration while the migration waited on it.

LOCK TABLE wallets IN ACCESS EXCLUSIVE MODE;

-- The first of the six rules `w` breaks, by its constraint's name, or NULL. The trigger below
-- raises it; after a load that bypassed the trigger, `SELECT id, wallets_broken_rule(w) FROM
-- wallets w WHERE wallets_broken_rule(w) IS NOT NULL` finds the wallets to mend. In the
-- constraints' name order, the order PostgreSQL checked them in; a rule whose expression is NULL
-- passes, as it did as a CHECK constraint.
CREATE FUNCTION wallets_broken_rule(w wallets) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN NOT (w.currency ~ '^[A-Z]{3}$') THEN 'wallets_currency_iso4217'
        WHEN NOT (w.kind IN ('personal', 'business', 'system')) THEN 'wallets_kind_known'
        WHEN NOT (NOT w.may_go_negative OR w.kind = 'system')
            THEN 'wallets_negative_only_system'
        WHEN NOT ((w.kind = 'system') = (w.owner_id IS NULL))
            THEN 'wallets_owner_matches_kind'
        WHEN NOT ((w.kind = 'system'
                   AND w.system_role IN ('funding', 'fee_revenue', 'payouts_in_transit',
                                         'suspense'))
                  OR (w.kind <> 'system' AND w.system_role IS NULL))
            THEN 'wallets_system_role_known'
        WHEN NOT (w.verification_level BETWEEN 0 AND 2)
            THEN 'wallets_verification_level_range'
    END
$$;

CREATE FUNCTION wallets_check_fixed_columns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    broken text := wallets_broken_rule(NEW);
BEGIN
    IF broken IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"',
            TG_TABLE_NAME, broken
            USING ERRCODE = 'check_violation', CONSTRAINT = broken, TABLE = TG_TABLE_NAME,
                  SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER wallets_fixed_columns_valid
    AFTER INSERT OR UPDATE OF kind, owner_id, system_role, currency, may_go_negative,
                              verification_level
    ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallets_check_fixed_columns();

ALTER TABLE wallets ENABLE ALWAYS TRIGGER wallets_fixed_columns_valid;

ALTER TABLE wallets
    DROP CONSTRAINT wallets_currency_iso4217,
    DROP CONSTRAINT wallets_kind_known,
    DROP CONSTRAINT wallets_negative_only_system,
    DROP CONSTRAINT wallets_owner_matches_kind,
    DROP CONSTRAINT wallets_system_role_known,
    DROP CONSTRAINT wallets_verification_level_range;
