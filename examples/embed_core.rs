//! Embeds `contacto-core` in a program: registers and logs in users, opens wallets, tops one up
//! through the payment provider's signed notification, moves money and checks the books, all
//! without any HTTP.
//!
//! Uses `CONTACTO_DATABASE_URL` when set; otherwise creates a throwaway PostgreSQL cluster in a
//! temporary directory from the installed server programs, and removes it at the end.
//!
//! `cargo run -p contacto-examples --example embed_core`

use contacto_core::api::{
    DepositMethod, DepositRequest, LoginRequest, OpenWalletRequest, PaymentRequest,
    RegisterRequest, Role, WalletType,
};
use contacto_core::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (url, cluster) = match std::env::var("CONTACTO_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let root =
                std::env::temp_dir().join(format!("contacto-example-{}", std::process::id()));
            let cluster =
                ManagedPostgres::open(PgBinaries::locate(None)?, ClusterOptions::new(&root))?;
            cluster.start()?;
            cluster.ensure_database("contacto").await?;
            (cluster.connection_string("contacto"), Some(cluster))
        }
    };
    let outcome = run(&url).await;
    if let Some(cluster) = cluster {
        cluster.stop()?;
        std::fs::remove_dir_all(cluster.root())?;
    }
    outcome
}

async fn run(url: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // A real application reads its secret from its own configuration.
    let webhook_secret = "the provider's shared secret";
    let config = Config {
        database: DatabaseConfig::new(url),
        auth: AuthConfig::new("an example secret of at least 32 bytes!"),
        wallet: WalletConfig {
            webhook_secret: Some(webhook_secret.to_owned().into()),
            ..WalletConfig::default()
        },
    };
    let contacto = Contacto::builder(config).build()?;
    contacto.migrate().await?;

    let email = format!("amina.{}@example.dz", std::process::id());
    let registered = contacto
        .identity()
        .register(&RegisterRequest {
            email: email.clone(),
            password: "une phrase de passe longue".to_owned(),
            full_name: "Amina Benali".to_owned(),
            phone: Some("0550 12 34 56".to_owned()),
            role: Role::Customer,
        })
        .await?;
    println!(
        "registered {} ({})",
        registered.user.email, registered.user.id
    );

    let session = contacto
        .identity()
        .login(
            &LoginRequest {
                email,
                password: "une phrase de passe longue".to_owned(),
            },
            None,
        )
        .await?;
    let principal = contacto
        .identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await?;
    let me = contacto.identity().me(&principal).await?;
    println!(
        "logged in as {} <{}>, phone {}, token valid until {}",
        me.full_name,
        me.email,
        me.phone.as_deref().unwrap_or("-"),
        session.expires_at
    );

    // Money: Amina tops up 1,000 DZD, then pays a shop 250 DZD (centimes everywhere).
    let personal = OpenWalletRequest {
        wallet_type: WalletType::Personal,
        currency: "DZD".into(),
    };
    let amina_wallet = contacto.wallet().open(&principal, &personal).await?;
    let deposit = contacto
        .wallet()
        .deposit(
            &principal,
            &DepositRequest {
                wallet_id: amina_wallet.id,
                amount: 100_000,
                method: DepositMethod::Edahabia,
                reference: None,
            },
        )
        .await?;
    // What the payment provider sends once the card payment went through.
    let event = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id, "status": "succeeded", "provider_reference": "edahabia-42"
    }))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(webhook_secret.as_bytes())?;
    mac.update(&event);
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    contacto
        .wallet()
        .deposit_webhook(&event, Some(&format!("sha256={signature}")))
        .await?;

    let shop = register(&contacto, "boutique", Role::Merchant).await?;
    let business = OpenWalletRequest {
        wallet_type: WalletType::Business,
        currency: "DZD".into(),
    };
    let shop_wallet = contacto.wallet().open(&shop, &business).await?;
    let payment = PaymentRequest {
        payer_wallet_id: amina_wallet.id,
        merchant_wallet_id: shop_wallet.id,
        amount: 25_000,
        description: Some("Commande 1042".into()),
    };
    let key = contacto_core::new_idempotency_key();
    let paid = contacto
        .wallet()
        .pay(&principal, &payment, Some(&key))
        .await?;
    let replayed = contacto
        .wallet()
        .pay(&principal, &payment, Some(&key))
        .await?;
    assert_eq!(
        paid, replayed,
        "a retry under the same key posts nothing twice"
    );
    println!(
        "Amina has {} centimes, the shop {}; the books balance: {}",
        contacto
            .wallet()
            .get(&principal, amina_wallet.id)
            .await?
            .available,
        contacto
            .wallet()
            .get(&shop, shop_wallet.id)
            .await?
            .available,
        contacto.wallet().reconcile(None).await?.balanced
    );
    Ok(())
}

async fn register(
    contacto: &Contacto,
    name: &str,
    role: Role,
) -> Result<contacto_core::Principal, Box<dyn std::error::Error + Send + Sync>> {
    let session = contacto
        .identity()
        .register(&RegisterRequest {
            email: format!("{name}.{}@example.dz", std::process::id()),
            password: "une phrase de passe longue".to_owned(),
            full_name: name.to_owned(),
            phone: None,
            role,
        })
        .await?;
    Ok(contacto
        .identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await?)
}
