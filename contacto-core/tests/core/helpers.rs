//! What the core tests share: users, wallets, funded wallets, raw SQL, request builders, metrics.

use contacto_core::api::{
    CreateApiKeyRequest, OpenWalletRequest, RegisterRequest, Role, TransactionView,
    TransferRequest, WalletAdminUpdate, WalletId, WalletType,
};
use contacto_core::{Contacto, Credential, Principal};
use tokio_postgres::GenericClient;

pub(crate) async fn user(core: &Contacto, email: &str, role: Role) -> Principal {
    let session = core
        .identity()
        .register(&RegisterRequest {
            email: email.into(),
            password: "a long enough password".into(),
            full_name: "Wallet Owner".into(),
            phone: None,
            role,
        })
        .await
        .unwrap();
    core.identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await
        .unwrap()
}

pub(crate) async fn wallet(core: &Contacto, owner: &Principal) -> WalletId {
    let wallet_type = if owner.role == Role::Merchant {
        WalletType::Business
    } else {
        WalletType::Personal
    };
    core.wallet()
        .open(
            owner,
            &OpenWalletRequest {
                wallet_type,
                currency: "DZD".into(),
            },
        )
        .await
        .unwrap()
        .id
}

pub(crate) use contacto_core::testing::{sign_webhook as sign, top_up};

pub(crate) fn transfer(from: WalletId, to: WalletId, amount: i64) -> TransferRequest {
    TransferRequest {
        from_wallet_id: from,
        to_wallet_id: Some(to),
        to_email: None,
        to_phone: None,
        amount,
        description: Some("loyer".into()),
    }
}

/// An administrator (created through the only door there is: `create_admin`).
/// `owner`'s till: a new API key of theirs, authenticated.
pub(crate) async fn till(core: &Contacto, owner: &Principal, name: &str) -> Principal {
    let key = core
        .identity()
        .create_api_key(owner, &CreateApiKeyRequest { name: name.into() })
        .await
        .unwrap();
    core.identity()
        .authenticate(Some(&format!("Bearer {}", key.key)))
        .await
        .unwrap()
}

/// An administrator's update that freezes or unfreezes a wallet.
pub(crate) fn freeze(frozen: bool) -> WalletAdminUpdate {
    WalletAdminUpdate {
        frozen: Some(frozen),
        verification_level: None,
    }
}

pub(crate) async fn admin(core: &Contacto) -> Principal {
    let email = format!("ops.{}@example.dz", uuid::Uuid::new_v4().simple());
    let admin = core
        .identity()
        .create_admin(&email, "an admin passphrase", "Ops")
        .await
        .unwrap();
    Principal {
        user_id: admin.id,
        role: Role::Admin,
        credential: Credential::Token,
    }
}

/// A raw connection, for what tests read or sabotage behind core's back.
///
/// Tests pass [`TestDatabase::direct_url`](contacto_core::testing::TestDatabase::direct_url):
/// through PgBouncer in transaction mode, a statement this client prepares may be executed on
/// another server connection, which does not know it.
pub(crate) async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Holds `wallet`'s row lock in a transaction on `client` until the transaction ends: a ledger
/// batch touching the wallet waits for it, and operations arriving meanwhile gather behind it.
pub(crate) async fn lock_wallet(
    client: &mut tokio_postgres::Client,
    wallet: WalletId,
) -> tokio_postgres::Transaction<'_> {
    let hold = client.transaction().await.unwrap();
    hold.execute(
        "SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE",
        &[&wallet.0],
    )
    .await
    .unwrap();
    hold
}

/// Returns once at least `sessions` sessions of the test's database wait for a lock, such as a
/// ledger batch behind [`lock_wallet`]'s `hold`: what the test sends next then gathers behind that
/// batch, however long the batch took to get there on a loaded machine. Looks through `client`
/// (the transaction holding the lock, or any other connection).
pub(crate) async fn until_sessions_wait_for_a_lock(client: &impl GenericClient, sessions: i64) {
    let mut waiting = 0;
    for _ in 0..2_000 {
        // The activity view is read once per transaction unless its snapshot is cleared.
        client
            .execute("SELECT pg_stat_clear_snapshot()", &[])
            .await
            .unwrap();
        waiting = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting >= sessions {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{waiting} of {sessions} sessions waited for a lock within 20 s");
}

/// Spawns `principal`'s transfer on `core` and returns once its batch waits for the lock `hold`
/// holds ([`lock_wallet`]): what the test sends next meets a batch in flight.
pub(crate) async fn transfer_behind_lock(
    core: &Contacto,
    principal: Principal,
    request: TransferRequest,
    hold: &impl GenericClient,
) -> tokio::task::JoinHandle<contacto_core::Result<TransactionView>> {
    let core = core.clone();
    let stalled =
        tokio::spawn(async move { core.wallet().transfer(&principal, &request, None).await });
    until_sessions_wait_for_a_lock(hold, 1).await;
    stalled
}

/// Amina and Karim, two customers with a wallet each: `(amina, her wallet, karim, his wallet)`.
pub(crate) async fn customers(core: &Contacto) -> (Principal, WalletId, Principal, WalletId) {
    let amina = user(core, "amina@example.dz", Role::Customer).await;
    let karim = user(core, "karim@example.dz", Role::Customer).await;
    let (a, k) = (wallet(core, &amina).await, wallet(core, &karim).await);
    (amina, a, karim, k)
}

/// Yacine with a wallet, then Amina and Karim as [`customers`] gives them: Yacine's wallet was
/// created first, so its id sorts first and every batch locks it first. A batch waiting for its
/// lock ([`lock_wallet`]) holds no other wallet. `(yacine, y, amina, a, karim, k)`.
pub(crate) async fn customers_after_yacine(
    core: &Contacto,
) -> (
    Principal,
    WalletId,
    Principal,
    WalletId,
    Principal,
    WalletId,
) {
    let yacine = user(core, "yacine@example.dz", Role::Customer).await;
    let y = wallet(core, &yacine).await;
    let (amina, a, karim, k) = customers(core).await;
    assert!(y.0 < a.0 && y.0 < k.0, "UUIDv7 ids sort by creation");
    (yacine, y, amina, a, karim, k)
}

/// The sum of a metric's samples over its labels, read from the text exposition.
pub(crate) fn metric(core: &Contacto, name: &str) -> f64 {
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&core.registry().gather())
        .unwrap();
    text.lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Each committed ledger batch's phases, as core records them: the number of batches that
/// recorded each of the four, and the seconds they spent in it.
pub(crate) fn batch_phases(core: &Contacto) -> Vec<(&'static str, f64, f64)> {
    ["connect", "read", "post", "write"]
        .into_iter()
        .map(|phase| {
            let series = |part: &str| {
                metric(
                    core,
                    &format!("contacto_ledger_batch_phase_seconds_{part}{{phase=\"{phase}\"}}"),
                )
            };
            (phase, series("count"), series("sum"))
        })
        .collect()
}

/// A RIB with a correct key: 97 - (first 18 digits × 100) mod 97.
pub(crate) fn rib(body: &str) -> String {
    let n: u128 = body.parse().unwrap();
    format!("{body}{:02}", 97 - (n * 100) % 97)
}
