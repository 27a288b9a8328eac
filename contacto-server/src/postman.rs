//! A Postman collection (v2.1) generated from the OpenAPI document and the route table: a folder
//! per tag, `{{baseUrl}}` and `{{token}}` variables, example bodies from the schemas, and test
//! scripts that chain a smoke flow (register, log in, use the token, create and revoke a key, move
//! money, then a professional's profile, service and review answered).

use serde_json::{Map, Value, json};

use crate::operations::{Auth, Operation, TAGS};
use crate::routes::{PathKey, Route};

/// The collection, with `base_url` as the default of its `baseUrl` variable.
pub fn collection(document: &Value, base_url: &str) -> Value {
    let folders: Vec<Value> = TAGS
        .iter()
        .map(|(tag, description)| {
            let items: Vec<Value> = Route::ALL
                .iter()
                .map(Route::operation)
                .filter(|operation| operation.tag == *tag)
                .map(|operation| item(document, &operation))
                .collect();
            json!({"name": tag, "description": description, "item": items})
        })
        .collect();
    json!({
        "info": {
            "name": "Contacto API",
            "description": document.pointer("/info/description").cloned().unwrap_or(Value::Null),
            "version": document.pointer("/info/version").cloned().unwrap_or(Value::Null),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "variable": [
            {"key": "baseUrl", "value": base_url, "type": "string"},
            {"key": "token", "value": "", "type": "string"},
            {"key": "email", "value": "amina@example.dz", "type": "string"},
            {"key": "password", "value": "une phrase de passe", "type": "string"},
            {"key": "apiKeyId", "value": "", "type": "string"},
            {"key": "walletId", "value": "", "type": "string"},
            {"key": "peerWalletId", "value": "", "type": "string"},
            {"key": "depositId", "value": "", "type": "string"},
            {"key": "transactionId", "value": "", "type": "string"},
            {"key": "webhookSecret", "value": "", "type": "string"},
            {"key": "paymentId", "value": "", "type": "string"},
            {"key": "withdrawalId", "value": "", "type": "string"},
            {"key": "withdrawalToFailId", "value": "", "type": "string"},
            {"key": "holdId", "value": "", "type": "string"},
            {"key": "holdToVoidId", "value": "", "type": "string"},
            {"key": "merchantId", "value": "", "type": "string"},
            {"key": "merchantToken", "value": "", "type": "string"},
            {"key": "merchantWalletId", "value": "", "type": "string"},
            {"key": "proToken", "value": "", "type": "string"},
            {"key": "professionalId", "value": "", "type": "string"},
            {"key": "professionalSlug", "value": "", "type": "string"},
            {"key": "serviceId", "value": "", "type": "string"},
            {"key": "reviewId", "value": "", "type": "string"},
            {"key": "adminEmail", "value": "", "type": "string"},
            {"key": "adminPassword", "value": "", "type": "string"}
        ],
        "item": folders
    })
}

/// The collection variable a path's `{id}` stands for.
fn id_variable(template: &str) -> &'static str {
    if template.starts_with("/api/v1/api-keys") {
        "{{apiKeyId}}"
    } else if template.starts_with("/api/v1/wallets") {
        "{{walletId}}"
    } else if template.starts_with("/api/v1/transactions") {
        "{{transactionId}}"
    } else if template.starts_with("/api/v1/payments") {
        "{{paymentId}}"
    } else if template.ends_with("/void") {
        "{{holdToVoidId}}"
    } else if template.starts_with("/api/v1/holds") {
        "{{holdId}}"
    } else if template.ends_with("/fail") {
        "{{withdrawalToFailId}}"
    } else if template.contains("withdrawals") {
        "{{withdrawalId}}"
    } else if template.starts_with("/api/v1/admin/wallets") {
        "{{walletId}}"
    } else if template.starts_with("/api/v1/admin/merchants") {
        "{{merchantId}}"
    } else if template.starts_with("/api/v1/admin/professionals") {
        "{{professionalId}}"
    } else if template.starts_with("/api/v1/professionals/me/services") {
        "{{serviceId}}"
    } else if template.starts_with("/api/v1/reviews") {
        "{{reviewId}}"
    } else {
        "{{depositId}}"
    }
}

