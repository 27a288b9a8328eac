//! Users, sessions and API keys on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

super::id_type! {
    /// A user's id.
    UserId
}

super::id_type! {
    /// An API key's id (not its secret).
    ApiKeyId
}

/// What a user is on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A citizen who finds professionals and pays.
    Customer,
    /// A doctor, lawyer, craftsman... listed in the directory.
    Professional,
    /// A business that takes payments.
    Merchant,
    /// An operator; cannot be self-registered.
    Admin,
}

impl Role {
    /// The role's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Professional => "professional",
            Role::Merchant => "merchant",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Role::Customer,
            Role::Professional,
            Role::Merchant,
            Role::Admin,
        ]
        .into_iter()
        .find(|role| role.as_str() == name)
    }
}

/// `POST /api/v1/auth/register`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// Unique, case-insensitive.
    #[cfg_attr(feature = "openapi", schema(example = "amina@example.dz"))]
    pub email: String,
    /// 10..=128 characters.
    #[cfg_attr(feature = "openapi", schema(example = "une phrase de passe"))]
    pub password: String,
    /// The name shown to others.
    #[cfg_attr(feature = "openapi", schema(example = "Amina Benali"))]
    pub full_name: String,
    /// Optional; Algerian numbers may be written nationally (`0550 12 34 56`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "0550 12 34 56"))]
    pub phone: Option<String>,
    /// `customer`, `professional` or `merchant`.
    pub role: Role,
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("full_name", &self.full_name)
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("role", &self.role)
            .finish()
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The account's email, any case.
    #[cfg_attr(feature = "openapi", schema(example = "amina@example.dz"))]
    pub email: String,
    /// The password.
    #[cfg_attr(feature = "openapi", schema(example = "une phrase de passe"))]
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// The user's id.
    pub id: UserId,
    /// Lower-cased email.
    pub email: String,
    /// The name shown to others.
    pub full_name: String,
    /// E.164 (`+213550123456`), if given.
    pub phone: Option<String>,
    /// What the user is on the platform.
    pub role: Role,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The answer to a registration or a login: a bearer token and who it is for.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthSession {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops being accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The authenticated user.
    pub user: UserView,
}

impl fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSession")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish()
    }
}

/// `POST /api/v1/api-keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiKeyRequest {
    /// A label for the key's owner to recognise it (`"POS terminal 3"`), 1..=100 characters.
    #[cfg_attr(feature = "openapi", schema(example = "Caisse 1"))]
    pub name: String,
}

/// A newly created API key: the only time its secret is shown.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyCreated {
    /// The secret, to send as `Authorization: Bearer <key>`; stored only as a hash.
    pub key: String,
    /// The key's description.
    #[serde(flatten)]
    pub api_key: ApiKeyView,
}

impl fmt::Debug for ApiKeyCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyCreated")
            .field("key", &"<redacted>")
            .field("api_key", &self.api_key)
            .finish()
    }
}

/// An API key as its owner sees it later: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    /// The key's id, for revocation.
    pub id: ApiKeyId,
    /// The label given at creation.
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last authenticated a request, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}
