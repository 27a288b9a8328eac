//! Identity's SQL: the only place it appears. Written over `GenericClient` so it runs on a pooled
//! connection or inside a transaction.

use time::OffsetDateTime;
use tokio_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::Type;
use uuid::Uuid;

use crate::api::{ApiKeyId, ApiKeyView, Role, UserId, UserView};
use crate::db::error::PgResultExt;
use crate::error::{Error, Result};

/// A user with the password hash, for login only.
pub(crate) struct Credentials {
    pub(crate) user: UserView,
    pub(crate) password_hash: String,
}

pub(crate) struct NewUser<'a> {
    pub(crate) email: &'a str,
    pub(crate) full_name: &'a str,
    pub(crate) phone: Option<&'a str>,
    pub(crate) role: Role,
    pub(crate) password_hash: &'a str,
}

const USER_COLUMNS: &str = "id, email, full_name, phone, role, created_at";

fn user_from_row(row: &Row) -> Result<UserView> {
    let role: &str = row
        .try_get("role")
        .map_err(|e| Error::internal("reading a user", e))?;
    let decode = |e| Error::internal("reading a user", e);
    Ok(UserView {
        id: UserId(row.try_get("id").map_err(decode)?),
        email: row.try_get("email").map_err(decode)?,
        full_name: row.try_get("full_name").map_err(decode)?,
        phone: row.try_get("phone").map_err(decode)?,
        role: Role::from_name(role)
            .ok_or_else(|| Error::internal("reading a user", format!("unknown role {role}")))?,
        created_at: row.try_get("created_at").map_err(decode)?,
    })
}

pub(crate) async fn insert_user(
    client: &impl GenericClient,
    user: NewUser<'_>,
) -> Result<UserView> {
    let id = Uuid::now_v7();
    let role = user.role.as_str();
    let row = client
        .query_typed_one(
            &format!(
                "INSERT INTO users (id, email, full_name, phone, role, password_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
            ),
            &[
                (&id, Type::UUID),
                (&user.email, Type::TEXT),
                (&user.full_name, Type::TEXT),
                (&user.phone, Type::TEXT),
                (&role, Type::TEXT),
                (&user.password_hash, Type::TEXT),
            ],
        )
        .await
        .db("inserting a user")?;
    user_from_row(&row)
}

pub(crate) async fn user_by_id(
    client: &impl GenericClient,
    id: UserId,
) -> Result<Option<UserView>> {
    let row = client
        .query_typed_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
            &[(&id.0, Type::UUID)],
        )
        .await
        .db("reading a user")?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn credentials_by_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<Credentials>> {
    let row = client
        .query_typed_opt(
            &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"),
            &[(&email, Type::TEXT)],
        )
        .await
        .db("reading credentials")?;
    row.map(|row| {
        Ok(Credentials {
            user: user_from_row(&row)?,
            password_hash: row
                .try_get("password_hash")
                .map_err(|e| Error::internal("reading credentials", e))?,
        })
    })
    .transpose()
}

/// A throttling bucket: failed logins for one account or one client address, or one caller's
/// transfers to an email or phone that found nobody (keyed by the caller's user id).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ThrottleScope {
    Account,
    Address,
    ContactLookup,
    Registration,
}

impl ThrottleScope {
    fn as_str(self) -> &'static str {
        match self {
            ThrottleScope::Account => "account",
            ThrottleScope::Address => "address",
            ThrottleScope::ContactLookup => "contact_lookup",
            ThrottleScope::Registration => "registration",
        }
    }
}

/// The state of a bucket after counting one more attempt in it.
pub(crate) struct Attempt {
    pub(crate) attempts: i32,
    pub(crate) locked_until: Option<OffsetDateTime>,
}

