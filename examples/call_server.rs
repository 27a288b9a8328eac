//! Calls a running Contacto server through `contacto-client`: registers a merchant, logs in,
//! creates an API key for a till, uses it, and revokes it.
//!
//! Start a server first (`cargo run -p contacto-server`), then
//! `cargo run -p contacto-examples --example call_server` (`CONTACTO_URL` to point elsewhere).

use contacto_client::Client;
use contacto_client::api::{RegisterRequest, Role};

#[tokio::main]
async fn main() -> Result<(), contacto_client::Error> {
    let base_url =
        std::env::var("CONTACTO_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let client = Client::builder(&base_url).build()?;
    println!("server {} is {}", base_url, client.health().await?.status);

    let email = format!("boutique.{}@example.dz", std::process::id());
    let password = "une phrase de passe longue";
    let registered = client
        .identity()
        .register(&RegisterRequest {
            email: email.clone(),
            password: password.to_owned(),
            full_name: "Boutique El Djazair".to_owned(),
            phone: None,
            role: Role::Merchant,
        })
        .await?;
    println!("registered merchant {}", registered.user.id);

    // The client keeps the server's error codes.
    let again = RegisterRequest {
        email: email.clone(),
        password: password.to_owned(),
        full_name: "Someone Else".to_owned(),
        phone: None,
        role: Role::Customer,
    };
    if let Err(err) = client.identity().register(&again).await {
        println!(
            "registering the same email again: {}",
            err.code().unwrap_or("?")
        );
    }

    let session = client.identity().login(&email, password).await?;
    let merchant = client.with_token(&session.token);
    let key = merchant.identity().create_api_key("Caisse 1").await?;
    println!("API key {} created (secret shown once)", key.api_key.prefix);

    let till = client.with_token(&key.key);
    println!("the till acts as {}", till.identity().me().await?.full_name);

    merchant.identity().revoke_api_key(key.api_key.id).await?;
    match till.identity().me().await {
        Err(err) => println!("after revocation: {}", err.code().unwrap_or("?")),
        Ok(_) => println!("unexpected: a revoked key still works"),
    }
    Ok(())
}
