//! The OpenAPI 3.1 document, generated from the code: component schemas from the `api` types
//! (utoipa derives), operations from the route table ([`Route::operation`]), error codes from
//! core's and the transport's lists. Nothing is written by hand, so nothing can drift.

use contacto_core::api::{
    ApiErrorBody, ApiKeyCreated, ApiKeyView, AuthSession, BalanceAt, BulkTransferRequest,
    BulkTransferResponse, BulkTransferResult, CaptureRequest, Category, CategoryRef,
    CreateApiKeyRequest, DepositMethod, DepositRequest, DepositStatus, DepositView, DepositWebhook,
    EntryView, Health, HistoryItem, HoldRequest, HoldStatus, HoldView, LoginRequest, MerchantFee,
    OpenWalletRequest, OpeningHours, PaymentRequest, PaymentView, PriceUnit, Professional,
    ProfessionalAdminUpdate, ProfessionalRequest, ProfessionalUpdate, RatingSummary, Readiness,
    ReconciliationReport, RefundRequest, RegisterRequest, ReplyRequest, Review, ReviewPage,
    ReviewReply, ReviewRequest, ReviewSort, Role, SearchFacets, SearchHit, SearchPage, SearchSort,
    Service, ServiceRequest, ServiceUpdate, StatementStats, StatementsReport, TimeRange,
    TransactionKind, TransactionPage, TransactionStatus, TransactionView, TransferRequest,
    UserView, WalletAdminUpdate, WalletMismatch, WalletType, WalletView, Wilaya, WithdrawalRequest,
    WithdrawalStatus, WithdrawalView,
};
use contacto_core::{ERROR_CODES, FieldError};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use crate::error::TRANSPORT_ERROR_CODES;
use crate::operations::{Auth, Body, Operation, RawKind, TAGS};
use crate::routes::{PathKey, Route};

#[derive(OpenApi)]
#[openapi(components(schemas(
    ApiErrorBody,
    ApiKeyCreated,
    ApiKeyView,
    AuthSession,
    CreateApiKeyRequest,
    FieldError,
    Health,
    LoginRequest,
    Readiness,
    RegisterRequest,
    Role,
    UserView,
    OpenWalletRequest,
    WalletType,
    WalletView,
    TransferRequest,
    TransactionKind,
    TransactionView,
    TransactionStatus,
    HistoryItem,
    TransactionPage,
    EntryView,
    DepositMethod,
    DepositRequest,
    DepositStatus,
    DepositView,
    DepositWebhook,
    ReconciliationReport,
    WalletMismatch,
    StatementsReport,
    StatementStats,
    PaymentRequest,
    PaymentView,
    RefundRequest,
    MerchantFee,
    WalletAdminUpdate,
    BalanceAt,
    WithdrawalRequest,
    WithdrawalStatus,
    WithdrawalView,
    HoldRequest,
    HoldStatus,
    HoldView,
    CaptureRequest,
    BulkTransferRequest,
    BulkTransferResult,
    BulkTransferResponse,
    Wilaya,
    Category,
    CategoryRef,
    TimeRange,
    OpeningHours,
    ProfessionalRequest,
    ProfessionalUpdate,
    ProfessionalAdminUpdate,
    RatingSummary,
    PriceUnit,
    ServiceRequest,
    ServiceUpdate,
    Service,
    Professional,
    ReviewRequest,
    ReplyRequest,
    ReviewReply,
    Review,
    ReviewSort,
    ReviewPage,
    SearchSort,
    SearchHit,
    SearchFacets,
    SearchPage,
)))]
struct Schemas;

