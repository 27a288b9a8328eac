-- Entries name their wallet by an 8-byte number instead of its 16-byte UUID, and transactions
-- carry their kind as a 4-byte enum instead of text.
--
-- The entries are the ledger's largest relation and their `(wallet, seq)` key its largest index.
-- Keyed by `(uuid, int8)`, each key tuple is 32 bytes and the key's leaves settle about 62% full
-- (a wallet's next entry goes to the end of its range, anywhere in the index); keyed by
-- `(int8, int8)`, a tuple is 24 bytes and the leaves settle about 71% full. Measured by replaying
-- the benchmark's insertion pattern (260,000 transfers between 100,000 wallets chosen Zipf(1.0))
-- into both layouts: 125 against 83 bytes of key per transfer, and 169 against 153 bytes of heap
-- (84- against 76-byte rows). docs/PERFORMANCE.md, "Entries name their wallet by number (V16)".
--
-- A transaction row held its kind as text (`transfer`: 9 bytes, then padding before the amount):
-- 76 bytes a row. As an enum it takes 4 bytes and the row 68 (measured on 100,000 rows of each).
--
-- The API and every other table keep naming wallets by id: the number never leaves the database
-- and core's ledger statements (contacto-core/src/wallet/store.rs), which read it with the wallet's
-- lock.
--
-- The entries are copied into a new table in transaction order (so the BRIN index on the
-- transaction id stays tight), the old table is dropped, and its constraints, indexes and triggers
-- are created again on the new one under the same names. The copy rewrites the whole ledger:
-- docs/OPERATIONS.md says what that costs an existing deployment.

-- The copy and the key's build take about 4 s per million entries: no statement time limit, whether
-- core's (`CONTACTO_DB_STATEMENT_TIMEOUT_MS`) or one set on the role, may cancel them (core
-- migrates in one transaction, so this lasts until it commits).
SET LOCAL statement_timeout = 0;

-- No posting may run during the copy: an entry committed after the copy's snapshot would be
-- dropped with the old table. Batches lock wallets first, then write transactions and entries;
-- these locks are taken in the same order, wait for the batches in flight, and hold every other
-- writer until the migration commits. That needs each statement's own snapshot (read committed):
-- under repeatable read, a snapshot taken by an earlier migration of the same run would miss
-- entries committed before the lock. And the old table must carry nothing that dropping it would
-- silently lose: grants, publication membership, row security policies, extended statistics
-- (none of which the migrations create; an operator who added some re-creates them after).
DO $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'V16 must run at read committed, not %',
            current_setting('transaction_isolation');
    END IF;
    IF (SELECT relacl FROM pg_class WHERE oid = 'ledger_entries'::regclass) IS NOT NULL
        OR EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = 'ledger_entries'::regclass)
        OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'ledger_entries'::regclass)
        OR EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxrelid = 'ledger_entries'::regclass)
    THEN
        RAISE EXCEPTION 'ledger_entries has grants, a publication, policies or extended statistics '
            'that V16 would drop with the table: remove them, migrate, then add them again '
            '(docs/OPERATIONS.md, "The entries'' wallet number (V16)")';
    END IF;
END;
$$;

LOCK TABLE wallets, ledger_transactions, ledger_entries IN ACCESS EXCLUSIVE MODE;

ALTER TABLE wallets ADD COLUMN number bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE wallets ADD CONSTRAINT wallets_number_key UNIQUE (number);

CREATE TABLE ledger_entries_v16 (
    wallet_number  bigint NOT NULL,
    seq            bigint NOT NULL,
    transaction_id uuid   NOT NULL,
    amount         bigint NOT NULL,
    balance_after  bigint NOT NULL
);

INSERT INTO ledger_entries_v16 (wallet_number, seq, transaction_id, amount, balance_after)
SELECT w.number, e.seq, e.transaction_id, e.amount, e.balance_after
FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
ORDER BY e.transaction_id, w.number;

-- Every entry found its wallet: the copy is complete or the migration fails.
DO $$
DECLARE
    copied bigint;
    original bigint;
BEGIN
    SELECT count(*) INTO copied FROM ledger_entries_v16;
    SELECT count(*) INTO original FROM ledger_entries;
    IF copied <> original THEN
        RAISE EXCEPTION 'copied % of % ledger entries: some name no wallet', copied, original;
    END IF;
END;
$$;

DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v16 RENAME TO ledger_entries;

ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (wallet_number, seq),
    ADD CONSTRAINT ledger_entries_amount_nonzero CHECK (amount <> 0);

COMMENT ON COLUMN ledger_entries.wallet_number IS 'wallets.number of the entry''s wallet';
COMMENT ON COLUMN ledger_entries.seq IS 'the wallet''s n-th entry: history pages and balance-at-time reads walk (wallet_number, seq)';
COMMENT ON COLUMN ledger_entries.balance_after IS 'the wallet''s posted balance right after this entry';

-- V2: a transaction's entries are found through a BRIN index on the time-ordered transaction id.
CREATE INDEX ledger_entries_transaction_brin ON ledger_entries USING brin (transaction_id);

-- V2: entries are immutable.
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- V9 and V13: each statement's entries balance per transaction, and their transactions exist
-- (statement triggers fire in name order).
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check();
CREATE TRIGGER ledger_entries_transactions_exist AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_transactions_exist();

-- V8's binary search, over a wallet's entries by number.
DROP FUNCTION ledger_seq_before(uuid, timestamptz);

-- The largest `seq` of the wallet numbered `p_wallet` whose transaction is older than `p_at`; 0
-- when there is none.
CREATE FUNCTION ledger_seq_before(p_wallet bigint, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lo bigint := 0;  -- the answer is at least lo (0: no entry)
    hi bigint;       -- and at most hi
    mid bigint;
    mid_at timestamptz;
BEGIN
    SELECT max(seq) INTO hi FROM ledger_entries WHERE wallet_number = p_wallet;
    IF hi IS NULL THEN
        RETURN 0;
    END IF;
    WHILE lo < hi LOOP
        mid := lo + (hi - lo + 1) / 2;
        SELECT t.created_at INTO mid_at
        FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE e.wallet_number = p_wallet AND e.seq = mid;
        IF mid_at < p_at THEN
            lo := mid;
        ELSE
            hi := mid - 1;
        END IF;
    END LOOP;
    RETURN lo;
END;
$$;

-- The kinds of V2's `ledger_transactions_kind_known`, which the enum replaces. Core writes the names
-- of `TransactionKind::as_str` (a test checks that both lists agree) and reads `kind::text`.
CREATE TYPE ledger_transaction_kind AS ENUM (
    'transfer', 'payment', 'refund', 'deposit', 'withdrawal', 'withdrawal_completion',
    'withdrawal_release', 'hold_capture', 'adjustment');
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_known;
ALTER TABLE ledger_transactions
    ALTER COLUMN kind TYPE ledger_transaction_kind USING kind::ledger_transaction_kind;

ANALYZE ledger_entries;
ANALYZE ledger_transactions;