/// Counts one login attempt against a bucket before the password is checked, so that concurrent
/// attempts cannot all slip under the limit; a successful login gives it back. Attempts while
/// the bucket is locked are not counted: the retries a `Retry-After` invites must not lock it
/// again as soon as the lock ends.
async fn count_attempt(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
    window_secs: f64,
) -> Result<Attempt> {
    let scope = scope.as_str();
    let row = client
        .query_typed_one(
            "INSERT INTO login_throttle AS t (scope, key, failures, window_started_at) \
             VALUES ($1, $2, 1, now()) \
             ON CONFLICT (scope, key) DO UPDATE SET \
               failures = CASE WHEN t.locked_until > now() THEN t.failures \
                               WHEN t.window_started_at < now() - make_interval(secs => $3) \
                               THEN 1 ELSE t.failures + 1 END, \
               window_started_at = CASE WHEN t.locked_until > now() THEN t.window_started_at \
                                        WHEN t.window_started_at < now() - make_interval(secs => $3) \
                                        THEN now() ELSE t.window_started_at END \
             RETURNING failures, CASE WHEN locked_until > now() THEN locked_until END",
            &[
                (&scope, Type::TEXT),
                (&key, Type::TEXT),
                (&window_secs, Type::FLOAT8),
            ],
        )
        .await
        .db("counting a throttled attempt")?;
    Ok(Attempt {
        attempts: row.get(0),
        locked_until: row.get(1),
    })
}

/// Counts a failure against a bucket, and locks it for `lockout_secs` once it holds more than
/// `max` within `window_secs`; returns when the bucket's lock ends, if one holds (set now or
/// before, in which case nothing was counted).
pub(crate) async fn count_failure(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
    max: u32,
    window_secs: f64,
    lockout_secs: f64,
) -> Result<Option<OffsetDateTime>> {
    let attempt = count_attempt(client, scope, key, window_secs).await?;
    match attempt.locked_until {
        Some(until) => Ok(Some(until)),
        None if attempt.attempts > i32::try_from(max).unwrap_or(i32::MAX) => {
            Ok(Some(lock(client, scope, key, lockout_secs).await?))
        }
        None => Ok(None),
    }
}

/// When a bucket's lock ends, if one holds.
pub(crate) async fn locked_until(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
) -> Result<Option<OffsetDateTime>> {
    let scope = scope.as_str();
    let row = client
        .query_typed_opt(
            "SELECT locked_until FROM login_throttle \
             WHERE scope = $1 AND key = $2 AND locked_until > now()",
            &[(&scope, Type::TEXT), (&key, Type::TEXT)],
        )
        .await
        .db("reading a throttling bucket")?;
    Ok(row.map(|row| row.get(0)))
}

/// Locks a bucket for `lockout_secs` and starts its count afresh; returns when the lock ends.
async fn lock(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
    lockout_secs: f64,
) -> Result<OffsetDateTime> {
    let scope = scope.as_str();
    let row = client
        .query_typed_one(
            "UPDATE login_throttle SET locked_until = now() + make_interval(secs => $3), \
               failures = 1, window_started_at = now() \
             WHERE scope = $1 AND key = $2 RETURNING locked_until",
            &[
                (&scope, Type::TEXT),
                (&key, Type::TEXT),
                (&lockout_secs, Type::FLOAT8),
            ],
        )
        .await
        .db("locking a throttling bucket")?;
    Ok(row.get(0))
}

/// Gives back the attempt a successful login counted in a shared bucket (a client address).
pub(crate) async fn forgive_attempt(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
) -> Result<()> {
    let scope = scope.as_str();
    client
        .query_typed(
            "UPDATE login_throttle SET failures = failures - 1 \
             WHERE scope = $1 AND key = $2 AND failures > 1",
            &[(&scope, Type::TEXT), (&key, Type::TEXT)],
        )
        .await
        .db("forgiving a login attempt")?;
    Ok(())
}

/// Deletes buckets whose window and lock are both over; returns how many. Logins are counted
/// over `login_window_secs`, contact lookups over `lookup_window_secs`, registrations refused
/// for a taken email or phone over `registration_window_secs`.
pub(crate) async fn purge_throttle(
    client: &impl GenericClient,
    login_window_secs: f64,
    lookup_window_secs: f64,
    registration_window_secs: f64,
) -> Result<u64> {
    let rows = client
        .query_typed(
            "DELETE FROM login_throttle \
             WHERE window_started_at < now() - make_interval(secs => \
                     CASE scope WHEN 'contact_lookup' THEN $2 \
                                WHEN 'registration' THEN $3 ELSE $1 END) \
               AND (locked_until IS NULL OR locked_until < now()) RETURNING 1",
            &[
                (&login_window_secs, Type::FLOAT8),
                (&lookup_window_secs, Type::FLOAT8),
                (&registration_window_secs, Type::FLOAT8),
            ],
        )
        .await
        .db("purging throttling buckets")?;
    Ok(rows.len() as u64)
}

