//! argon2id password hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::config::PasswordHashing;
use crate::error::{Error, Result};

/// How long a hash waits for a free hashing slot before the request is turned away with a 503:
/// a flood of logins must not queue without bound behind the CPU.
const HASHING_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// Hashes and verifies passwords on blocking threads, at most one per core at a time: each
/// argon2id run takes its configured memory (19 MiB by default), so unbounded concurrency would
/// let a flood of logins exhaust memory.
#[derive(Clone)]
pub(crate) struct Hasher {
    slots: Arc<Semaphore>,
    params: Params,
    /// A hash of a random password with the configured cost, verified when an email is unknown so
    /// that a failed login takes as long whether or not the account exists.
    decoy: String,
}

impl Hasher {
    pub(crate) fn new(cost: PasswordHashing) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|err| Error::internal("configuring argon2id", err.to_string()))?;
        let slots = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut hasher = Self {
            slots: Arc::new(Semaphore::new(slots)),
            params,
            decoy: String::new(),
        };
        let decoy_password = uuid::Uuid::new_v4().to_string();
        hasher.decoy = hasher.hash_now(&decoy_password)?;
        Ok(hasher)
    }

    /// Hashes on a blocking thread once a slot is free.
    pub(crate) async fn hash(&self, password: String) -> Result<String> {
        let hasher = self.clone();
        self.run(move || hasher.hash_now(&password)).await?
    }

    /// Verifies on a blocking thread once a slot is free; `None` checks against the decoy.
    pub(crate) async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        let hasher = self.clone();
        self.run(move || hasher.verify_now(&password, phc.as_deref()))
            .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _slot = tokio::time::timeout(HASHING_QUEUE_TIMEOUT, self.slots.acquire())
            .await
            .map_err(|_| Error::Unavailable("password hashing is saturated".into()))?
            .map_err(|err| Error::internal("waiting for a hashing slot", err))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| Error::internal("hashing a password", err))
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=...`).
    fn hash_now(&self, password: &str) -> Result<String> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| Error::internal("hashing a password", err.to_string()))
    }

    /// Whether `password` matches `phc`; `None` verifies against the decoy and returns `false`.
    fn verify_now(&self, password: &str, phc: Option<&str>) -> bool {
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
        let hash = hasher.hash_now("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hasher.verify_now("correct horse battery", Some(&hash)));
        assert!(!hasher.verify_now("wrong horse battery", Some(&hash)));
    }

    #[test]
    fn unknown_accounts_never_verify() {
        let hasher = cheap();
        assert!(!hasher.verify_now("anything at all", None));
        assert!(!hasher.verify_now("anything at all", Some("not a hash")));
    }
}
