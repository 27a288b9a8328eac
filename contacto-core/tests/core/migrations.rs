use contacto_core::Contacto;
use contacto_core::testing::TestDatabase;

/// A fresh test database emptied of its schema, as a first deployment finds it.
async fn empty_database() -> (TestDatabase, tokio_postgres::Client) {
    let db = TestDatabase::create().await;
    let client = crate::helpers::sql(db.direct_url()).await;
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    (db, client)
}

/// The versions recorded in refinery's history, one per row, or `None` without a history.
async fn history(client: &tokio_postgres::Client) -> Option<Vec<i64>> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    if !exists {
        return None;
    }
    let rows = client
        .query(
            "SELECT version::bigint FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    Some(rows.iter().map(|row| row.get(0)).collect())
}

async fn table_exists(client: &tokio_postgres::Client, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .unwrap()
        .get(0)
}

/// Records a migration no build of ours has, as a newer deployment would have applied it.
const FUTURE_MIGRATION: &str = "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
     VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '0')";

#[tokio::test]
async fn a_migrated_database_is_ready_and_migrating_again_applies_nothing() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let readiness = core.readiness().await;
    assert!(readiness.ready, "{readiness:?}");
    assert_eq!(
        readiness.schema_version,
        Some(readiness.expected_schema_version)
    );
    assert!(core.pending_migrations().await.unwrap().is_empty());
    let report = core.migrate().await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
}

#[tokio::test]
async fn migrating_a_database_with_an_unknown_newer_migration_is_refused() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = crate::helpers::sql(db.direct_url()).await;
    client.batch_execute(FUTURE_MIGRATION).await.unwrap();
    let err = core.migrate().await.unwrap_err();
    assert_eq!(err.code(), "SCHEMA_AHEAD", "{err}");
    let err = core.pending_migrations().await.unwrap_err();
    assert_eq!(err.code(), "SCHEMA_AHEAD", "{err}");
    assert!(err.to_string().contains("V999__from_the_future"), "{err}");
}

#[tokio::test]
async fn a_refused_migration_changes_nothing_even_with_migrations_pending() {
    let (db, client) = empty_database().await;
    client
        .batch_execute(
            "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, \
             name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))",
        )
        .await
        .unwrap();
    client.batch_execute(FUTURE_MIGRATION).await.unwrap();
    let core = db.contacto();

    for (what, err) in [
        ("dry run", core.pending_migrations().await.unwrap_err()),
        ("migrate", core.migrate().await.unwrap_err()),
    ] {
        assert_eq!(err.code(), "SCHEMA_AHEAD", "{what}: {err}");
        assert!(err.to_string().contains("newer than this build"), "{err}");
    }
    assert_eq!(history(&client).await, Some(vec![999]));
    assert!(!table_exists(&client, "users").await, "nothing was applied");
}

#[tokio::test]
async fn a_dry_run_lists_every_pending_migration_and_applies_none() {
    let (db, client) = empty_database().await;
    let core = db.contacto();
    let expected = core.readiness().await.expected_schema_version;

    let pending = core.pending_migrations().await.unwrap();
    let versions: Vec<i64> = pending.iter().map(|(version, _)| *version).collect();
    assert_eq!(versions, (1..=expected).collect::<Vec<_>>());
    assert!(pending.iter().all(|(_, name)| !name.is_empty()));
    assert_eq!(history(&client).await, None, "not even the history table");
    assert!(!table_exists(&client, "users").await);

    let report = core.migrate().await.unwrap();
    assert_eq!(
        report.applied, pending,
        "the dry run said what would happen"
    );
}

