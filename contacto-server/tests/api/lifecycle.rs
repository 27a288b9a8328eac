//! The server's life: losing and regaining its database, shutting down gracefully.

use std::time::Duration;

use contacto_client::api::Role;
use contacto_core::Contacto;
use contacto_core::testing::{TestCluster, test_config};
use contacto_server::HttpOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{PASSWORD, registration, spawn_app, spawn_server};

#[tokio::test]
async fn requests_get_503_while_the_database_is_stopped_and_recover_when_it_is_back() {
    outage_and_recovery(|cluster| cluster.postgres().stop().unwrap()).await;
}

#[tokio::test]
async fn requests_get_503_while_the_database_has_crashed_and_recover_after_crash_recovery() {
    outage_and_recovery(|cluster| cluster.postgres().kill().unwrap()).await;
}

#[tokio::test]
async fn a_sabotaged_table_gives_503_not_500_and_recovers_when_repaired() {
    let app = spawn_app().await;
    let db = app.db.as_ref().unwrap();
    let (client, connection) = tokio_postgres::connect(db.direct_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("ALTER TABLE users RENAME TO users_sabotaged")
        .await
        .unwrap();
    let err = app
        .client
        .identity()
        .register(&registration("sabotage@example.dz", Role::Customer))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(err.code(), Some("SCHEMA_OUTDATED"));
    client
        .batch_execute("ALTER TABLE users_sabotaged RENAME TO users")
        .await
        .unwrap();
    app.client
        .identity()
        .register(&registration("sabotage@example.dz", Role::Customer))
        .await
        .unwrap();
}

async fn outage_and_recovery(break_database: impl FnOnce(&TestCluster)) {
    // A cluster of its own, since stopping the shared one would break every other test; durable,
    // since an immediate stop of a cluster without fsync may lose its last commits.
    let cluster = TestCluster::start_durable();
    let url = cluster.create_database("contacto").await;
    let mut config = test_config(&url);
    config.database.connect_timeout = Duration::from_millis(500);
    config.database.wait_timeout = Duration::from_millis(500);
    let core = Contacto::builder(config).build().unwrap();
    core.migrate().await.unwrap();
    let app = spawn_server(core, HttpOptions::default()).await;
    let session = app
        .client
        .identity()
        .register(&registration("outage@example.dz", Role::Customer))
        .await
        .unwrap();
    let user = app.client.with_token(&session.token);
    let no_retry = contacto_client::Client::builder(format!("http://{}", app.address))
        .max_retries(0)
        .build()
        .unwrap();

    break_database(&cluster);
    let err = user.identity().me().await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(err.code(), Some("SERVICE_UNAVAILABLE"));
    let err = no_retry
        .identity()
        .login("outage@example.dz", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    let ready = no_retry.ready().await.unwrap();
    assert!(!ready.ready && !ready.database, "{ready:?}");
    let raw = reqwest::get(format!("http://{}/ready", app.address))
        .await
        .unwrap();
    assert_eq!(raw.status(), 503);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(
        !body.to_string().contains("connection"),
        "no internals: {body}"
    );
    assert_eq!(
        no_retry.health().await.unwrap().status,
        "ok",
        "health needs no database"
    );

    cluster.postgres().start().unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        if user.identity().me().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "requests succeed again once the database is back"
    );
    assert!(no_retry.ready().await.unwrap().ready);
    no_retry
        .identity()
        .login("outage@example.dz", PASSWORD)
        .await
        .unwrap();
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_refuses_new_connections() {
    let mut app = spawn_app().await;
    let body = serde_json::to_vec(&registration("inflight@example.dz", Role::Customer)).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    // Let the server accept the connection and start reading the body, then ask it to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server = app.take_handle();
    app.trigger_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(app.address).await.is_err(),
        "the listener is closed once shutdown starts"
    );
    stream.write_all(rest).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once its last request is done")
        .unwrap();
    assert_eq!(app.count("users").await, 1);
}
