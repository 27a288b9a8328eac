//! argon2id password hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::PasswordHashing;
use crate::error::{Error, Result};

/// Hashes and verifies passwords; CPU-bound, so callers run it on a blocking thread.
#[derive(Clone)]
pub(crate) struct Hasher {
    params: Params,
    /// A hash of a random password with the configured cost, verified when an email is unknown so
    /// that a failed login takes as long whether or not the account exists.
    decoy: String,
}

impl Hasher {
    pub(crate) fn new(cost: PasswordHashing) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|err| Error::internal("configuring argon2id", err.to_string()))?;
        let mut hasher = Self {
            params,
            decoy: String::new(),
        };
        let decoy_password = uuid::Uuid::new_v4().to_string();
        hasher.decoy = hasher.hash(&decoy_password)?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=...`).
    pub(crate) fn hash(&self, password: &str) -> Result<String> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| Error::internal("hashing a password", err.to_string()))
    }

    /// Whether `password` matches `phc`; `None` verifies against the decoy and returns `false`.
    pub(crate) fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let (phc, real) = match phc {
            Some(phc) => (phc, true),
            None => (self.decoy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let matches = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(PasswordHashing {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hasher.verify("correct horse battery", Some(&hash)));
        assert!(!hasher.verify("wrong horse battery", Some(&hash)));
    }

    #[test]
    fn unknown_accounts_never_verify() {
        let hasher = cheap();
        assert!(!hasher.verify("anything at all", None));
        assert!(!hasher.verify("anything at all", Some("not a hash")));
    }
}
