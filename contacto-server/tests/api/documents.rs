//! The API's documents: OpenAPI (pinned by a snapshot), Postman, Swagger UI.

use serde_json::Value;

use crate::helpers::spawn_app;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

/// Every change to the document shows in review as a change to the snapshot. After an intended
/// change, refresh it with `UPDATE_SNAPSHOTS=1 cargo test -p contacto-server --test api documents`.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let current =
        serde_json::to_string_pretty(&contacto_server::openapi::document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &current).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        pinned == current,
        "the OpenAPI document changed; review the diff and refresh the snapshot with \
         UPDATE_SNAPSHOTS=1 cargo test -p contacto-server --test api documents"
    );
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_lists_every_error_code() {
    let app = spawn_app().await;
    let document: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let codes = document
        .pointer("/components/schemas/ApiErrorBody/properties/code/enum")
        .and_then(Value::as_array)
        .unwrap();
    for code in contacto_core::ERROR_CODES
        .iter()
        .chain(contacto_server::error::TRANSPORT_ERROR_CODES)
    {
        assert!(codes.iter().any(|c| c == code), "{code} is not documented");
    }
    // The client types every code the server documents, and no other.
    let documented: Vec<&str> = codes.iter().filter_map(Value::as_str).collect();
    for code in &documented {
        assert!(
            contacto_client::ErrorCode::parse(code).is_some(),
            "{code} has no contacto_client::ErrorCode"
        );
    }
    for code in contacto_client::ErrorCode::ALL {
        assert!(documented.contains(&code.as_str()), "{code} is not served");
    }
    let statuses: Vec<&str> =
        document["paths"]["/api/v1/wallets/{id}/transactions"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "status")
            .and_then(|p| p["schema"]["enum"].as_array())
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
    let named: Vec<&str> = contacto_client::api::HistoryStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(statuses, named, "the history's status values as served");
    let login = &document["paths"]["/api/v1/auth/login"]["post"];
    assert!(login["responses"]["429"].is_object());
    assert_eq!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginRequest"
    );
    let me = &document["paths"]["/api/v1/users/me"]["get"];
    assert_eq!(me["security"][0]["bearerAuth"], serde_json::json!([]));
    assert!(
        document
            .pointer("/components/securitySchemes/apiKeyAuth")
            .is_some()
    );
    assert!(
        document
            .pointer("/components/parameters/IdempotencyKey")
            .is_some()
    );
}

#[tokio::test]
async fn swagger_ui_is_served_offline_from_the_binary() {
    let app = spawn_app().await;
    let page = reqwest::get(app.url("/docs")).await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    for needle in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/api/v1/openapi.json",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no off-box URL in the page"
    );
    let bundle = reqwest::get(app.url("/docs/swagger-ui-bundle.js"))
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let missing = reqwest::get(app.url("/docs/other.js")).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_postman_collection_is_v2_1_with_the_servers_address() {
    let app = spawn_app().await;
    let collection: Value = reqwest::get(app.url("/api/v1/postman.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        collection["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    assert_eq!(collection["variable"][0]["key"], "baseUrl");
    assert_eq!(
        collection["variable"][0]["value"],
        format!("http://{}", app.address)
    );
    let folders: Vec<&str> = collection["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        folders,
        [
            "system",
            "auth",
            "users",
            "api-keys",
            "wallets",
            "money",
            "history",
            "directory",
            "admin"
        ]
    );
}
