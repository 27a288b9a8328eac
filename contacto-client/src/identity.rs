//! Identity calls: `client.identity().register(..)`.

use contacto_core::api::{
    ApiKeyCreated, ApiKeyId, ApiKeyView, AuthSession, CreateApiKeyRequest, LoginRequest,
    RegisterRequest, UserView,
};
use reqwest::Method;

use crate::client::{Call, Client};
use crate::error::Error;

/// Registration, login, the caller's account and API keys.
pub struct IdentityApi<'a> {
    client: &'a Client,
}

impl<'a> IdentityApi<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `POST /api/v1/auth/register`.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED` (see [`Error::invalid_fields`]), `EMAIL_TAKEN`, `PHONE_TAKEN`.
    pub async fn register(&self, request: &RegisterRequest) -> Result<AuthSession, Error> {
        self.client
            .call(Call::new(
                Method::POST,
                "/api/v1/auth/register",
                Some(request),
            ))
            .await
    }

    /// `POST /api/v1/auth/login`.
    ///
    /// # Errors
    ///
    /// `INVALID_CREDENTIALS`, or `RATE_LIMITED` with a `retry_after`.
    pub async fn login(&self, email: &str, password: &str) -> Result<AuthSession, Error> {
        let request = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        self.client
            .call(Call::new(
                Method::POST,
                "/api/v1/auth/login",
                Some(&request),
            ))
            .await
    }

    /// `GET /api/v1/users/me`: the caller's account.
    ///
    /// # Errors
    ///
    /// `UNAUTHENTICATED` without valid credentials.
    pub async fn me(&self) -> Result<UserView, Error> {
        self.client.get("/api/v1/users/me").await
    }

    /// `POST /api/v1/api-keys`: a new key; its secret is in the answer and nowhere else.
    ///
    /// # Errors
    ///
    /// `UNAUTHENTICATED`, `FORBIDDEN` (with an API key), `VALIDATION_FAILED`, `QUOTA_EXCEEDED`.
    pub async fn create_api_key(&self, name: &str) -> Result<ApiKeyCreated, Error> {
        let request = CreateApiKeyRequest {
            name: name.to_owned(),
        };
        self.client
            .call(Call::new(Method::POST, "/api/v1/api-keys", Some(&request)))
            .await
    }

    /// `GET /api/v1/api-keys`: the caller's active keys, without secrets.
    ///
    /// # Errors
    ///
    /// `UNAUTHENTICATED`.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyView>, Error> {
        self.client.get("/api/v1/api-keys").await
    }

    /// `DELETE /api/v1/api-keys/{id}`: revokes a key at once.
    ///
    /// # Errors
    ///
    /// `UNAUTHENTICATED`, `NOT_FOUND` (not the caller's active key).
    pub async fn revoke_api_key(&self, id: ApiKeyId) -> Result<(), Error> {
        let path = format!("/api/v1/api-keys/{id}");
        self.client
            .call(Call::<()>::new(Method::DELETE, &path, None))
            .await
    }
}
