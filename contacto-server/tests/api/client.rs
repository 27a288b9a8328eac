//! The client's retry policy, against a real server.

use std::time::Duration;

use contacto_client::Client;
use contacto_server::HttpOptions;
use tokio::net::TcpListener;

#[tokio::test]
async fn safe_requests_are_retried_until_the_server_comes_up() {
    let reserved = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let client = Client::builder(format!("http://{address}"))
        .max_retries(8)
        .initial_backoff(Duration::from_millis(100))
        .build()
        .unwrap();
    let db = contacto_core::testing::TestDatabase::create().await;
    let core = db.contacto();
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(address).await.unwrap();
        contacto_server::serve(listener, core, HttpOptions::default(), async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
    });
    let health = client
        .health()
        .await
        .expect("retried until the server listened");
    assert_eq!(health.status, "ok");
    server.abort();
}

#[tokio::test]
async fn unsafe_requests_are_never_retried() {
    let reserved = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let client = Client::builder(format!("http://{address}"))
        .max_retries(8)
        .initial_backoff(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .identity()
        .login("a@example.dz", "whatever password")
        .await
        .unwrap_err();
    assert!(
        matches!(err, contacto_client::Error::Transport { .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no back-off was slept: a POST is not retried"
    );
}

#[test]
fn base_urls_must_be_http() {
    for url in ["ftp://x", "localhost:8080", ""] {
        assert!(Client::builder(url).build().is_err(), "{url}");
    }
}