#[tokio::test]
async fn concurrent_migrations_of_a_fresh_database_apply_each_migration_once() {
    let (db, client) = empty_database().await;
    // Four instances, each with its own pool, starting together.
    let instances: Vec<Contacto> = (0..4).map(|_| db.contacto()).collect();
    let runs: Vec<_> = instances
        .iter()
        .cloned()
        .map(|core| tokio::spawn(async move { core.migrate().await }))
        .collect();
    let mut applied: Vec<i64> = Vec::new();
    for run in runs {
        let report = run.await.unwrap().unwrap();
        applied.extend(report.applied.iter().map(|(version, _)| *version));
    }

    let core = &instances[0];
    let expected = core.readiness().await.expected_schema_version;
    let all: Vec<i64> = (1..=expected).collect();
    applied.sort_unstable();
    assert_eq!(
        applied, all,
        "each migration applied by exactly one instance"
    );
    assert_eq!(
        history(&client).await,
        Some(all),
        "one history row per version"
    );
    assert!(core.readiness().await.ready);
    assert!(core.pending_migrations().await.unwrap().is_empty());
    assert!(table_exists(&client, "users").await && table_exists(&client, "wallets").await);
}

/// The migration files up to and including `last`, in version order.
fn migration_files(last: u32) -> Vec<(u32, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let version: u32 = name.strip_prefix('V')?.split("__").next()?.parse().ok()?;
            (version <= last).then(|| (version, std::fs::read_to_string(&path).unwrap()))
        })
        .collect();
    files.sort_unstable_by_key(|(version, _)| *version);
    assert_eq!(files.len(), last as usize, "V1 to V{last}");
    files
}

/// An empty database brought to version `last` by the migration files themselves, without
/// refinery's history (the version before a migration under test).
async fn database_at(last: u32) -> (TestDatabase, tokio_postgres::Client) {
    let (db, client) = empty_database().await;
    for (_, sql) in migration_files(last) {
        client.batch_execute(&sql).await.unwrap();
    }
    (db, client)
}

