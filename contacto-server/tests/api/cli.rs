//! The `contacto-server` binary's subcommands, run as an operator would.

use std::process::{Command, Output};

use contacto_client::api::{LoginRequest, Role};
use contacto_core::testing::TestDatabase;

/// Runs the `contacto-server` binary on `db`, as an operator would.
pub(crate) fn server(db: &TestDatabase, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_contacto-server"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONTACTO_DATABASE_URL", db.url())
        .env("CONTACTO_JWT_SECRET", "a test secret that is long enough!!")
        .env("CONTACTO_LOG_FORMAT", "json")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

#[tokio::test]
async fn migrate_builds_an_empty_database_and_create_admin_makes_a_working_admin() {
    let db = TestDatabase::create().await;
    let (client, connection) = tokio_postgres::connect(db.direct_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();

    let migrated = server(&db, &["migrate"], &[]);
    let stdout = String::from_utf8_lossy(&migrated.stdout);
    assert!(
        migrated.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(stdout.contains("migration applied"), "{stdout}");
    let again = server(&db, &["migrate"], &[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));

    let password = "an administrator's passphrase";
    let created = server(
        &db,
        &[
            "create-admin",
            "--email",
            "Ops@Example.DZ",
            "--full-name",
            "Ops Team",
        ],
        &[("CONTACTO_ADMIN_PASSWORD", password)],
    );
    let logs = String::from_utf8_lossy(&created.stdout);
    assert!(
        created.status.success(),
        "{logs}{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(!logs.contains(password), "the password is never logged");

    let core = db.contacto();
    let login = LoginRequest {
        email: "ops@example.dz".into(),
        password: password.into(),
    };
    assert_eq!(
        core.identity().login(&login, None).await.unwrap().user.role,
        Role::Admin
    );
}

#[tokio::test]
async fn production_refuses_to_start_with_a_managed_database() {
    let db = TestDatabase::create().await;
    let output = Command::new(env!("CARGO_BIN_EXE_contacto-server"))
        .arg("migrate")
        .env_clear()
        .env("CONTACTO_ENVIRONMENT", "production")
        .env("CONTACTO_JWT_SECRET", "a test secret that is long enough!!")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CONTACTO_DATABASE_URL"), "{stderr}");
    drop(db);
}
