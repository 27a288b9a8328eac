//! Embeds `contacto-core` in a program: registers and logs in a user without any HTTP.
//!
//! Uses `CONTACTO_DATABASE_URL` when set; otherwise creates a throwaway PostgreSQL cluster in a
//! temporary directory from the installed server programs, and removes it at the end.
//!
//! `cargo run -p contacto-examples --example embed_core`

use contacto_core::api::{LoginRequest, RegisterRequest, Role};
use contacto_core::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};

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
    let config = Config {
        database: DatabaseConfig::new(url),
        auth: AuthConfig::new("an example secret of at least 32 bytes!"),
        wallet: WalletConfig::default(),
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
    Ok(())
}