/// V16 moves every entry of a populated ledger to its wallet's number and every transaction's kind
/// to an enum: the same entries, the same balances, the same kinds, and the checks of V2, V9 and
/// V13 and the binary search of V8 in place on the new table.
#[tokio::test]
async fn v16_keeps_every_entry_of_a_populated_ledger_under_its_wallets_number() {
    let (_db, client) = database_at(15).await;
    // A funding adjustment to two customers, then a transfer between them, as V15 stored them.
    client
        .batch_execute(
            "INSERT INTO users (id, email, full_name, role, password_hash) VALUES \
               ('00000000-0000-7000-8000-00000000000a', 'amina@example.dz', 'Amina', 'customer', '$argon2id$not-a-login'), \
               ('00000000-0000-7000-8000-00000000000b', 'karim@example.dz', 'Karim', 'customer', '$argon2id$not-a-login'); \
             INSERT INTO wallets (id, owner_id, kind, currency, posted, entry_count) VALUES \
               ('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-00000000000a', 'personal', 'DZD', 900, 2), \
               ('00000000-0000-7000-8000-0000000000b1', '00000000-0000-7000-8000-00000000000b', 'personal', 'DZD', 1100, 2); \
             UPDATE wallets SET posted = -2000, entry_count = 2 WHERE system_role = 'funding'; \
             INSERT INTO ledger_transactions (id, kind, currency, amount, created_at) VALUES \
               ('00000000-0000-7000-8000-0000000000f1', 'adjustment', 'DZD', 2000, '2026-01-01T00:00:00Z'), \
               ('00000000-0000-7000-8000-0000000000f2', 'transfer', 'DZD', 100, '2026-02-01T00:00:00Z'); \
             INSERT INTO ledger_entries (wallet_id, seq, transaction_id, amount, balance_after) VALUES \
               ('00000000-0000-7000-8000-000000000001', 1, '00000000-0000-7000-8000-0000000000f1', -1000, -1000), \
               ('00000000-0000-7000-8000-000000000001', 2, '00000000-0000-7000-8000-0000000000f1', -1000, -2000), \
               ('00000000-0000-7000-8000-0000000000a1', 1, '00000000-0000-7000-8000-0000000000f1', 1000, 1000), \
               ('00000000-0000-7000-8000-0000000000b1', 1, '00000000-0000-7000-8000-0000000000f1', 1000, 1000); \
             INSERT INTO ledger_entries (wallet_id, seq, transaction_id, amount, balance_after) VALUES \
               ('00000000-0000-7000-8000-0000000000a1', 2, '00000000-0000-7000-8000-0000000000f2', -100, 900), \
               ('00000000-0000-7000-8000-0000000000b1', 2, '00000000-0000-7000-8000-0000000000f2', 100, 1100);",
        )
        .await
        .unwrap();
    let entries = "SELECT w.id::text, e.seq, e.transaction_id::text, e.amount, e.balance_after \
                   FROM ledger_entries e JOIN wallets w ON {join} ORDER BY 1, 2";
    let read = |join: &str| {
        let sql = entries.replace("{join}", join);
        let client = &client;
        async move {
            client
                .query(&sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let row: (String, i64, String, i64, i64) =
                        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                    row
                })
                .collect::<Vec<_>>()
        }
    };
    let before = read("w.id = e.wallet_id").await;
    assert_eq!(before.len(), 6);
    let transactions = || async {
        client
            .query(
                "SELECT id::text, kind::text, amount FROM ledger_transactions ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let row: (String, String, i64) = (r.get(0), r.get(1), r.get(2));
                row
            })
            .collect::<Vec<_>>()
    };
    let transactions_before = transactions().await;
    assert_eq!(transactions_before.len(), 2);

    let (_, v16) = migration_files(16).pop().unwrap();
    client.batch_execute(&v16).await.unwrap();

    assert_eq!(read("w.number = e.wallet_number").await, before);
    // The kinds became the enum's values, unchanged as text.
    assert_eq!(transactions().await, transactions_before);
    let kind_type: String = client
        .query_one(
            "SELECT pg_typeof(kind)::text FROM ledger_transactions LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kind_type, "ledger_transaction_kind");
    let numbers: Vec<i64> = client
        .query("SELECT number FROM wallets ORDER BY number", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        numbers,
        (1..=6).collect::<Vec<i64>>(),
        "every wallet numbered once"
    );
    // The binary search over the new key: Amina's last entry before March, and before February.
    for (at, seq) in [("2026-03-01T00:00:00Z", 2_i64), ("2026-02-01T00:00:00Z", 1)] {
        let found: i64 = client
            .query_one(
                &format!(
                    "SELECT ledger_seq_before((SELECT number FROM wallets \
                       WHERE id = '00000000-0000-7000-8000-0000000000a1'), '{at}')"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(found, seq, "{at}");
    }
    // The checks came back with the table: an unbalanced statement, an entry of a missing
    // transaction, a change and a deletion are refused.
    let amina = "(SELECT number FROM wallets WHERE id = '00000000-0000-7000-8000-0000000000a1')";
    for (sql, constraint) in [
        (
            format!(
                "INSERT INTO ledger_entries VALUES ({amina}, 3, '00000000-0000-7000-8000-0000000000f2', 5, 905)"
            ),
            "ledger_transaction_balanced",
        ),
        (
            format!(
                "INSERT INTO ledger_entries VALUES ({amina}, 3, '00000000-0000-7000-8000-0000000000f9', 5, 905), \
                   ({amina}, 4, '00000000-0000-7000-8000-0000000000f9', -5, 900)"
            ),
            "ledger_entries_transaction_fkey",
        ),
        (
            "UPDATE ledger_entries SET amount = amount + 1".to_owned(),
            "ledger_immutable",
        ),
        ("DELETE FROM ledger_entries".to_owned(), "ledger_immutable"),
        ("TRUNCATE ledger_entries".to_owned(), "ledger_immutable"),
        (
            format!(
                "INSERT INTO ledger_entries VALUES ({amina}, 2, '00000000-0000-7000-8000-0000000000f2', 5, 905), \
                   ({amina}, 9, '00000000-0000-7000-8000-0000000000f2', -5, 900)"
            ),
            "ledger_entries_pkey",
        ),
    ] {
        let err = client.batch_execute(&sql).await.unwrap_err();
        let hit = err.as_db_error().and_then(|e| e.constraint());
        assert_eq!(hit, Some(constraint), "{sql}: {err:?}");
    }
    assert_eq!(read("w.number = e.wallet_number").await, before);
}

/// V16 drops and re-creates the entries' table: it refuses to run, and changes nothing, when the
/// table carries something an operator added that the drop would silently lose (here a grant).
#[tokio::test]
async fn v16_refuses_to_drop_grants_on_the_entries() {
    let (_db, client) = database_at(15).await;
    client
        .batch_execute("GRANT SELECT ON ledger_entries TO PUBLIC")
        .await
        .unwrap();
    let (_, v16) = migration_files(16).pop().unwrap();
    let err = client.batch_execute(&v16).await.unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_owned());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("that V16 would drop")),
        "{err:?}"
    );
    let numbered: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_name = 'wallets' AND column_name = 'number')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!numbered, "nothing of V16 stayed");
}