/// Body fields filled from collection variables, so the smoke flow chains.
const BODY_VARIABLES: &[(&str, &str)] = &[
    ("email", "{{email}}"),
    ("password", "{{password}}"),
    ("wallet_id", "{{walletId}}"),
    ("from_wallet_id", "{{walletId}}"),
    ("to_wallet_id", "{{peerWalletId}}"),
    ("deposit_id", "{{depositId}}"),
    ("payer_wallet_id", "{{walletId}}"),
    ("merchant_wallet_id", "{{merchantWalletId}}"),
    ("rib", "00200123456789012354"),
    ("payee_wallet_id", "{{peerWalletId}}"),
    ("status", "succeeded"),
    // A category that exists (the schema's example is only illustrative).
    ("category", "plombier"),
];

/// Operations the smoke flow's professional calls, with the token its set-up stored.
const PROFESSIONAL_OPERATIONS: &[&str] = &[
    "createProfessional",
    "myProfessional",
    "updateMyProfessional",
    "addService",
    "updateService",
    "removeService",
    "replyToReview",
];

fn item(document: &Value, operation: &Operation) -> Value {
    let path = operation
        .template
        .replace("{id}", id_variable(operation.template))
        .replace("{asset}", "swagger-ui.css")
        .replace("{slug}", PathKey::EXAMPLE.as_str())
        .replace("{id_or_slug}", "{{professionalSlug}}");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Required query parameters get a value: the only one today is a moment, and now is one.
    // Optional ones are listed disabled, with what they do, for a reader to switch on.
    let query: Vec<Value> = operation
        .query
        .iter()
        .map(|(name, _, description, required)| {
            if *required {
                json!({"key": name, "value": "{{$isoTimestamp}}"})
            } else {
                json!({"key": name, "value": "", "description": description, "disabled": true})
            }
        })
        .collect();
    let raw_query: Vec<String> = operation
        .query
        .iter()
        .filter(|(_, _, _, required)| *required)
        .map(|(name, ..)| format!("{name}={{{{$isoTimestamp}}}}"))
        .collect();
    let raw = if raw_query.is_empty() {
        format!("{{{{baseUrl}}}}{path}")
    } else {
        format!("{{{{baseUrl}}}}{path}?{}", raw_query.join("&"))
    };
    let mut request = json!({
        "method": operation.method.as_str(),
        "header": [],
        "url": {"raw": raw, "host": ["{{baseUrl}}"], "path": segments, "query": query},
        "description": operation.summary,
    });
    if operation.auth == Auth::Public {
        request["auth"] = json!({"type": "noauth"});
    }
    if operation.id == "refund" {
        // Refunds are the merchant's to give.
        request["auth"] = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{merchantToken}}", "type": "string"}]});
    }
    if PROFESSIONAL_OPERATIONS.contains(&operation.id) {
        request["auth"] = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{proToken}}", "type": "string"}]});
    }
    if operation.tag == "admin" {
        // Set by the pre-request script, which logs in as the administrator.
        request["auth"] = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{adminToken}}", "type": "string"}]});
    }
    if let Some(schema) = operation.request {
        let mut body = example(document, schema);
        if let Some(fields) = body.as_object_mut() {
            for (field, variable) in BODY_VARIABLES {
                if fields.contains_key(*field) {
                    fields.insert((*field).to_owned(), json!(variable));
                }
            }
        }
        // Values the schemas' generic examples get wrong: a rating is 1 to 5, a reply says
        // something, and an administrator verifies.
        match schema {
            "ReviewRequest" => body["overall_rating"] = json!(5),
            "ReplyRequest" => body["text"] = json!("Merci pour votre avis."),
            "ProfessionalAdminUpdate" => body["verified"] = json!(true),
            _ => {}
        }
        if operation.id == "transferBulk" {
            body = json!({"transfers": [
                {"from_wallet_id": "{{walletId}}", "to_wallet_id": "{{peerWalletId}}", "amount": 100},
                {"from_wallet_id": "{{walletId}}", "to_wallet_id": "{{peerWalletId}}", "amount": 200}
            ], "atomic": false});
        }
        request["header"] = json!([{"key": "Content-Type", "value": "application/json"}]);
        request["body"] = json!({
            "mode": "raw",
            "raw": serde_json::to_string_pretty(&body).unwrap_or_default(),
            "options": {"raw": {"language": "json"}}
        });
    }
    // Money-moving POSTs, with a body or without (a void, a withdrawal's settlement).
    if operation.idempotent
        && let Some(headers) = request["header"].as_array_mut()
    {
        headers.push(json!({"key": "Idempotency-Key", "value": "{{$guid}}"}));
    }
    let mut events = vec![script("test", &tests(operation))];
    let setup = prerequest(operation.id);
    if !setup.is_empty() {
        events.push(script("prerequest", setup));
    }
    json!({"name": operation.summary, "request": request, "event": events})
}

