//! Query analysis: `pg_stat_statements` through core, on the private test cluster (which preloads
//! it, as every managed cluster does).

use contacto_core::api::{MAX_STATEMENTS_LIMIT, Role, StatementsReport};
use contacto_core::testing::TestDatabase;

/// What core runs for every readiness check.
const SCHEMA_VERSION_QUERY: &str = "SELECT max(version)::bigint FROM refinery_schema_history";

fn find<'a>(report: &'a StatementsReport, query: &str) -> &'a contacto_core::api::StatementStats {
    report
        .statements
        .iter()
        .find(|s| s.query == query)
        .unwrap_or_else(|| panic!("{query} is not listed: {report:#?}"))
}

#[tokio::test]
async fn the_top_statements_count_what_ran_without_its_literal_values() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = crate::helpers::sql(db.direct_url()).await;
    const RUNS: i64 = 5;
    for _ in 0..RUNS {
        core.readiness().await;
        client
            .batch_execute("SELECT count(*) FROM users WHERE email = 'literal@example.dz'")
            .await
            .unwrap();
    }
    // A utility statement keeps its literals in pg_stat_statements; it must never be listed.
    client
        .batch_execute("SET application_name = 'utility-literal'")
        .await
        .unwrap();

    let report = core
        .top_statements(None, Some(MAX_STATEMENTS_LIMIT))
        .await
        .unwrap();
    let readiness = find(&report, SCHEMA_VERSION_QUERY);
    assert!(readiness.calls >= RUNS, "{readiness:?}");
    assert!(
        readiness.mean_time_ms <= readiness.total_time_ms,
        "{readiness:?}"
    );
    let by_email = find(&report, "SELECT count(*) FROM users WHERE email = $1");
    assert_eq!(by_email.calls, RUNS);
    assert_eq!(by_email.rows, RUNS, "one count per run");
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("literal@example.dz"), "{text}");
    assert!(!text.contains("utility-literal"), "{text}");
    let totals: Vec<f64> = report.statements.iter().map(|s| s.total_time_ms).collect();
    assert!(
        totals.windows(2).all(|pair| pair[0] >= pair[1]),
        "most total time first: {totals:?}"
    );
    assert_eq!(
        report.slow_query_threshold_ms,
        Some(250),
        "the managed cluster's default"
    );

    let two = core.top_statements(None, Some(2)).await.unwrap();
    assert_eq!(two.statements.len(), 2);
}

#[tokio::test]
async fn only_administrators_read_statements_and_limits_are_bounded() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let customer = crate::helpers::user(&core, "amina@example.dz", Role::Customer).await;
    let err = core
        .top_statements(Some(&customer), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN", "{err}");
    let admin = crate::helpers::admin(&core).await;
    assert!(core.top_statements(Some(&admin), None).await.is_ok());
    for limit in [0, MAX_STATEMENTS_LIMIT + 1] {
        let err = core
            .top_statements(Some(&admin), Some(limit))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{limit}");
    }
}

#[tokio::test]
async fn a_reset_starts_the_counts_again() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    for _ in 0..3 {
        core.readiness().await;
    }
    core.reset_statements().await.unwrap();
    core.readiness().await;
    let report = core
        .top_statements(None, Some(MAX_STATEMENTS_LIMIT))
        .await
        .unwrap();
    assert_eq!(find(&report, SCHEMA_VERSION_QUERY).calls, 1, "{report:#?}");
}

#[tokio::test]
async fn a_role_that_may_not_install_the_extension_gets_a_clear_unavailable_error() {
    let db = TestDatabase::create().await;
    let client = crate::helpers::sql(db.direct_url()).await;
    let role = format!("app_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{role}' NOSUPERUSER"
        ))
        .await
        .unwrap();
    let core = contacto_core::Contacto::builder(contacto_core::testing::test_config(&with_user(
        db.url(),
        &role,
    )))
    .build()
    .unwrap();

    let err = core.top_statements(None, None).await.unwrap_err();
    assert_eq!(err.code(), "STATEMENTS_UNAVAILABLE", "{err}");
    assert_eq!(err.kind(), contacto_core::ErrorKind::Unavailable);
    assert!(err.to_string().contains("CREATE EXTENSION"), "{err}");
    assert_eq!(
        core.slow_query_threshold().await.unwrap(),
        Some(std::time::Duration::from_millis(250))
    );
    drop(core);
    // Roles belong to the cluster, not to the test database: best effort, the cluster is
    // thrown away at the end of the run anyway.
    let _ = client
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
        .await;
}

/// `url` as a key-value connection string for `user` (whose password is its name).
fn with_user(url: &str, user: &str) -> String {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(name) => name.clone(),
        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
    };
    format!(
        "host='{host}' port={} user={user} password={user} dbname='{}'",
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_dbname().unwrap()
    )
}