/// V20 orders the idempotency keys' primary key by key, then caller, under the same name, keeping
/// every key; an index an operator built beforehand under the migration's name (concurrently,
/// outside any transaction) becomes the primary key instead of being built again.
#[tokio::test]
async fn v20_orders_the_keys_by_key_and_takes_an_index_built_beforehand() {
    for built_beforehand in [false, true] {
        let (_db, client) = database_at(19).await;
        client
            .batch_execute(
                "INSERT INTO users (id, email, full_name, role, password_hash) VALUES \
                   ('00000000-0000-7000-8000-00000000000a', 'amina@example.dz', 'Amina', 'customer', '$argon2id$not-a-login'), \
                   ('00000000-0000-7000-8000-00000000000b', 'karim@example.dz', 'Karim', 'customer', '$argon2id$not-a-login'); \
                 INSERT INTO idempotency_keys (caller_id, key, request_hash, outcome) \
                 SELECT caller::uuid, key, sha256(key::bytea), '\\x00' \
                 FROM unnest(ARRAY['00000000-0000-7000-8000-00000000000a', \
                                   '00000000-0000-7000-8000-00000000000b'], \
                             ARRAY['same-key', 'same-key']) AS k(caller, key);",
            )
            .await
            .unwrap();
        let mut prebuilt: Option<u32> = None;
        if built_beforehand {
            client
                .batch_execute(
                    "CREATE UNIQUE INDEX CONCURRENTLY idempotency_keys_key_caller \
                     ON idempotency_keys (key, caller_id)",
                )
                .await
                .unwrap();
            let oid = client
                .query_one("SELECT 'idempotency_keys_key_caller'::regclass::oid", &[])
                .await
                .unwrap()
                .get(0);
            prebuilt = Some(oid);
        }
        let (_, v20) = migration_files(20).pop().unwrap();
        client.batch_execute(&v20).await.unwrap();
        if let Some(oid) = prebuilt {
            let primary: u32 = client
                .query_one(
                    "SELECT conindid FROM pg_constraint WHERE conname = 'idempotency_keys_pkey'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(
                primary, oid,
                "the index built beforehand became the primary key"
            );
        }

        let definition: String = client
            .query_one(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conname = 'idempotency_keys_pkey'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(definition, "PRIMARY KEY (key, caller_id)");
        let indexes: Vec<String> = client
            .query(
                "SELECT indexrelid::regclass::text FROM pg_index \
                 WHERE indrelid = 'idempotency_keys'::regclass ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(
            indexes,
            ["idempotency_keys_created_idx", "idempotency_keys_pkey"],
            "built beforehand: {built_beforehand}"
        );
        let kept: i64 = client
            .query_one("SELECT count(*) FROM idempotency_keys", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(kept, 2);
        let again = client
            .batch_execute(
                "INSERT INTO idempotency_keys (caller_id, key, request_hash, outcome) VALUES \
                 ('00000000-0000-7000-8000-00000000000a', 'same-key', sha256('x'), '\\x00')",
            )
            .await
            .unwrap_err();
        assert_eq!(
            again.as_db_error().and_then(|e| e.constraint()),
            Some("idempotency_keys_pkey")
        );
    }
}