/// Scripts that prepare what an operation of the smoke flow needs.
fn prerequest(operation_id: &str) -> &'static [&'static str] {
    match operation_id {
        "register" => &[
            "pm.collectionVariables.set('email', 'smoke.' + Date.now() + '.' + Math.floor(Math.random() * 1e6) + '@example.dz');",
            "pm.collectionVariables.set('password', 'une phrase de passe longue');",
        ],
        // The provider signs the raw body with the shared secret (`webhookSecret`).
        "depositWebhook" => &[
            "const body = pm.variables.replaceIn(pm.request.body.raw);",
            "const signature = CryptoJS.HmacSHA256(body, pm.variables.get('webhookSecret')).toString(CryptoJS.enc.Hex);",
            "pm.request.headers.upsert({ key: 'X-Contacto-Signature', value: 'sha256=' + signature });",
        ],
        // A second customer with a wallet to receive the transfer.
        "transfer" => &[
            "const base = pm.variables.get('baseUrl');",
            "const email = 'peer.' + Date.now() + '.' + Math.floor(Math.random() * 1e6) + '@example.dz';",
            "pm.sendRequest({ url: base + '/api/v1/auth/register', method: 'POST', header: { 'Content-Type': 'application/json' },",
            "  body: { mode: 'raw', raw: JSON.stringify({ email: email, password: 'une phrase de passe longue', full_name: 'Peer', role: 'customer' }) } },",
            "  function (err, res) {",
            "    pm.sendRequest({ url: base + '/api/v1/wallets', method: 'POST',",
            "      header: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + res.json().data.token },",
            "      body: { mode: 'raw', raw: JSON.stringify({ type: 'personal', currency: 'DZD' }) } },",
            "      function (err2, wallet) { pm.collectionVariables.set('peerWalletId', wallet.json().data.id); });",
            "  });",
        ],
        // A merchant with a business wallet to pay.
        "pay" => &[
            "const base = pm.variables.get('baseUrl');",
            "const email = 'shop.' + Date.now() + '.' + Math.floor(Math.random() * 1e6) + '@example.dz';",
            "pm.sendRequest({ url: base + '/api/v1/auth/register', method: 'POST', header: { 'Content-Type': 'application/json' },",
            "  body: { mode: 'raw', raw: JSON.stringify({ email: email, password: 'une phrase de passe longue', full_name: 'Boutique', role: 'merchant' }) } },",
            "  function (err, res) {",
            "    const merchant = res.json().data;",
            "    pm.collectionVariables.set('merchantToken', merchant.token);",
            "    pm.collectionVariables.set('merchantId', merchant.user.id);",
            "    pm.sendRequest({ url: base + '/api/v1/wallets', method: 'POST',",
            "      header: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + merchant.token },",
            "      body: { mode: 'raw', raw: JSON.stringify({ type: 'business', currency: 'DZD' }) } },",
            "      function (err2, wallet) { pm.collectionVariables.set('merchantWalletId', wallet.json().data.id); });",
            "  });",
        ],
        // Administrators' endpoints: log in as the one named by adminEmail.
        // A second hold to void (the first is captured).
        "void" => &[
            "pm.sendRequest({ url: pm.variables.get('baseUrl') + '/api/v1/holds', method: 'POST',",
            "  header: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + pm.variables.get('token'), 'Idempotency-Key': 'smoke-' + Date.now() + '-' + Math.random() },",
            "  body: { mode: 'raw', raw: JSON.stringify({ payer_wallet_id: pm.variables.get('walletId'), payee_wallet_id: pm.variables.get('peerWalletId'), amount: 100 }) } },",
            "  function (err, res) { pm.collectionVariables.set('holdToVoidId', res.json().data.id); });",
        ],
        // A second withdrawal to fail (the first was completed), then the administrator's login.
        "failWithdrawal" => &[
            "pm.sendRequest({ url: pm.variables.get('baseUrl') + '/api/v1/withdrawals', method: 'POST',",
            "  header: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + pm.variables.get('token'), 'Idempotency-Key': 'smoke-' + Date.now() + '-' + Math.random() },",
            "  body: { mode: 'raw', raw: JSON.stringify({ wallet_id: pm.variables.get('walletId'), amount: 100, rib: '00200123456789012354' }) } },",
            "  function (err, res) { pm.collectionVariables.set('withdrawalToFailId', res.json().data.id); });",
            "pm.sendRequest({ url: pm.variables.get('baseUrl') + '/api/v1/auth/login', method: 'POST',",
            "  header: { 'Content-Type': 'application/json' },",
            "  body: { mode: 'raw', raw: JSON.stringify({ email: pm.variables.get('adminEmail'), password: pm.variables.get('adminPassword') }) } },",
            "  function (err, res) { if (res.code === 200) { pm.variables.set('adminToken', res.json().data.token); } });",
        ],
        // A professional (the smoke customer reviews them; they answer).
        "createProfessional" => &[
            "const email = 'pro.' + Date.now() + '.' + Math.floor(Math.random() * 1e6) + '@example.dz';",
            "pm.sendRequest({ url: pm.variables.get('baseUrl') + '/api/v1/auth/register', method: 'POST', header: { 'Content-Type': 'application/json' },",
            "  body: { mode: 'raw', raw: JSON.stringify({ email: email, password: 'une phrase de passe longue', full_name: 'Karim Benali', role: 'professional' }) } },",
            "  function (err, res) { pm.collectionVariables.set('proToken', res.json().data.token); });",
        ],
        "reconciliation"
        | "setMerchantFee"
        | "administerWallet"
        | "completeWithdrawal"
        | "administerProfessional"
        | "topStatements" => &[
            "pm.sendRequest({ url: pm.variables.get('baseUrl') + '/api/v1/auth/login', method: 'POST',",
            "  header: { 'Content-Type': 'application/json' },",
            "  body: { mode: 'raw', raw: JSON.stringify({ email: pm.variables.get('adminEmail'), password: pm.variables.get('adminPassword') }) } },",
            "  function (err, res) { if (res.code === 200) { pm.variables.set('adminToken', res.json().data.token); } });",
        ],
        _ => &[],
    }
}