/// The header every money-moving POST takes (documented here for the operations that use it).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The whole document.
pub fn document() -> Value {
    let mut schemas = serde_json::to_value(Schemas::openapi())
        .ok()
        .and_then(|doc| doc.pointer("/components/schemas").cloned())
        .unwrap_or_else(|| json!({}));
    let mut codes: Vec<&str> = ERROR_CODES
        .iter()
        .chain(TRANSPORT_ERROR_CODES)
        .copied()
        .collect();
    codes.sort_unstable();
    if let Some(code) = schemas.pointer_mut("/ApiErrorBody/properties/code") {
        code["enum"] = json!(codes);
    }
    schemas["ErrorEnvelope"] = json!({
        "type": "object",
        "description": "Every failed response: a stable machine code, a message free of internals, \
                        and details (field errors for VALIDATION_FAILED).",
        "required": ["success", "error"],
        "properties": {
            "success": {"type": "boolean", "const": false},
            "error": {"$ref": "#/components/schemas/ApiErrorBody"}
        }
    });

    let mut paths = Map::new();
    let mut used_errors = std::collections::BTreeSet::new();
    for route in Route::ALL {
        let operation = route.operation();
        used_errors.extend(error_statuses(&operation));
        let item = paths.entry(operation.template).or_insert_with(|| json!({}));
        item[operation.method.as_str().to_lowercase()] = operation_object(&operation);
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Contacto API",
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            "description": "The digital backbone for businesses and professionals in Algeria. \
                            Every JSON answer uses one envelope: `{\"success\": true, \"data\": ...}` \
                            or `{\"success\": false, \"error\": {\"code\", \"message\", \"details\"}}`. \
                            Every response carries an `X-Request-Id`.",
        },
        "servers": [{"url": "/", "description": "this server"}],
        "tags": TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A token from register or login."
                },
                "apiKeyAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`ck_...`), sent as a bearer credential."
                }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": IDEMPOTENCY_KEY_HEADER,
                    "in": "header",
                    "required": true,
                    "description": "1 to 255 printable characters, unique per logical operation and \
                                    caller; a retry with the same key and body returns the original \
                                    answer, byte for byte.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255}
                }
            },
            "responses": error_responses(&used_errors),
        }
    })
}

fn envelope(body: Body) -> Option<Value> {
    let data = match body {
        Body::Json(schema) => json!({"$ref": format!("#/components/schemas/{schema}")}),
        Body::JsonList(schema) => {
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}})
        }
        Body::Raw(..) | Body::Empty => return None,
    };
    Some(json!({
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"type": "boolean", "const": true}, "data": data}
    }))
}

fn operation_object(operation: &Operation) -> Value {
    let (status, body) = operation.success;
    let success = match body {
        Body::Empty => json!({"description": "Done; no body."}),
        Body::Raw(media, kind) => {
            let schema = match kind {
                RawKind::Text => json!({"type": "string"}),
                RawKind::JsonObject => json!({"type": "object"}),
            };
            let content: Map<String, Value> = media
                .iter()
                .map(|m| ((*m).to_owned(), json!({"schema": schema})))
                .collect();
            json!({"description": "The document.", "content": content})
        }
        Body::Json(_) | Body::JsonList(_) => json!({
            "description": "Success.",
            "content": {"application/json": {"schema": envelope(body)}}
        }),
    };
    let mut responses = Map::new();
    responses.insert(status.to_string(), success);
    for code in error_statuses(operation) {
        responses.insert(
            code.to_string(),
            json!({"$ref": format!("#/components/responses/Error{code}")}),
        );
    }
    let mut object = json!({
        "operationId": operation.id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "responses": responses,
    });
    if let Some(description) = operation.description {
        object["description"] = json!(description);
    }
    object["security"] = match operation.auth {
        Auth::Public => json!([]),
        Auth::Required => json!([{"bearerAuth": []}, {"apiKeyAuth": []}]),
    };
    if let Some(schema) = operation.request {
        object["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
        });
    }
    let mut parameters = path_parameters(operation.template);
    for (name, schema, description, required) in operation.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": required, "description": description,
            "schema": serde_json::from_str::<Value>(schema).unwrap_or_else(|_| json!({}))
        }));
    }
    if operation.idempotent {
        parameters.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
    }
    if operation.id == "depositWebhook" {
        parameters.push(json!({
            "name": "X-Contacto-Signature", "in": "header", "required": true,
            "description": "`sha256=` and the hex HMAC-SHA256 of the raw body under the shared secret.",
            "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}
        }));
    }
    if !parameters.is_empty() {
        object["parameters"] = Value::Array(parameters);
    }
    object
}

