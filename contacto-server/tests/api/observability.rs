//! Metrics move with real traffic; logs never carry secrets.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use contacto_client::Client;
use contacto_client::api::Role;
use contacto_core::testing::TestDatabase;

use crate::helpers::{PASSWORD, registration, spawn_app};

/// The value of the first sample whose line starts with `prefix` (name and labels).
fn sample(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_business_operations_by_outcome() {
    let app = spawn_app().await;
    let scrape = || async {
        reqwest::get(app.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;
    let session = app.register("metrics@example.dz", Role::Merchant).await;
    let _ = app
        .client
        .identity()
        .register(&registration("metrics@example.dz", Role::Customer))
        .await;
    let _ = app
        .client
        .identity()
        .login("metrics@example.dz", "wrong password")
        .await;
    let owner = app.client.with_token(&session.token);
    let key = owner.identity().create_api_key("k").await.unwrap();
    owner
        .identity()
        .revoke_api_key(key.api_key.id)
        .await
        .unwrap();
    let _ = reqwest::get(app.url("/nope")).await.unwrap();
    let after = scrape().await;

    let moved = |prefix: &str| sample(&after, prefix) - sample(&before, prefix);
    let register_201 =
        r#"contacto_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}"#;
    let register_409 =
        r#"contacto_http_requests_total{method="POST",route="/api/v1/auth/register",status="409"}"#;
    assert_eq!(moved(register_201), 1.0, "{after}");
    assert_eq!(moved(register_409), 1.0);
    assert_eq!(
        moved(
            r#"contacto_http_requests_total{method="DELETE",route="/api/v1/api-keys/{id}",status="204"}"#
        ),
        1.0,
        "the route label is the template, never the raw path"
    );
    assert!(!after.contains(&key.api_key.id.to_string()));
    assert_eq!(
        moved(r#"contacto_http_requests_total{method="GET",route="unmatched",status="404"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"contacto_business_operations_total{kind="registration",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"contacto_business_operations_total{kind="registration",outcome="rejected"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"contacto_business_operations_total{kind="login",outcome="rejected"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"contacto_business_operations_total{kind="api_key",outcome="ok"}"#),
        1.0
    );
    assert!(
        moved(
            r#"contacto_http_request_duration_seconds_count{method="POST",route="/api/v1/auth/register"}"#
        ) >= 2.0
    );
    assert!(
        moved(r#"contacto_db_query_duration_seconds_count{statement="identity.insert_user"}"#)
            >= 1.0
    );
    for series in [
        "contacto_http_requests_in_flight",
        "contacto_db_pool_max_connections",
        "contacto_db_pool_connections",
        "contacto_db_pool_idle_connections",
        "contacto_db_pool_waiting_requests",
        "process_resident_memory_bytes",
        "process_open_fds",
        "contacto_build_info",
    ] {
        assert!(
            after.lines().any(|l| l.starts_with(series)),
            "{series} missing"
        );
    }
    assert!(sample(&after, "contacto_db_pool_max_connections") >= 1.0);
}

#[tokio::test]
async fn no_secret_reaches_the_logs_on_any_auth_path() {
    let db = TestDatabase::create().await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_contacto-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONTACTO_DATABASE_URL", db.url())
        .env(
            "CONTACTO_JWT_SECRET",
            "the jwt secret that must never be logged",
        )
        .env("CONTACTO_LISTEN", format!("127.0.0.1:{port}"))
        .env("CONTACTO_LOG", "trace")
        .env("CONTACTO_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let client = Client::builder(format!("http://127.0.0.1:{port}"))
        .max_retries(10)
        .build()
        .unwrap();
    client.health().await.unwrap();

    let phone = "0550 98 76 54";
    let mut request = registration("secret.keeper@example.dz", Role::Merchant);
    request.phone = Some(phone.into());
    let session = client.identity().register(&request).await.unwrap();
    let login = client
        .identity()
        .login("secret.keeper@example.dz", PASSWORD)
        .await
        .unwrap();
    let _ = client
        .identity()
        .login("secret.keeper@example.dz", "a wrong password here")
        .await;
    let owner = client.with_token(&login.token);
    let key = owner.identity().create_api_key("till").await.unwrap();
    client.with_token(&key.key).identity().me().await.unwrap();
    let _ = client
        .with_token("forged.token.value")
        .identity()
        .me()
        .await;

    // SIGTERM: the server shuts down gracefully and flushes its logs.
    Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    let exited = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exited.success());
    let logs = lines.join().unwrap().join("\n");
    assert!(
        logs.contains("\"route\":\"/api/v1/auth/login\""),
        "the requests were logged"
    );
    for (what, secret) in [
        ("password", PASSWORD),
        ("wrong password", "a wrong password here"),
        ("token", session.token.as_str()),
        ("login token", login.token.as_str()),
        ("API key", key.key.as_str()),
        ("forged token", "forged.token.value"),
        ("JWT secret", "the jwt secret that must never be logged"),
        ("phone", "550987654"),
        ("email", "secret.keeper@example.dz"),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
}