fn tests(operation: &Operation) -> Vec<String> {
    let status = operation.success.0;
    let mut lines = vec![format!(
        "pm.test('{} answers {status}', function () {{ pm.response.to.have.status({status}); }});",
        operation.id
    )];
    let store: &[(&str, &str)] = match operation.id {
        "register" | "login" => &[("token", "token")],
        "createApiKey" => &[("apiKeyId", "id")],
        "openWallet" => &[("walletId", "id")],
        "deposit" => &[("depositId", "id")],
        "depositWebhook" => &[("transactionId", "transaction_id")],
        "pay" => &[("paymentId", "id")],
        "withdraw" => &[("withdrawalId", "id")],
        "authorize" => &[("holdId", "id")],
        "createProfessional" => &[("professionalId", "id"), ("professionalSlug", "slug")],
        "addService" => &[("serviceId", "id")],
        "createReview" => &[("reviewId", "id")],
        _ => &[],
    };
    for (variable, field) in store {
        lines.push(format!(
            "if (pm.response.code === {status}) {{ pm.collectionVariables.set('{variable}', pm.response.json().data.{field}); }}"
        ));
    }
    lines
}

fn script(listen: &str, lines: &[impl AsRef<str>]) -> Value {
    let exec: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
    json!({"listen": listen, "script": {"type": "text/javascript", "exec": exec}})
}

