use contacto_client::api::Role;

use crate::helpers::{PASSWORD, registration, spawn_app};

#[tokio::test]
async fn a_user_registers_logs_in_and_reads_their_account() {
    let app = spawn_app().await;
    let mut request = registration("Nadia@Example.DZ", Role::Professional);
    request.phone = Some("0550 12 34 56".into());
    let registered = app.client.identity().register(&request).await.unwrap();
    assert_eq!(registered.user.email, "nadia@example.dz");
    assert_eq!(registered.user.phone.as_deref(), Some("+213550123456"));
    assert_eq!(registered.user.role, Role::Professional);

    let session = app
        .client
        .identity()
        .login("NADIA@example.dz", PASSWORD)
        .await
        .unwrap();
    let me = app
        .client
        .with_token(&session.token)
        .identity()
        .me()
        .await
        .unwrap();
    assert_eq!(me, registered.user);
    // The registration's own token works too.
    let me = app
        .client
        .with_token(&registered.token)
        .identity()
        .me()
        .await
        .unwrap();
    assert_eq!(me.id, registered.user.id);
}

#[tokio::test]
async fn the_client_keeps_the_servers_error_codes() {
    let app = spawn_app().await;
    app.register("taken@example.dz", Role::Customer).await;
    let cases = [
        (
            app.client
                .identity()
                .register(&registration("TAKEN@example.dz", Role::Customer))
                .await
                .unwrap_err(),
            409,
            "EMAIL_TAKEN",
        ),
        (
            app.client
                .identity()
                .login("taken@example.dz", "not the password")
                .await
                .unwrap_err(),
            401,
            "INVALID_CREDENTIALS",
        ),
        (
            app.client
                .identity()
                .login("nobody@example.dz", "not the password")
                .await
                .unwrap_err(),
            401,
            "INVALID_CREDENTIALS",
        ),
        (
            app.client.identity().me().await.unwrap_err(),
            401,
            "UNAUTHENTICATED",
        ),
        (
            app.client
                .with_token("garbage")
                .identity()
                .me()
                .await
                .unwrap_err(),
            401,
            "UNAUTHENTICATED",
        ),
        (
            app.client
                .identity()
                .register(&registration("boss@example.dz", Role::Admin))
                .await
                .unwrap_err(),
            400,
            "VALIDATION_FAILED",
        ),
    ];
    for (err, status, code) in cases {
        assert_eq!(err.status(), Some(status), "{err}");
        assert_eq!(err.code(), Some(code), "{err}");
    }
}

#[tokio::test]
async fn validation_errors_name_every_bad_field() {
    let app = spawn_app().await;
    let mut request = registration("not-an-email", Role::Customer);
    request.password = "short".into();
    request.phone = Some("123".into());
    let err = app.client.identity().register(&request).await.unwrap_err();
    let mut fields = err.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["email", "password", "phone"]);
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn api_keys_are_shown_once_authenticate_as_their_owner_and_die_when_revoked() {
    let app = spawn_app().await;
    let merchant = app.register("shop@example.dz", Role::Merchant).await;
    let owner = app.client.with_token(&merchant.token);
    let created = owner.identity().create_api_key("Caisse 1").await.unwrap();
    let listed = owner.identity().list_api_keys().await.unwrap();
    assert_eq!(listed, vec![created.api_key.clone()]);
    let listed_json = serde_json::to_string(&listed).unwrap();
    assert!(
        !listed_json.contains(&created.key),
        "a listing never shows the secret"
    );

    let pos = app.client.with_token(&created.key);
    assert_eq!(pos.identity().me().await.unwrap().id, merchant.user.id);
    let err = pos
        .identity()
        .create_api_key("minted by a key")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("FORBIDDEN"));

    let other = app.register("other@example.dz", Role::Merchant).await;
    let err = app
        .client
        .with_token(&other.token)
        .identity()
        .revoke_api_key(created.api_key.id)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("NOT_FOUND"),
        "someone else's key is not even visible"
    );

    owner
        .identity()
        .revoke_api_key(created.api_key.id)
        .await
        .unwrap();
    let err = pos.identity().me().await.unwrap_err();
    assert_eq!(
        err.code(),
        Some("UNAUTHENTICATED"),
        "revocation takes effect at once"
    );
}

#[tokio::test]
async fn repeated_failed_logins_get_429_with_retry_after() {
    let app = spawn_app().await;
    app.register("locked@example.dz", Role::Customer).await;
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            app.client
                .identity()
                .login("locked@example.dz", "wrong password")
                .await
                .unwrap_err(),
        );
    }
    let err = last.unwrap();
    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(err.code(), Some("RATE_LIMITED"));
    let contacto_client::Error::Api { retry_after, .. } = err else {
        unreachable!()
    };
    assert!(retry_after.unwrap().as_secs() > 0);
    let raw = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "locked@example.dz", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 429);
    assert!(raw.headers().contains_key("retry-after"));
}

/// Registrations from one client address refused for a taken email are counted: the 21st in an
/// hour is a 429 with `Retry-After`, and so is any registration from that address until the
/// lock ends, a free email included.
#[tokio::test]
async fn registrations_refused_for_taken_emails_lock_the_client_address() {
    let app = spawn_app().await;
    app.register("taken@example.dz", Role::Customer).await;
    let taken = registration("taken@example.dz", Role::Customer);
    for _ in 0..20 {
        let err = app.client.identity().register(&taken).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(409), Some("EMAIL_TAKEN")));
    }
    for email in ["taken@example.dz", "free@example.dz"] {
        let err = app
            .client
            .identity()
            .register(&registration(email, Role::Customer))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.error_code()),
            (Some(429), Some(contacto_client::ErrorCode::RateLimited)),
            "{email}"
        );
        let wait = err.retry_after().unwrap().as_secs();
        assert!((3_500..=3_601).contains(&wait), "{wait}");
    }
}
