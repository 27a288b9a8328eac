use contacto_core::Contacto;
use contacto_core::testing::TestDatabase;

/// A fresh test database emptied of its schema, as a first deployment finds it.
async fn empty_database() -> (TestDatabase, tokio_postgres::Client) {
    let db = TestDatabase::create().await;
    let client = crate::helpers::sql(db.url()).await;
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
    let client = crate::helpers::sql(db.url()).await;
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
