use contacto_core::testing::TestDatabase;

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
    let report = core.migrate().await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
}

#[tokio::test]
async fn migrating_a_database_with_an_unknown_newer_migration_is_refused() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = crate::helpers::sql(db.url()).await;
    client
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             SELECT 9999, 'from_the_future', applied_on, '0' FROM refinery_schema_history LIMIT 1",
        )
        .await
        .unwrap();
    let err = core.migrate().await.unwrap_err();
    assert_eq!(err.code(), "SCHEMA_AHEAD", "{err}");
}

#[tokio::test]
async fn concurrent_migrations_of_a_fresh_database_apply_once() {
    let db = TestDatabase::create().await;
    let client = crate::helpers::sql(db.url()).await;
    // Start from an empty schema, as a first deployment would.
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    let core = db.contacto();
    let runs = futures_join(core.clone(), 4).await;
    let applied: usize = runs.iter().map(|r| r.applied.len()).sum();
    let expected = core.readiness().await.expected_schema_version;
    let versions: Vec<i64> = runs
        .iter()
        .flat_map(|r| r.applied.iter().map(|(v, _)| *v))
        .collect();
    assert_eq!(versions.iter().max().copied(), Some(expected));
    assert_eq!(applied, versions.len());
    let mut unique = versions.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        versions.len(),
        "a migration was applied twice: {versions:?}"
    );
}

async fn futures_join(
    core: contacto_core::Contacto,
    n: usize,
) -> Vec<contacto_core::MigrationReport> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let core = core.clone();
            tokio::spawn(async move { core.migrate().await.unwrap() })
        })
        .collect();
    let mut reports = Vec::new();
    for handle in handles {
        reports.push(handle.await.unwrap());
    }
    reports
}
