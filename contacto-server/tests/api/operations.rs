//! Deployment and query analysis as operators meet them: `migrate` run by several instances at
//! once, `--dry-run`, a newer schema refused; the statements report through the real server and
//! client, on the command line, and the slow-query threshold in the start-up log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use contacto_client::api::Role;
use contacto_core::testing::TestDatabase;
use serde_json::Value;

use crate::cli::server;
use crate::helpers::spawn_app;

async fn connect(db: &TestDatabase) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(db.direct_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A test database emptied of its schema, as a first deployment finds it.
async fn empty_database() -> (TestDatabase, tokio_postgres::Client) {
    let db = TestDatabase::create().await;
    let client = connect(&db).await;
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    (db, client)
}

/// Versions in the migration history, or none without one.
async fn history(client: &tokio_postgres::Client) -> Vec<i64> {
    client
        .query(
            "SELECT version::bigint FROM refinery_schema_history ORDER BY 1",
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|row| row.get(0)).collect())
        .unwrap_or_default()
}

async fn has_table(client: &tokio_postgres::Client, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .unwrap()
        .get(0)
}

fn both(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn instances_migrating_at_once_apply_each_migration_exactly_once() {
    let (db, client) = empty_database().await;
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| server(&db, &["migrate"], &[])))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let mut applied = 0;
    for output in &outputs {
        assert!(output.status.success(), "{}", both(output));
        applied += String::from_utf8_lossy(&output.stdout)
            .matches("migration applied")
            .count();
    }
    let expected = db.contacto().readiness().await.expected_schema_version;
    let all: Vec<i64> = (1..=expected).collect();
    assert_eq!(history(&client).await, all, "one history row per version");
    assert_eq!(applied, all.len(), "each applied by one instance only");
    assert!(db.contacto().readiness().await.ready);
}