/// An example value of a component schema, from the examples the `api` types carry. Optional
/// fields are left out: a fixed value there (a phone number) would make a second run of the
/// collection collide with the first.
fn example(document: &Value, schema_name: &str) -> Value {
    let schema = document
        .pointer(&format!("/components/schemas/{schema_name}"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut value = example_of(document, &schema, 0);
    let required: Vec<Value> = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.retain(|name, _| {
            required.iter().any(|r| r == name)
                || BODY_VARIABLES.iter().any(|(field, _)| field == name)
        });
    }
    value
}

/// Depth-limited, so a recursive schema cannot loop.
fn example_of(document: &Value, schema: &Value, depth: u8) -> Value {
    if depth > 4 {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference.trim_start_matches("#/components/schemas/");
        let resolved = document
            .pointer(&format!("/components/schemas/{target}"))
            .cloned()
            .unwrap_or(Value::Null);
        return example_of(document, &resolved, depth + 1);
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    if let Some(one_of) = schema.get("oneOf").and_then(|o| o.get(0)) {
        return example_of(document, one_of, depth + 1);
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().find(|k| *k != "null").cloned(),
        other => other.cloned(),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), example_of(document, property, depth + 1));
                }
            }
            Value::Object(object)
        }
        Some("array") => json!([]),
        Some("integer" | "number") => json!(0),
        Some("boolean") => json!(false),
        Some("string") => json!(""),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_a_folder_and_the_smoke_flow_is_chained() {
        let collection = collection(&crate::openapi::document(), "http://127.0.0.1:8080");
        let items: Vec<&Value> = collection["item"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|folder| folder["item"].as_array().unwrap())
            .collect();
        assert_eq!(items.len(), Route::ALL.len());
        let register = items
            .iter()
            .find(|i| i["request"]["url"]["raw"] == "{{baseUrl}}/api/v1/auth/register")
            .unwrap();
        let body: Value =
            serde_json::from_str(register["request"]["body"]["raw"].as_str().unwrap()).unwrap();
        assert_eq!(body["email"], "{{email}}");
        assert_eq!(body["role"], "customer");
        assert_eq!(body["full_name"], "Amina Benali");
        let scripts = register["event"].to_string();
        assert!(
            scripts.contains("collectionVariables.set('token'"),
            "{scripts}"
        );
        // Optional query parameters are listed, switched off, and not in the URL sent.
        let history = items
            .iter()
            .find(|i| {
                i["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("history, newest first"))
            })
            .unwrap();
        let url = &history["request"]["url"];
        let status = url["query"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == "status")
            .unwrap();
        assert_eq!(status["disabled"], true);
        assert!(!url["raw"].as_str().unwrap().contains('?'));
    }

    #[test]
    fn the_directory_flow_uses_the_professional_and_valid_bodies() {
        let collection = collection(&crate::openapi::document(), "http://127.0.0.1:8080");
        let folder = collection["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|folder| folder["name"] == "directory")
            .unwrap();
        let find = |method: &str, raw: &str| {
            folder["item"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["request"]["method"] == method && i["request"]["url"]["raw"] == raw)
                .cloned()
                .unwrap_or_else(|| panic!("{method} {raw}"))
        };
        let create = find("POST", "{{baseUrl}}/api/v1/professionals");
        assert_eq!(
            create["request"]["auth"]["bearer"][0]["value"],
            "{{proToken}}"
        );
        let body: Value =
            serde_json::from_str(create["request"]["body"]["raw"].as_str().unwrap()).unwrap();
        assert_eq!(body["category"], "plombier");
        let events = create["event"].to_string();
        assert!(events.contains("role: 'professional'"), "{events}");
        assert!(events.contains("set('professionalSlug'"), "{events}");

        let review = find(
            "POST",
            "{{baseUrl}}/api/v1/professionals/{{professionalSlug}}/reviews",
        );
        assert!(review["request"]["auth"].is_null(), "the customer reviews");
        let body: Value =
            serde_json::from_str(review["request"]["body"]["raw"].as_str().unwrap()).unwrap();
        assert_eq!(body["overall_rating"], 5);
        let reply = find("POST", "{{baseUrl}}/api/v1/reviews/{{reviewId}}/reply");
        assert_eq!(
            reply["request"]["auth"]["bearer"][0]["value"],
            "{{proToken}}"
        );
        let search = find("GET", "{{baseUrl}}/api/v1/professionals");
        assert_eq!(search["request"]["auth"]["type"], "noauth");
    }
}