/// The error statuses an operation can answer: its own, plus the generic ones.
fn error_statuses(operation: &Operation) -> Vec<u16> {
    let mut errors: Vec<u16> = operation.errors.to_vec();
    errors.push(500);
    if operation.uses_database {
        errors.push(503);
    }
    if operation.request.is_some() {
        errors.extend([400, 408, 413, 415]);
    }
    // A missing or malformed `Idempotency-Key`, with a body or without.
    if operation.idempotent {
        errors.push(400);
    }
    if operation.auth == Auth::Required {
        errors.push(401);
    }
    errors.sort_unstable();
    errors.dedup();
    errors
}

fn path_parameters(template: &str) -> Vec<Value> {
    let mut parameters = Vec::new();
    if template.contains("{id}") {
        parameters.push(json!({
            "name": "id", "in": "path", "required": true,
            "schema": {"type": "string", "format": "uuid"}
        }));
    }
    if template.contains("{slug}") {
        parameters.push(json!({
            "name": "slug", "in": "path", "required": true,
            "description": "a category's slug",
            "schema": {"type": "string", "pattern": PathKey::SLUG_PATTERN, "maxLength": PathKey::MAX_LEN}
        }));
    }
    if template.contains("{id_or_slug}") {
        parameters.push(json!({
            "name": "id_or_slug", "in": "path", "required": true,
            "description": "a professional's id or slug (never `me`, which is the caller's own profile)",
            "schema": {"type": "string", "pattern": PathKey::PROFESSIONAL_PATTERN, "maxLength": PathKey::MAX_LEN}
        }));
    }
    if template.contains("{asset}") {
        parameters.push(json!({
            "name": "asset", "in": "path", "required": true,
            "schema": {"type": "string", "enum": ["swagger-ui-bundle.js", "swagger-ui.css"]}
        }));
    }
    parameters
}

/// An error status: its description, an example code, and the header it carries, if any.
type ErrorStatus = (
    u16,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// One reusable response per error status in use, with the headers the status carries.
fn error_responses(used: &std::collections::BTreeSet<u16>) -> Value {
    let statuses: [ErrorStatus; 12] = [
        (
            400,
            "Invalid input: malformed JSON, or fields that break their rules.",
            "VALIDATION_FAILED",
            None,
        ),
        (
            401,
            "Missing, invalid, expired or revoked credentials.",
            "UNAUTHENTICATED",
            Some(("WWW-Authenticate", "`Bearer realm=\"contacto\"`")),
        ),
        (
            403,
            "Authenticated, but not allowed to do this.",
            "FORBIDDEN",
            None,
        ),
        (
            404,
            "No such resource, or not visible to the caller.",
            "NOT_FOUND",
            None,
        ),
        (
            405,
            "The path exists; the method does not.",
            "METHOD_NOT_ALLOWED",
            Some(("Allow", "The methods the path takes.")),
        ),
        (
            408,
            "The request body did not arrive in time.",
            "REQUEST_TIMEOUT",
            None,
        ),
        (
            409,
            "The request clashes with the current state.",
            "EMAIL_TAKEN",
            None,
        ),
        (
            413,
            "The request body is over the configured cap.",
            "PAYLOAD_TOO_LARGE",
            None,
        ),
        (
            415,
            "The request body is not declared as JSON.",
            "UNSUPPORTED_MEDIA_TYPE",
            None,
        ),
        (
            429,
            "Too many attempts.",
            "RATE_LIMITED",
            Some(("Retry-After", "Seconds until an attempt may succeed.")),
        ),
        (
            500,
            "A bug; the body carries no internals.",
            "INTERNAL",
            None,
        ),
        (
            503,
            "The database is unreachable or overloaded; retry later.",
            "SERVICE_UNAVAILABLE",
            None,
        ),
    ];
    let mut responses = Map::new();
    for (status, description, example_code, header) in statuses {
        if !used.contains(&status) {
            continue;
        }
        let mut response = json!({
            "description": description,
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {"success": false, "error": {"code": example_code, "message": description}}
            }}
        });
        if let Some((name, header_description)) = header {
            response["headers"] =
                json!({name: {"description": header_description, "schema": {"type": "string"}}});
        }
        responses.insert(format!("Error{status}"), response);
    }
    Value::Object(responses)
}
