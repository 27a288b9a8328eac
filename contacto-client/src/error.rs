//! The client's error: the server's classification, or what kept the request from reaching it.

use std::time::Duration;

use crate::ErrorCode;

/// What a call can fail with.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error envelope.
    #[error("{status} {code}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable machine code (`INSUFFICIENT_FUNDS`).
        code: String,
        /// The server's message.
        message: String,
        /// Structured details (field errors, allowed methods).
        details: Option<serde_json::Value>,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The request did not complete: connection refused or reset, timeout.
    #[error("request to {url} failed: {source}")]
    Transport {
        /// The URL called.
        url: String,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered something that is not the API's envelope.
    #[error("unexpected response from {url} ({status}): {detail}")]
    Decode {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What did not fit.
        detail: String,
    },
    /// The builder was given something unusable.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A call was given an argument that cannot be sent as it is (nothing was sent): a path
    /// segment that is empty, `.` or `..`, which every URL parser folds into its neighbours, so
    /// that another resource would be called.
    #[error("invalid argument: {0}")]
    Argument(String),
}

impl Error {
    /// The server's machine code, when the server answered with an error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's machine code as a type, when the server answered with an error whose code
    /// this client knows: `matches!(err.error_code(), Some(ErrorCode::InsufficientFunds))`.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code().and_then(ErrorCode::parse)
    }

    /// Whether the server answered with `code`: `err.is(ErrorCode::RateLimited)`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code() == Some(code.as_str())
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (`Retry-After` of a 429 or 503),
    /// when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request timed out (the client's timeout or its connect timeout): the server
    /// may have acted on it, so only a call under an idempotency key is safe to make again.
    pub fn is_timeout(&self) -> bool {
        self.transport().is_some_and(reqwest::Error::is_timeout)
    }

    /// Whether the server could not be reached at all (nothing was sent).
    pub fn is_connect(&self) -> bool {
        self.transport().is_some_and(reqwest::Error::is_connect)
    }

    fn transport(&self) -> Option<&reqwest::Error> {
        match self {
            Error::Transport { source, .. } => source.downcast_ref::<reqwest::Error>(),
            _ => None,
        }
    }

    /// The names of the fields a validation error is about.
    pub fn invalid_fields(&self) -> Vec<String> {
        let Error::Api {
            details: Some(details),
            ..
        } = self
        else {
            return Vec::new();
        };
        details["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
