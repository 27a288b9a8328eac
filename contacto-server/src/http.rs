//! Decoding requests and encoding replies in the API's envelope.

use bytes::Bytes;
use contacto_core::FieldErrors;
use contacto_core::api::{ApiErrorBody, ApiFailure, ApiSuccess};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The response type of every handler.
pub type Response = hyper::Response<Full<Bytes>>;

/// A successful reply: a status and an already-enveloped JSON body (or none, for 204), or a raw
/// document with its media type.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    body: Option<Bytes>,
    content_type: &'static str,
}

impl Reply {
    /// 200 with `{"success": true, "data": data}`.
    pub fn ok<T: Serialize>(data: &T) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::OK, data)
    }

    /// 201 with `{"success": true, "data": data}`.
    pub fn created<T: Serialize>(data: &T) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::CREATED, data)
    }

    /// 204 with no body.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            content_type: "application/json",
        }
    }

    /// 200 with a JSON document that is not enveloped (the Postman collection).
    pub fn ok_raw_json<T: Serialize>(document: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(document)
            .map_err(|err| contacto_core::Error::internal("encoding a document", err))?;
        Ok(Self::raw("application/json", body))
    }

    /// 200 with a document that is not enveloped (metrics, OpenAPI, Swagger UI's files).
    pub fn raw(content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body.into()),
            content_type,
        }
    }

    /// `status` with `{"success": true, "data": data}`.
    pub fn with_status<T: Serialize>(status: StatusCode, data: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(&ApiSuccess::new(data))
            .map_err(|err| contacto_core::Error::internal("encoding a response", err))?;
        Ok(Self {
            status,
            body: Some(Bytes::from(body)),
            content_type: "application/json",
        })
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        let mut response = hyper::Response::new(Full::new(self.body.clone().unwrap_or_default()));
        *response.status_mut() = self.status;
        if self.body.is_some() {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        }
        response
    }
}

/// The error envelope, with `Allow`, `WWW-Authenticate` or `Retry-After` where the status needs it.
pub fn error_response(err: &ApiError) -> Response {
    let body = ApiFailure {
        success: false,
        error: ApiErrorBody {
            code: err.code().to_owned(),
            message: err.message(),
            details: err.details(),
        },
    };
    // Serialising plain strings and JSON values cannot fail; an empty body would still carry the
    // status.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = hyper::Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = err.status();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    match err {
        ApiError::MethodNotAllowed(allowed) => {
            let allow: Vec<&str> = allowed.iter().map(http::Method::as_str).collect();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(http::header::ALLOW, value);
            }
        }
        ApiError::Core(core) => {
            if err.status() == StatusCode::UNAUTHORIZED {
                headers.insert(
                    http::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"contacto\""),
                );
            }
            if let Some(secs) = core.retry_after_secs() {
                headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        _ => {}
    }
    response
}

/// Reads a JSON body of at most `limit_bytes` and decodes it, naming the field at fault.
///
/// # Errors
///
/// 415 when the body is not declared as JSON, 413 past the cap, 400 for malformed JSON, and a
/// validation error naming the field for missing fields and wrong types.
pub async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Incoming,
    limit_bytes: usize,
    timeout: std::time::Duration,
) -> Result<T, ApiError> {
    let bytes = raw_json_body(headers, body, limit_bytes, timeout).await?;
    decode_json(&bytes)
}

/// Reads a JSON body of at most `limit_bytes` without decoding it (a signed webhook is verified
/// over its raw bytes).
///
/// # Errors
///
/// 415 when the body is not declared as JSON, 413 past the cap, 408 when it is too slow.
pub async fn raw_json_body(
    headers: &HeaderMap,
    body: Incoming,
    limit_bytes: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refuse early when the client announces too much; `Limited` catches chunked bodies.
    if declared.is_some_and(|len| len > limit_bytes as u64) {
        return Err(ApiError::PayloadTooLarge { limit_bytes });
    }
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit_bytes).collect())
        .await
        .map_err(|_| ApiError::RequestTimeout)?;
    let bytes = collected
        .map_err(|err| {
            if err.is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge { limit_bytes }
            } else {
                ApiError::BodyUnreadable
            }
        })?
        .to_bytes();
    Ok(bytes)
}

/// Decodes JSON, naming the field at fault for type and presence errors. Every request body of
/// the API is a JSON object (serde would otherwise also accept a struct written as an array).
///
/// # Errors
///
/// As [`json_body`].
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::Core(contacto_core::Error::invalid(
            "body",
            "invalid_type",
            "the body must be a JSON object",
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                // serde reports a missing field at its parent's path, naming it in the message.
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next());
                let field = match (missing, path.as_str()) {
                    (Some(name), ".") => name.to_owned(),
                    (Some(name), parent) => format!("{parent}.{name}"),
                    (None, ".") => "body".to_owned(),
                    (None, _) => path,
                };
                let code = if missing.is_some() {
                    "required"
                } else {
                    "invalid_type"
                };
                let mut errors = FieldErrors::new();
                errors.push(contacto_core::FieldError::new(
                    &field,
                    code,
                    strip_position(&inner),
                ));
                ApiError::Core(contacto_core::Error::Validation(errors))
            }
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })?;
    deserializer
        .end()
        .map_err(|err| ApiError::MalformedJson(err.to_string()))?;
    Ok(value)
}

/// serde_json's message without its "at line 1 column 7" suffix, which means nothing per field.
fn strip_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.len() > 5
                    && mime.to_ascii_lowercase().starts_with("application/")
                    && mime.to_ascii_lowercase().ends_with("+json"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use contacto_core::api::LoginRequest;

    fn field_of(err: ApiError) -> (String, String) {
        let ApiError::Core(core) = err else {
            panic!("expected a validation error, got {err:?}");
        };
        let field = &core.field_errors().unwrap()[0];
        (field.field.clone(), field.code.clone())
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let cases = [
            (r#"{"email": "a@b.dz"}"#, "password", "required"),
            (r#"{"email": 5, "password": "x"}"#, "email", "invalid_type"),
            (r#"[]"#, "body", "invalid_type"),
        ];
        for (json, field, code) in cases {
            let err = decode_json::<LoginRequest>(json.as_bytes()).unwrap_err();
            assert_eq!(field_of(err), (field.to_owned(), code.to_owned()), "{json}");
        }
    }

    #[test]
    fn malformed_json_is_its_own_error() {
        for json in [
            "{",
            "{\"email\": }",
            "",
            r#"{"email": "a", "password": "b"} trailing"#,
        ] {
            let err = decode_json::<LoginRequest>(json.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "MALFORMED_JSON", "{json:?}");
        }
    }

    #[test]
    fn json_content_types_are_recognised() {
        let cases = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ];
        for (value, json) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json(&headers), json, "{value}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
