//! Raw HTTP: the envelope, statuses, headers and limits, exactly as integrations see them.

use contacto_server::HttpOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn valid_registration() -> Value {
    json!({
        "email": "wire@example.dz",
        "password": "a long enough password",
        "full_name": "Wire Test",
        "role": "customer"
    })
}

#[tokio::test]
async fn successes_and_failures_use_the_envelope() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let created = http
        .post(app.url("/api/v1/auth/register"))
        .json(&valid_registration())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["content-type"], "application/json");
    let body = json_of(created).await;
    assert_eq!(body["success"], true);
    assert!(body["data"]["token"].is_string());
    assert_eq!(body["data"]["user"]["email"], "wire@example.dz");
    assert_eq!(body["data"]["user"]["role"], "customer");
    assert!(body["data"]["user"].get("password_hash").is_none());

    let conflict = http
        .post(app.url("/api/v1/auth/register"))
        .json(&valid_registration())
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let body = json_of(conflict).await;
    assert_eq!(
        body,
        json!({
            "success": false,
            "error": {"code": "EMAIL_TAKEN", "message": "an account with this email already exists"}
        })
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let missing = http.get(app.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(missing).await["error"]["code"], "ROUTE_NOT_FOUND");

    let wrong = http
        .get(app.url("/api/v1/auth/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers()["allow"], "POST");
    assert_eq!(json_of(wrong).await["error"]["code"], "METHOD_NOT_ALLOWED");

    let head = http.head(app.url("/health")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_get_a_400_class_error_and_write_nothing() {
    let options = HttpOptions {
        body_limit_bytes: 2048,
        ..HttpOptions::default()
    };
    let app = spawn_app_with(options).await;
    let http = reqwest::Client::new();
    let url = app.url("/api/v1/auth/register");
    let mut wrong_type = valid_registration();
    wrong_type["email"] = json!(42);
    let mut unknown_role = valid_registration();
    unknown_role["role"] = json!("wizard");
    let mut missing = valid_registration();
    missing.as_object_mut().unwrap().remove("full_name");
    let mut oversized = valid_registration();
    oversized["full_name"] = json!("x".repeat(4096));

    let cases: Vec<(reqwest::RequestBuilder, u16, &str, Option<&str>, &str)> = vec![
        (
            http.post(&url)
                .header("content-type", "application/json")
                .body("{\"email\": "),
            400,
            "MALFORMED_JSON",
            None,
            "truncated JSON",
        ),
        (
            http.post(&url)
                .header("content-type", "application/json")
                .body("not json"),
            400,
            "MALFORMED_JSON",
            None,
            "not JSON",
        ),
        (
            http.post(&url).json(&wrong_type),
            400,
            "VALIDATION_FAILED",
            Some("email"),
            "number for a string",
        ),
        (
            http.post(&url).json(&unknown_role),
            400,
            "VALIDATION_FAILED",
            Some("role"),
            "unknown enum value",
        ),
        (
            http.post(&url).json(&missing),
            400,
            "VALIDATION_FAILED",
            Some("full_name"),
            "missing field",
        ),
        (
            http.post(&url).json(&json!([1, 2])),
            400,
            "VALIDATION_FAILED",
            Some("body"),
            "array body",
        ),
        (
            http.post(&url).body(valid_registration().to_string()),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
            "no content type",
        ),
        (
            http.post(&url)
                .header("content-type", "text/plain")
                .body(valid_registration().to_string()),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
            "text/plain",
        ),
        (
            http.post(&url).json(&oversized),
            413,
            "PAYLOAD_TOO_LARGE",
            None,
            "over the body cap",
        ),
    ];
    for (request, status, code, field, why) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{why}");
        let body = json_of(response).await;
        assert_eq!(body["success"], false, "{why}");
        assert_eq!(body["error"]["code"], code, "{why}: {body}");
        if let Some(field) = field {
            assert_eq!(
                body["error"]["details"]["fields"][0]["field"], field,
                "{why}: {body}"
            );
        }
    }
    assert_eq!(app.count("users").await, 0, "no bad request wrote anything");
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_refused() {
    let options = HttpOptions {
        body_limit_bytes: 1024,
        ..HttpOptions::default()
    };
    let app = spawn_app_with(options).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b' '; 512])).collect();
    let body = reqwest::Body::wrap_stream(futures_stream(chunks));
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let kept = http
        .get(app.url("/health"))
        .header("x-request-id", "caller-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "caller-id-42");
    let replaced = http
        .get(app.url("/health"))
        .header("x-request-id", "not ok!")
        .send()
        .await
        .unwrap();
    let generated = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(generated, "not ok!");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    let on_error = http.get(app.url("/nope")).send().await.unwrap();
    assert!(on_error.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn unauthenticated_requests_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    for auth in [None, Some("Bearer nonsense"), Some("Basic dXNlcjpwYXNz")] {
        let mut request = http.get(app.url("/api/v1/users/me"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{auth:?}"
        );
        assert_eq!(json_of(response).await["error"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn health_and_ready_report_their_state() {
    let app = spawn_app().await;
    let health = app.client.health().await.unwrap();
    assert_eq!(health.status, "ok");
    let ready = app.client.ready().await.unwrap();
    assert!(ready.ready && ready.database, "{ready:?}");
    assert_eq!(ready.schema_version, Some(ready.expected_schema_version));
}
