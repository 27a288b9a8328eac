//! Signed bearer tokens (JWT, HS256).

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::{Role, UserId};
use crate::config::MIN_JWT_SECRET_BYTES;
use crate::error::{Error, Result};

const ISSUER: &str = "contacto";

/// How many verified tokens are remembered (about 64 bytes each: a digest, a subject, an expiry;
/// about 1 MB in all). A client sends the same token with every request until it expires, so a
/// server of a few thousand active users verifies each signature once; beyond this many at once,
/// roughly the least used are dropped and verified again when next seen.
const VERIFIED_TOKENS: usize = 16_384;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
}

const EXPIRED: Error = Error::Unauthenticated {
    reason: "the token has expired",
};

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub(crate) struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Tokens whose signature and claims were checked, by the SHA-256 of the whole token (the token
    /// itself, a bearer secret, is not kept), with their subject and expiry. Only a token identical
    /// to a verified one is found here, so a hit needs no signature check; its expiry is checked at
    /// every use as the full verification would.
    verified: Arc<quick_cache::sync::Cache<[u8; 32], (TokenSubject, i64)>>,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenSubject {
    pub(crate) user_id: UserId,
    pub(crate) role: Role,
}

impl TokenKeys {
    pub(crate) fn new(secret: &SecretString, ttl: Duration) -> Result<Self> {
        let secret = secret.expose_secret().as_bytes();
        if secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(Error::invalid(
                "auth.jwt_secret",
                "too_short",
                format!("at least {MIN_JWT_SECRET_BYTES} bytes"),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is exact: a token lives exactly as long as configured.
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            verified: Arc::new(quick_cache::sync::Cache::new(VERIFIED_TOKENS)),
        })
    }

    /// A token for `subject` and when it expires.
    pub(crate) fn issue(&self, subject: TokenSubject) -> Result<(String, OffsetDateTime)> {
        let now = OffsetDateTime::now_utc();
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: subject.user_id.0,
            role: subject.role,
            iss: ISSUER.to_owned(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| Error::internal("signing a token", err))?;
        let expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
            .map_err(|err| Error::internal("computing a token's expiry", err))?;
        Ok((token, expires_at))
    }

    /// The subject of a valid, unexpired token: in full the first time, from the verified tokens
    /// (expiry only) after that.
    pub(crate) fn verify(&self, token: &str) -> Result<TokenSubject> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some((subject, exp)) = self.verified.get(&digest) {
            // The rule jsonwebtoken applies with no leeway: expired once `exp` is in the past.
            if exp < jsonwebtoken::get_current_timestamp().cast_signed() {
                self.verified.remove(&digest);
                return Err(EXPIRED);
            }
            return Ok(subject);
        }
        let (subject, exp) = self.verify_in_full(token)?;
        self.verified.insert(digest, (subject, exp));
        Ok(subject)
    }

    /// The subject and expiry of a valid, unexpired token, its signature and claims checked.
    pub(crate) fn verify_in_full(&self, token: &str) -> Result<(TokenSubject, i64)> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => EXPIRED,
                _ => Error::Unauthenticated {
                    reason: "the token is invalid",
                },
            })?;
        let subject = TokenSubject {
            user_id: UserId(data.claims.sub),
            role: data.claims.role,
        };
        Ok((subject, data.claims.exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, ttl_secs: u64) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret), Duration::from_secs(ttl_secs)).unwrap()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// A new user with `role`.
    fn new_subject(role: Role) -> TokenSubject {
        TokenSubject {
            user_id: UserId(Uuid::new_v4()),
            role,
        }
    }

    #[test]
    fn an_issued_token_verifies_to_its_subject() {
        let keys = keys(SECRET, 60);
        let subject = new_subject(Role::Merchant);
        let (token, expires_at) = keys.issue(subject).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), subject);
        assert!(expires_at > OffsetDateTime::now_utc());
        // The second time from the verified tokens.
        assert_eq!(keys.verify(&token).unwrap(), subject);
        assert_eq!(keys.verified.len(), 1);
    }

    #[test]
    fn tokens_signed_with_another_secret_or_tampered_are_refused() {
        let subject = new_subject(Role::Customer);
        let mine = keys(SECRET, 60);
        let (token, _) = mine.issue(subject).unwrap();
        // Verified once, so remembered by `mine`: neither keys with another secret nor a changed
        // token benefit from that.
        assert_eq!(mine.verify(&token).unwrap(), subject);
        let other = keys("another secret that is long enough!!", 60);
        assert_eq!(other.verify(&token).unwrap_err().code(), "UNAUTHENTICATED");
        let mut tampered = token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert!(mine.verify(&tampered).is_err());
        let (head, signature) = token.rsplit_once('.').unwrap();
        let mut forged = signature.to_owned();
        forged.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
        assert!(mine.verify(&format!("{head}.{forged}")).is_err());
    }

    #[test]
    fn expired_tokens_are_refused_with_a_reason() {
        let keys = keys(SECRET, 0);
        let (token, _) = keys.issue(new_subject(Role::Customer)).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let err = keys.verify(&token).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn a_remembered_token_expires_all_the_same() {
        let keys = keys(SECRET, 1);
        let (token, expires_at) = keys.issue(new_subject(Role::Customer)).unwrap();
        keys.verify(&token).unwrap();
        assert_eq!(keys.verified.len(), 1);
        // Past the second of its expiry, whole seconds being the token's resolution.
        while OffsetDateTime::now_utc().unix_timestamp() <= expires_at.unix_timestamp() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let err = keys.verify(&token).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        assert_eq!(keys.verified.len(), 0, "an expired token is forgotten");
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = TokenKeys::new(&SecretString::from("short"), Duration::from_secs(1));
        assert!(err.is_err());
    }
}