#[tokio::test]
async fn a_dry_run_lists_the_pending_migrations_and_applies_none() {
    let (db, client) = empty_database().await;
    let expected = db.contacto().readiness().await.expected_schema_version;

    let dry = server(&db, &["migrate", "--dry-run"], &[]);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{}", both(&dry));
    assert!(
        stdout.contains(&format!("{expected} migration(s) would be applied")),
        "{stdout}"
    );
    for listed in ["V1__identity", "V2__wallet", "V7__directory"] {
        assert!(stdout.contains(listed), "{listed} in {stdout}");
    }
    assert!(!has_table(&client, "refinery_schema_history").await);
    assert!(!has_table(&client, "users").await, "nothing was applied");

    assert!(server(&db, &["migrate"], &[]).status.success());
    let again = server(&db, &["migrate", "--dry-run"], &[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("no migration would be applied"),
        "{}",
        both(&again)
    );
}

#[tokio::test]
async fn migrate_refuses_a_database_that_a_newer_version_migrated() {
    let db = TestDatabase::create().await;
    let client = connect(&db).await;
    client
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
        )
        .await
        .unwrap();
    let before = history(&client).await;
    for args in [&["migrate"][..], &["migrate", "--dry-run"]] {
        let output = server(&db, args, &[]);
        assert!(!output.status.success(), "{args:?}: {}", both(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("newer than this build") && stderr.contains("V999__from_the_future"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(history(&client).await, before, "nothing was applied");
}

#[tokio::test]
async fn administrators_read_the_top_statements_and_nobody_else_does() {
    let app = spawn_app().await;
    let admin = app.client.with_token(&app.admin_session().await.token);
    let amina = app.register("amina@example.dz", Role::Customer).await;
    let amina = app.client.with_token(&amina.token);
    for _ in 0..3 {
        amina.identity().me().await.unwrap();
    }

    let report = admin.admin().top_statements(Some(100)).await.unwrap();
    assert!(
        report
            .statements
            .iter()
            .any(|s| s.calls >= 3 && s.query.contains("users") && s.query.contains("$1")),
        "{report:#?}"
    );
    assert!(
        !serde_json::to_string(&report)
            .unwrap()
            .contains("amina@example.dz")
    );
    assert_eq!(report.slow_query_threshold_ms, Some(250));
    let one = admin.admin().top_statements(Some(1)).await.unwrap();
    assert_eq!(one.statements.len(), 1);
    assert!(
        admin
            .admin()
            .top_statements(None)
            .await
            .unwrap()
            .statements
            .len()
            <= 20
    );

    let refusals = [
        (amina.admin().top_statements(None).await, 403, "FORBIDDEN"),
        (
            app.client.admin().top_statements(None).await,
            401,
            "UNAUTHENTICATED",
        ),
        (
            admin.admin().top_statements(Some(0)).await,
            400,
            "VALIDATION_FAILED",
        ),
        (
            admin.admin().top_statements(Some(101)).await,
            400,
            "VALIDATION_FAILED",
        ),
    ];
    for (answer, status, code) in refusals {
        let err = answer.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(status), Some(code)),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_malformed_limit_is_a_400_naming_it() {
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let http = reqwest::Client::new();
    let cases = [
        ("limit=ten", "limit", "not a number"),
        ("limit=1&limit=2", "limit", "given twice"),
        ("top=5", "top", "not a parameter"),
    ];
    for (query, field, why) in cases {
        let response = http
            .get(app.url(&format!("/api/v1/admin/statements?{query}")))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{why}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{why}");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], field,
            "{why}"
        );
    }
}

#[tokio::test]
async fn top_statements_prints_a_table_or_json_and_can_reset() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    for _ in 0..3 {
        core.readiness().await;
    }

    let table = server(&db, &["top-statements", "--limit", "5"], &[]);
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success(), "{}", both(&table));
    assert!(stdout.contains("slow-query threshold: 250 ms"), "{stdout}");
    assert!(
        stdout.contains("calls") && stdout.contains("mean ms"),
        "{stdout}"
    );

    let json = server(&db, &["top-statements", "--json", "--reset"], &[]);
    assert!(json.status.success(), "{}", both(&json));
    let stdout = String::from_utf8_lossy(&json.stdout);
    let start = stdout
        .find("{\n")
        .unwrap_or_else(|| panic!("no JSON in {stdout}"));
    let end = stdout.rfind("\n}").unwrap() + 2;
    let report: Value = serde_json::from_str(&stdout[start..end]).unwrap();
    let schema_version = report["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["query"] == "SELECT max(version)::bigint FROM refinery_schema_history")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(schema_version["calls"].as_i64().unwrap() >= 3);

    let after = core.top_statements(None, Some(100)).await.unwrap();
    assert!(
        after
            .statements
            .iter()
            .all(|s| s.query != "SELECT max(version)::bigint FROM refinery_schema_history"),
        "reset: {after:#?}"
    );

    let bad = server(&db, &["top-statements", "--limit", "0"], &[]);
    assert!(!bad.status.success());
}

#[test]
fn serving_logs_the_slow_query_threshold_in_effect() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::create());
    let mut child = Command::new(env!("CARGO_BIN_EXE_contacto-server"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONTACTO_DATABASE_URL", db.url())
        .env("CONTACTO_JWT_SECRET", "a test secret that is long enough!!")
        .env("CONTACTO_LOG_FORMAT", "json")
        .env("CONTACTO_LISTEN", "127.0.0.1:0")
        // An external server's threshold is its own: this can only be warned about.
        .env("CONTACTO_SLOW_QUERY_MS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut logs = Vec::new();
    while let Ok(line) = received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let listening = line.contains("\"listening\"");
        logs.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let logs = logs.join("\n");
    assert!(
        logs.contains("\"log_min_duration_statement_ms\":250"),
        "{logs}"
    );
    assert!(
        logs.contains("CONTACTO_SLOW_QUERY_MS is not in effect")
            && logs.contains("\"configured_ms\":100"),
        "{logs}"
    );
}