/// Locks the user's row, serialising changes that must see a consistent count of its things.
pub(crate) async fn lock_user(client: &impl GenericClient, user: UserId) -> Result<()> {
    client
        .query_typed(
            "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
            &[(&user.0, Type::UUID)],
        )
        .await
        .db("locking a user")?;
    Ok(())
}

/// Forgets the failures of a bucket after a successful login.
pub(crate) async fn clear_failures(
    client: &impl GenericClient,
    scope: ThrottleScope,
    key: &str,
) -> Result<()> {
    let scope = scope.as_str();
    client
        .query_typed(
            "DELETE FROM login_throttle WHERE scope = $1 AND key = $2",
            &[(&scope, Type::TEXT), (&key, Type::TEXT)],
        )
        .await
        .db("clearing failed logins")?;
    Ok(())
}

fn api_key_from_row(row: &Row) -> Result<ApiKeyView> {
    let decode = |e| Error::internal("reading an API key", e);
    Ok(ApiKeyView {
        id: ApiKeyId(row.try_get("id").map_err(decode)?),
        name: row.try_get("name").map_err(decode)?,
        prefix: row.try_get("prefix").map_err(decode)?,
        created_at: row.try_get("created_at").map_err(decode)?,
        last_used_at: row.try_get("last_used_at").map_err(decode)?,
    })
}

pub(crate) async fn count_active_api_keys(
    client: &impl GenericClient,
    user: UserId,
) -> Result<i64> {
    let row = client
        .query_typed_one(
            "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL",
            &[(&user.0, Type::UUID)],
        )
        .await
        .db("counting API keys")?;
    Ok(row.get(0))
}

pub(crate) async fn insert_api_key(
    client: &impl GenericClient,
    user: UserId,
    name: &str,
    prefix: &str,
    secret_sha256: &[u8],
) -> Result<ApiKeyView> {
    let id = Uuid::now_v7();
    let row = client
        .query_typed_one(
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_sha256) \
             VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, prefix, created_at, last_used_at",
            &[
                (&id, Type::UUID),
                (&user.0, Type::UUID),
                (&name, Type::TEXT),
                (&prefix, Type::TEXT),
                (&secret_sha256, Type::BYTEA),
            ],
        )
        .await
        .db("inserting an API key")?;
    api_key_from_row(&row)
}

pub(crate) async fn active_api_keys(
    client: &impl GenericClient,
    user: UserId,
) -> Result<Vec<ApiKeyView>> {
    let rows = client
        .query_typed(
            "SELECT id, name, prefix, created_at, last_used_at FROM api_keys \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
            &[(&user.0, Type::UUID)],
        )
        .await
        .db("listing API keys")?;
    rows.iter().map(api_key_from_row).collect()
}

/// Revokes one of `user`'s active keys; `false` when there is no such key.
pub(crate) async fn revoke_api_key(
    client: &impl GenericClient,
    user: UserId,
    id: ApiKeyId,
) -> Result<bool> {
    let rows = client
        .query_typed(
            "UPDATE api_keys SET revoked_at = now() \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id",
            &[(&id.0, Type::UUID), (&user.0, Type::UUID)],
        )
        .await
        .db("revoking an API key")?;
    Ok(!rows.is_empty())
}

/// The owner of an active key, recording its use at most once a minute to keep reads cheap.
pub(crate) async fn api_key_owner(
    client: &impl GenericClient,
    secret_sha256: &[u8],
) -> Result<Option<(ApiKeyId, UserId, Role)>> {
    let row = client
        .query_typed_opt(
            "WITH used AS ( \
               UPDATE api_keys SET last_used_at = now() \
               WHERE secret_sha256 = $1 AND revoked_at IS NULL \
                 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') \
             ) \
             SELECT k.id, k.user_id, u.role FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.secret_sha256 = $1 AND k.revoked_at IS NULL",
            &[(&secret_sha256, Type::BYTEA)],
        )
        .await
        .db("authenticating an API key")?;
    let Some(row) = row else { return Ok(None) };
    let role: &str = row.get(2);
    let role = Role::from_name(role)
        .ok_or_else(|| Error::internal("reading an API key", format!("unknown role {role}")))?;
    Ok(Some((ApiKeyId(row.get(0)), UserId(row.get(1)), role)))
}
