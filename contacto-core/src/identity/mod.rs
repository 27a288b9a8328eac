//! Identity and access: accounts, passwords, bearer tokens, API keys and login throttling.

mod model;
mod password;
pub(crate) mod store;
pub(crate) mod token;

use std::future::Future;
use std::net::IpAddr;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub(crate) use password::Hasher;
pub(crate) use token::TokenKeys;

use self::model::Email;
use self::store::{NewUser, ThrottleScope};
use self::token::TokenSubject;
use crate::Contacto;
use crate::api::{
    ApiKeyCreated, ApiKeyId, ApiKeyView, AuthSession, CreateApiKeyRequest, LoginRequest,
    RegisterRequest, Role, UserId, UserView,
};
use crate::error::{Error, FieldError, FieldErrors, Result};

/// Most active API keys one user may hold: enough for every terminal of a large shop, small
/// enough that a leaked token cannot mint keys without bound.
pub const MAX_ACTIVE_API_KEYS: u32 = 50;

/// Prefix of every API key's secret; tells keys from JWTs and makes leaked keys easy to scan for.
pub const API_KEY_PREFIX: &str = "ck_";

/// Random bytes in an API key's secret.
const API_KEY_SECRET_BYTES: usize = 32;

/// Characters of the secret kept in clear to tell keys apart (`ck_` plus 8 hex digits).
const API_KEY_SHOWN_CHARS: usize = API_KEY_PREFIX.len() + 8;

/// Who is asking: the authenticated user and the credential they used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their role when the credential was checked.
    pub role: Role,
    /// How they proved it.
    pub credential: Credential,
}

/// How many times an account's per-address limit of failures, counted over every address
/// together, locks the account for everyone: guessing spread over many addresses is still
/// bounded, while one address (its own limit is lower) cannot lock anybody else out.
pub(crate) const ACCOUNT_WIDE_FACTOR: u32 = 10;

/// A kind of credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token from a login.
    Token,
    /// An API key.
    ApiKey(ApiKeyId),
}

/// A phone number in E.164 form, as accounts store it (for other features' lookups).
pub(crate) fn parse_phone_e164(raw: &str) -> std::result::Result<String, FieldError> {
    model::parse_phone(raw)
}

/// The identity use cases: `contacto.identity().register(..)`.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    app: &'a Contacto,
}

impl<'a> Identity<'a> {
    pub(crate) fn new(app: &'a Contacto) -> Self {
        Self { app }
    }

    /// Creates a customer, professional or merchant account and logs it in, unthrottled: an
    /// embedder's own sign-up form answers for how often it asks. [`Identity::register_from`]
    /// throttles by client address.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming every invalid field (an `admin` role included),
    /// [`Error::EmailTaken`], [`Error::PhoneTaken`], or [`Error::Unavailable`].
    pub async fn register(&self, request: &RegisterRequest) -> Result<AuthSession> {
        self.register_from(request, None).await
    }

    /// [`Identity::register`] for a request from `client_address`: refusals for a taken email or
    /// phone are counted per address, and past the limit every registration from it is refused
    /// for a while ([`crate::RegistrationThrottle`]). With `None`, nothing is counted.
    ///
    /// # Errors
    ///
    /// As [`Identity::register`], and [`Error::RateLimited`] while the client address is locked
    /// out of registering.
    pub async fn register_from(
        &self,
        request: &RegisterRequest,
        client_address: Option<IpAddr>,
    ) -> Result<AuthSession> {
        let result = self.register_checked(request, client_address).await;
        self.app.metrics().operation("registration", &result);
        result
    }

    async fn register_checked(
        &self,
        request: &RegisterRequest,
        client_address: Option<IpAddr>,
    ) -> Result<AuthSession> {
        let Some(address) = client_address.map(address_key) else {
            return self.session_for(self.create_user(request, false).await?);
        };
        let policy = self.app.config().auth.registration_throttle;
        let scope = ThrottleScope::Registration;
        {
            let db = self.app.db().primary().await?;
            let locked = self
                .q(
                    "identity.registration_lock",
                    store::locked_until(&**db, scope, &address),
                )
                .await?;
            if let Some(until) = locked {
                return Err(rate_limited(until));
            }
        }
        match self.create_user(request, false).await {
            Ok(user) => self.session_for(user),
            Err(err @ (Error::EmailTaken | Error::PhoneTaken)) => {
                // Counted in one statement that concurrent refusals queue on, so no burst of
                // them slips under the limit; the first refusal past it is already a 429.
                let db = self.app.db().primary().await?;
                let locked = self
                    .q(
                        "identity.count_registration_taken",
                        store::count_failure(
                            &**db,
                            scope,
                            &address,
                            policy.max_taken,
                            policy.window.as_secs_f64(),
                            policy.lockout.as_secs_f64(),
                        ),
                    )
                    .await?;
                Err(locked.map_or(err, rate_limited))
            }
            Err(err) => Err(err),
        }
    }

