//! What scenarios set up through the API before the load: accounts (registered concurrently:
//! each costs an argon2id hash on the server, so a scenario makes only as many as it needs),
//! wallets, and money, deposited and confirmed by a signed webhook as a payment provider would.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use contacto_client::Client;
use contacto_client::api::{
    DepositMethod, DepositRequest, DepositStatus, RegisterRequest, Role, UserId, WalletId,
    WalletType,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::directory_seed::BoxError;

/// Requests in flight while setting up: enough to keep the server's argon2 slots and the
/// ledger's batches busy, few enough not to time out behind them.
pub const SETUP_CONCURRENCY: usize = 32;

/// The password of every account the harness registers.
pub const PASSWORD: &str = "a load-test pass phrase";

/// An account registered by the harness, with a client authenticated as it.
#[derive(Clone)]
pub struct Account {
    /// Its id.
    pub user_id: UserId,
    /// Its email.
    pub email: String,
    /// A client sending its token.
    pub client: Client,
    /// Its wallet, once opened.
    pub wallet: Option<WalletId>,
}

impl Account {
    /// Its wallet.
    ///
    /// # Errors
    ///
    /// When none was opened.
    pub fn wallet(&self) -> Result<WalletId, BoxError> {
        self.wallet
            .ok_or_else(|| "this account has no wallet".into())
    }
}

/// Runs `work(i)` for `i` in `0..count`, `concurrency` at a time; the results in order.
///
/// # Errors
///
/// The first failure.
pub async fn concurrently<T, F, Fut>(
    count: usize,
    concurrency: usize,
    work: F,
) -> Result<Vec<T>, BoxError>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, BoxError>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, count.max(1)) {
        let (work, next, results) = (Arc::clone(&work), Arc::clone(&next), Arc::clone(&results));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), BoxError>(());
                }
                let value = work(i).await?;
                results.lock().await.push((i, value));
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut results = std::mem::take(&mut *results.lock().await);
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, value)| value).collect())
}

/// Registers `count` accounts of `role` named after `run` (so runs never collide), and opens
/// each a DZD wallet of `wallet`'s type unless `wallet` is `None`.
///
/// # Errors
///
/// The first failed call.
pub async fn register(
    client: &Client,
    run: &str,
    role: Role,
    count: usize,
    wallet: Option<WalletType>,
) -> Result<Vec<Account>, BoxError> {
    let (client, run) = (client.clone(), run.to_owned());
    concurrently(count, SETUP_CONCURRENCY, move |i| {
        let (client, run) = (client.clone(), run.clone());
        async move {
            let email = format!("load.{run}.{}.{i}@example.dz", role_name(role));
            let session = client
                .identity()
                .register(&RegisterRequest {
                    email: email.clone(),
                    password: PASSWORD.to_owned(),
                    full_name: format!("Charge {i}"),
                    phone: None,
                    role,
                })
                .await?;
            let client = client.with_token(&session.token);
            let wallet = match wallet {
                Some(kind) => Some(client.wallet().open(kind, "DZD").await?.id),
                None => None,
            };
            Ok(Account {
                user_id: session.user.id,
                email,
                client,
                wallet,
            })
        }
    })
    .await
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Professional => "professional",
        Role::Merchant => "merchant",
        _ => "user",
    }
}

/// Tops up `account`'s wallet by `amount` minor units: a deposit, then the provider's webhook
/// signed with `secret`.
///
/// # Errors
///
/// When either call fails or the deposit does not succeed.
pub async fn top_up(
    account: &Account,
    provider: &Client,
    secret: &str,
    amount: i64,
) -> Result<(), BoxError> {
    let deposit = account
        .client
        .wallet()
        .deposit(&DepositRequest {
            wallet_id: account.wallet()?,
            amount,
            method: DepositMethod::Cib,
            reference: None,
        })
        .await?;
    let (body, signature) = webhook(secret, &deposit.id.to_string());
    let settled = provider.wallet().deposit_webhook(&body, &signature).await?;
    if settled.status != DepositStatus::Succeeded {
        return Err(format!("deposit {} is {:?}", deposit.id, settled.status).into());
    }
    Ok(())
}

/// The provider's confirmation of `deposit_id` and its `sha256=<hex HMAC>` signature.
pub fn webhook(secret: &str, deposit_id: &str) -> (Vec<u8>, String) {
    // A provider's own field order: the client sends these bytes as they are, signed.
    let body = format!(
        r#"{{"deposit_id":"{deposit_id}","status":"succeeded","provider_reference":"load-{deposit_id}"}}"#
    )
    .into_bytes();
    let signature = sign(secret, &body);
    (body, signature)
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Funds every account's wallet with `amount`.
///
/// # Errors
///
/// The first failed top-up.
pub async fn fund(
    accounts: &[Account],
    provider: &Client,
    secret: &str,
    amount: i64,
) -> Result<(), BoxError> {
    let accounts = Arc::new(accounts.to_vec());
    let (provider, secret) = (provider.clone(), secret.to_owned());
    concurrently(accounts.len(), SETUP_CONCURRENCY, move |i| {
        let (accounts, provider, secret) =
            (Arc::clone(&accounts), provider.clone(), secret.clone());
        async move { top_up(&accounts[i], &provider, &secret, amount).await }
    })
    .await?;
    Ok(())
}

/// A RIB with a correct key for its first 18 digits (`key = 97 - (body × 100) mod 97`).
pub fn rib(body_18_digits: u64) -> String {
    let body = body_18_digits % 1_000_000_000_000_000_000;
    let key = 97 - (u128::from(body) * 100) % 97;
    format!("{body:018}{key:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_are_signed_like_the_providers() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let (body, signature) = webhook("secret", "d-1");
        let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(event["status"], "succeeded");
        assert_eq!(event["deposit_id"], "d-1");
        assert_eq!(signature, sign("secret", &body));
    }

    #[test]
    fn ribs_carry_a_valid_key() {
        let rib = rib(2_001_234_567_890_123);
        assert_eq!(rib.len(), 20);
        let body: u128 = rib[..18].parse().unwrap();
        let key: u128 = rib[18..].parse().unwrap();
        assert_eq!(97 - (body * 100) % 97, key);
    }
}
