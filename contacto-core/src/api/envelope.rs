//! The response envelope of the platform's API guidelines.

use serde::{Deserialize, Serialize};

/// `{"success": true, "data": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiSuccess<T> {
    /// Always `true`.
    pub success: bool,
    /// The payload.
    pub data: T,
}

impl<T> ApiSuccess<T> {
    /// Wraps a payload.
    pub fn new(data: T) -> Self {
        Self {
            success: true,
            data,
        }
    }
}

/// `{"success": false, "error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiFailure {
    /// Always `false`.
    pub success: bool,
    /// What went wrong.
    pub error: ApiErrorBody,
}

/// The error object of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// A stable machine code (`EMAIL_TAKEN`).
    pub code: String,
    /// A human-readable message, free of internals.
    pub message: String,
    /// Structured details: for validation errors, `{"fields": [{"field", "code", "message"}]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// `GET /health`: the process is up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// `GET /ready`: the database is reachable and its schema current.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// Whether the instance can serve requests.
    pub ready: bool,
    /// Whether the database answered.
    pub database: bool,
    /// The newest migration applied to the database, if any.
    pub schema_version: Option<i64>,
    /// The newest migration this build knows.
    pub expected_schema_version: i64,
}