    /// Creates an administrator: the only way to make one (`contacto-server create-admin`).
    ///
    /// # Errors
    ///
    /// As [`Identity::register`].
    pub async fn create_admin(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
    ) -> Result<UserView> {
        let request = RegisterRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            full_name: full_name.to_owned(),
            phone: None,
            role: Role::Admin,
        };
        self.create_user(&request, true).await
    }

    async fn create_user(&self, request: &RegisterRequest, allow_admin: bool) -> Result<UserView> {
        let mut errors = FieldErrors::new();
        errors.check(model::check_password(&request.password));
        if request.role == Role::Admin && !allow_admin {
            errors.push(FieldError::new(
                "role",
                "not_allowed",
                "admin accounts cannot be self-registered",
            ));
        }
        let email = errors.check(Email::parse(&request.email));
        let full_name = errors.check(model::parse_full_name(&request.full_name));
        let phone = match request.phone.as_deref() {
            None => Some(None),
            Some(raw) => errors.check(model::parse_phone(raw)).map(Some),
        };
        errors.into_result()?;
        let (Some(email), Some(full_name), Some(phone)) = (email, full_name, phone) else {
            return Err(Error::internal(
                "validating an account",
                "validation lost a value",
            ));
        };
        let hash = self.app.hasher().hash(request.password.clone()).await?;
        let db = self.app.db().primary().await?;
        let user = NewUser {
            email: email.as_str(),
            full_name: &full_name,
            phone: phone.as_deref(),
            role: request.role,
            password_hash: &hash,
        };
        self.q("identity.insert_user", store::insert_user(&**db, user))
            .await
    }

    /// Checks an email and password and issues a token. `client_address` feeds the per-address
    /// throttle; embedders without one pass `None`.
    ///
    /// Every attempt is counted before the password is checked, per account and per client
    /// address, so concurrent guesses cannot slip under the limit; past the limit the bucket is
    /// locked for the lockout period, and a success gives its attempt back.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCredentials`] whether the email is unknown or the password wrong,
    /// [`Error::RateLimited`] past the limit, or [`Error::Unavailable`].
    pub async fn login(
        &self,
        request: &LoginRequest,
        client_address: Option<IpAddr>,
    ) -> Result<AuthSession> {
        let result = self.login_checked(request, client_address).await;
        self.app.metrics().operation("login", &result);
        result
    }

    async fn login_checked(
        &self,
        request: &LoginRequest,
        client_address: Option<IpAddr>,
    ) -> Result<AuthSession> {
        let policy = self.app.config().auth.login_throttle;
        let email = request.email.trim().to_lowercase();
        // Oversized input can match no account: it is neither looked up nor used as a key, and
        // its password never reaches the hasher beyond the decoy.
        let plausible = email.chars().count() <= model::EMAIL_MAX_CHARS
            && !email.chars().any(char::is_control)
            && request.password.chars().count() <= model::PASSWORD_MAX_CHARS;
        // (scope, key, failures that lock it, whether a success clears it or only gives its
        // own attempt back).
        let mut buckets = Vec::with_capacity(3);
        if plausible {
            // The account from this address (`-` when the caller gave none, as an embedder's
            // own login form): the lock a guesser meets. A stranger's failures from elsewhere
            // do not lock the owner out.
            let from = client_address.map_or_else(|| "-".to_owned(), address_key);
            buckets.push((
                ThrottleScope::Account,
                format!("{email}|{from}"),
                policy.max_failures_per_account,
                true,
            ));
            // The account from everywhere: a ceiling for guessing spread over many addresses,
            // above what one address may fail ([`ACCOUNT_WIDE_FACTOR`]).
            buckets.push((
                ThrottleScope::Account,
                email.clone(),
                policy
                    .max_failures_per_account
                    .saturating_mul(ACCOUNT_WIDE_FACTOR),
                false,
            ));
        }
        if let Some(address) = client_address {
            buckets.push((
                ThrottleScope::Address,
                address_key(address),
                policy.max_failures_per_address,
                false,
            ));
        }
        let db = self.app.db().primary().await?;
        for (counted, (scope, key, max, _)) in buckets.iter().enumerate() {
            let locked_until = self
                .q(
                    "identity.count_failure",
                    store::count_failure(
                        &**db,
                        *scope,
                        key,
                        *max,
                        policy.window.as_secs_f64(),
                        policy.lockout.as_secs_f64(),
                    ),
                )
                .await?;
            if let Some(until) = locked_until {
                // Refused before its password was looked at: the attempt is given back to the
                // buckets it was already counted in, so retrying against one lock cannot fill
                // (and lock) another.
                for (scope, key, _, _) in &buckets[..counted] {
                    self.q(
                        "identity.forgive_attempt",
                        store::forgive_attempt(&**db, *scope, key),
                    )
                    .await?;
                }
                return Err(rate_limited(until));
            }
        }
        let credentials = if plausible {
            self.q(
                "identity.credentials_by_email",
                store::credentials_by_email(&**db, &email),
            )
            .await?
        } else {
            None
        };
        let hash = credentials.as_ref().map(|c| c.password_hash.clone());
        let verified = self
            .app
            .hasher()
            .verify(request.password.clone(), hash)
            .await?;
        match credentials {
            Some(credentials) if verified => {
                for (scope, key, _, clears) in &buckets {
                    if *clears {
                        self.q(
                            "identity.clear_failures",
                            store::clear_failures(&**db, *scope, key),
                        )
                        .await?;
                    } else {
                        self.q(
                            "identity.forgive_attempt",
                            store::forgive_attempt(&**db, *scope, key),
                        )
                        .await?;
                    }
                }
                self.session_for(credentials.user)
            }
            _ => Err(Error::InvalidCredentials),
        }
    }

    /// Deletes throttling records whose window and lock are over, so the table stays small.
    /// The server runs it periodically; embedders call it from their own scheduler.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub async fn purge_expired_throttling(&self) -> Result<u64> {
        let config = self.app.config();
        let login_window = config.auth.login_throttle.window.as_secs_f64();
        let lookup_window = config.wallet.contact_lookups.window.as_secs_f64();
        let registration_window = config.auth.registration_throttle.window.as_secs_f64();
        let db = self.app.db().primary().await?;
        self.q(
            "identity.purge_throttle",
            store::purge_throttle(&**db, login_window, lookup_window, registration_window),
        )
        .await
    }

    /// Who is behind an `Authorization` header value (`Bearer <token or API key>`).
    ///
    /// # Errors
    ///
    /// [`Error::Unauthenticated`] when the header is missing, malformed, expired or revoked.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal> {
        let header = authorization.ok_or(Error::Unauthenticated {
            reason: "send `Authorization: Bearer <token or API key>`",
        })?;
        let credential = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, credential)| credential.trim())
            .filter(|credential| !credential.is_empty())
            .ok_or(Error::Unauthenticated {
                reason: "the Authorization header must use the Bearer scheme",
            })?;
        if credential.starts_with(API_KEY_PREFIX) {
            let digest = Sha256::digest(credential.as_bytes());
            let db = self.app.db().primary().await?;
            let (key_id, user_id, role) = self
                .q(
                    "identity.api_key_owner",
                    store::api_key_owner(&**db, &digest[..]),
                )
                .await?
                .ok_or(Error::Unauthenticated {
                    reason: "the API key is invalid or revoked",
                })?;
            return Ok(Principal {
                user_id,
                role,
                credential: Credential::ApiKey(key_id),
            });
        }
        let TokenSubject { user_id, role } = self.app.tokens().verify(credential)?;
        Ok(Principal {
            user_id,
            role,
            credential: Credential::Token,
        })
    }

    /// Any user by id (for other features' checks), `None` when unknown.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub(crate) async fn user(&self, id: UserId) -> Result<Option<UserView>> {
        let db = self.app.db().primary().await?;
        self.q("identity.user_by_id", store::user_by_id(&**db, id))
            .await
    }

    /// The caller's account.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthenticated`] when the account no longer exists, or [`Error::Unavailable`].
    pub async fn me(&self, principal: &Principal) -> Result<UserView> {
        let db = self.app.db().primary().await?;
        self.q(
            "identity.user_by_id",
            store::user_by_id(&**db, principal.user_id),
        )
        .await?
        .ok_or(Error::Unauthenticated {
            reason: "the account no longer exists",
        })
    }

    /// Creates an API key carrying the caller's identity; its secret is returned only here.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] when the caller authenticated with an API key (keys do not mint keys),
    /// [`Error::Validation`], [`Error::QuotaExceeded`] past [`MAX_ACTIVE_API_KEYS`], or
    /// [`Error::Unavailable`].
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        request: &CreateApiKeyRequest,
    ) -> Result<ApiKeyCreated> {
        let result = self.create_api_key_checked(principal, request).await;
        self.app.metrics().operation("api_key", &result);
        result
    }

    async fn create_api_key_checked(
        &self,
        principal: &Principal,
        request: &CreateApiKeyRequest,
    ) -> Result<ApiKeyCreated> {
        if let Credential::ApiKey(_) = principal.credential {
            return Err(Error::Forbidden {
                action: "create API keys with an API key",
            });
        }
        let name = model::parse_api_key_name(&request.name).map_err(Error::from)?;
        let mut db = self.app.db().primary().await?;
        let tx = db
            .transaction()
            .await
            .map_err(|e| crate::db::error::from_pg(e, "starting a transaction"))?;
        // Serialises key creation per user so two concurrent requests cannot both pass the quota.
        self.q(
            "identity.lock_user",
            store::lock_user(&*tx, principal.user_id),
        )
        .await?;
        if self
            .q(
                "identity.count_active_api_keys",
                store::count_active_api_keys(&*tx, principal.user_id),
            )
            .await?
            >= i64::from(MAX_ACTIVE_API_KEYS)
        {
            return Err(Error::QuotaExceeded {
                what: "active API keys",
                limit: MAX_ACTIVE_API_KEYS,
            });
        }
        let secret: [u8; API_KEY_SECRET_BYTES] = rand::random();
        let key = format!("{API_KEY_PREFIX}{}", crate::hex::encode(&secret));
        let digest = Sha256::digest(key.as_bytes());
        let insert = store::insert_api_key(
            &*tx,
            principal.user_id,
            &name,
            &key[..API_KEY_SHOWN_CHARS],
            &digest[..],
        );
        let view = self.q("identity.insert_api_key", insert).await?;
        tx.commit()
            .await
            .map_err(|e| crate::db::error::from_pg(e, "committing an API key"))?;
        Ok(ApiKeyCreated { key, api_key: view })
    }

    /// The caller's active API keys, newest first, without their secrets.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub async fn list_api_keys(&self, principal: &Principal) -> Result<Vec<ApiKeyView>> {
        let db = self.app.db().primary().await?;
        self.q(
            "identity.active_api_keys",
            store::active_api_keys(&**db, principal.user_id),
        )
        .await
    }

    /// Revokes one of the caller's keys; it stops working at once.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the caller has no such active key (someone else's keys included),
    /// [`Error::Forbidden`] when an API key names another key (a leaked till key cannot shut the
    /// other tills out; it may retire itself), or [`Error::Unavailable`].
    pub async fn revoke_api_key(&self, principal: &Principal, id: ApiKeyId) -> Result<()> {
        if let Credential::ApiKey(own) = principal.credential
            && own != id
        {
            return Err(Error::Forbidden {
                action: "revoke another API key with an API key",
            });
        }
        let db = self.app.db().primary().await?;
        if self
            .q(
                "identity.revoke_api_key",
                store::revoke_api_key(&**db, principal.user_id, id),
            )
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound {
                resource: "API key",
            })
        }
    }

    /// Runs a store call as a named, timed statement.
    async fn q<T>(&self, statement: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        self.app.metrics().query(statement, work).await
    }

    fn session_for(&self, user: UserView) -> Result<AuthSession> {
        let (token, expires_at) = self.app.tokens().issue(TokenSubject {
            user_id: user.id,
            role: user.role,
        })?;
        Ok(AuthSession {
            token,
            expires_at,
            user,
        })
    }
}

pub(crate) fn rate_limited(until: OffsetDateTime) -> Error {
    let remaining = (until - OffsetDateTime::now_utc()).whole_seconds().max(0);
    Error::RateLimited {
        // Rounded up so that a client retrying exactly then is not refused again.
        retry_after_secs: u64::try_from(remaining).unwrap_or(0) + 1,
    }
}

/// The throttling key of a client address. An IPv6 client usually controls a whole /64, so
/// counting per address would let it rotate through 2^64 of them.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn ipv6_clients_are_throttled_per_64_block() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            address_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7"
        );
        assert_eq!(address_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
