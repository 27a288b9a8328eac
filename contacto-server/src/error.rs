//! Errors as the HTTP API reports them: one status per kind, the envelope, and the headers some
//! statuses require.

use contacto_core::{Error, ErrorKind};
use http::{Method, StatusCode};
use serde_json::json;

use crate::routes::RouteError;

/// Everything a request can fail with: core's errors plus the transport's own.
#[derive(Debug)]
pub enum ApiError {
    /// A domain error from core.
    Core(Error),
    /// No such path.
    RouteNotFound,
    /// The path exists; the method does not.
    MethodNotAllowed(&'static [Method]),
    /// The body is larger than the configured cap.
    PayloadTooLarge {
        /// The cap in bytes.
        limit_bytes: usize,
    },
    /// The body is not declared as JSON.
    UnsupportedMediaType,
    /// The body is not well-formed JSON.
    MalformedJson(String),
    /// The body could not be read.
    BodyUnreadable,
    /// The body did not arrive in time.
    RequestTimeout,
    /// `/ready` when the instance cannot serve; the details say why.
    NotReady(contacto_core::api::Readiness),
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        ApiError::Core(err)
    }
}

impl From<RouteError> for ApiError {
    fn from(err: RouteError) -> Self {
        match err {
            RouteError::NotFound => ApiError::RouteNotFound,
            RouteError::MethodNotAllowed(allowed) => ApiError::MethodNotAllowed(allowed),
        }
    }
}

/// Codes the transport adds to core's [`contacto_core::ERROR_CODES`].
pub const TRANSPORT_ERROR_CODES: &[&str] = &[
    "ROUTE_NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "MALFORMED_JSON",
    "BODY_UNREADABLE",
    "REQUEST_TIMEOUT",
    "NOT_READY",
];

impl ApiError {
    /// The HTTP status. Adding an [`ErrorKind`] breaks the build here, on purpose.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Core(err) => match err.kind() {
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::Invalid => StatusCode::BAD_REQUEST,
                ErrorKind::Conflict => StatusCode::CONFLICT,
                ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MalformedJson(_) | ApiError::BodyUnreadable => StatusCode::BAD_REQUEST,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Core(err) => err.code(),
            ApiError::RouteNotFound => "ROUTE_NOT_FOUND",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::MalformedJson(_) => "MALFORMED_JSON",
            ApiError::BodyUnreadable => "BODY_UNREADABLE",
            ApiError::RequestTimeout => "REQUEST_TIMEOUT",
            ApiError::NotReady(_) => "NOT_READY",
        }
    }

    /// The message for the caller; never internals.
    pub fn message(&self) -> String {
        match self {
            ApiError::Core(err) => err.public_message(),
            ApiError::RouteNotFound => "no such resource".to_owned(),
            ApiError::MethodNotAllowed(_) => {
                "this resource does not support that method".to_owned()
            }
            ApiError::PayloadTooLarge { limit_bytes } => {
                format!("the request body exceeds {limit_bytes} bytes")
            }
            ApiError::UnsupportedMediaType => {
                "send the body as JSON with `Content-Type: application/json`".to_owned()
            }
            ApiError::MalformedJson(detail) => format!("the body is not valid JSON: {detail}"),
            ApiError::BodyUnreadable => "the request body could not be read".to_owned(),
            ApiError::RequestTimeout => "the request body did not arrive in time".to_owned(),
            ApiError::NotReady(readiness) if !readiness.database => {
                "the database is unreachable".to_owned()
            }
            ApiError::NotReady(_) => {
                "the database schema is not up to date: run `contacto-server migrate`".to_owned()
            }
        }
    }

    /// The envelope's `details`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            ApiError::Core(err) => err.field_errors().map(|fields| json!({ "fields": fields })),
            ApiError::MethodNotAllowed(allowed) => {
                let allowed: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                Some(json!({ "allowed_methods": allowed }))
            }
            ApiError::PayloadTooLarge { limit_bytes } => {
                Some(json!({ "limit_bytes": limit_bytes }))
            }
            ApiError::NotReady(readiness) => serde_json::to_value(readiness).ok(),
            ApiError::RouteNotFound
            | ApiError::UnsupportedMediaType
            | ApiError::MalformedJson(_)
            | ApiError::BodyUnreadable
            | ApiError::RequestTimeout => None,
        }
    }

    /// The underlying core error, for logging its source chain.
    pub fn core(&self) -> Option<&Error> {
        match self {
            ApiError::Core(err) => Some(err),
            _ => None,
        }
    }
}

/// `err` and every `source()` below it, one per line: logged once where a 5xx response is built.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut chain = err.to_string();
    let mut current = err.source();
    while let Some(cause) = current {
        chain.push_str("\n  caused by: ");
        chain.push_str(&cause.to_string());
        current = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_its_status() {
        let cases = [
            (Error::EmailTaken, StatusCode::CONFLICT),
            (Error::InvalidCredentials, StatusCode::UNAUTHORIZED),
            (Error::NotFound { resource: "x" }, StatusCode::NOT_FOUND),
            (Error::Forbidden { action: "x" }, StatusCode::FORBIDDEN),
            (
                Error::RateLimited {
                    retry_after_secs: 3,
                },
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (Error::SchemaOutdated, StatusCode::SERVICE_UNAVAILABLE),
            (Error::invalid("f", "c", "m"), StatusCode::BAD_REQUEST),
            (Error::internal("x", "y"), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::Core(err).status(), status);
        }
    }

    #[test]
    fn validation_errors_carry_their_fields() {
        let err = ApiError::Core(Error::invalid("email", "invalid_format", "bad"));
        let details = err.details().unwrap();
        assert_eq!(details["fields"][0]["field"], "email");
        assert_eq!(details["fields"][0]["code"], "invalid_format");
    }

    #[test]
    fn the_chain_lists_every_cause() {
        let io = std::io::Error::other("disk on fire");
        let err = Error::internal("writing", io);
        assert!(error_chain(&err).contains("disk on fire"));
    }
}
