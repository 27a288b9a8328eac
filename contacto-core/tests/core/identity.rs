use contacto_core::api::{CreateApiKeyRequest, LoginRequest, RegisterRequest, Role};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, Credential, Error};

fn registration(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.to_owned(),
        password: "a long enough password".to_owned(),
        full_name: "Amina Benali".to_owned(),
        phone: None,
        role: Role::Customer,
    }
}

async fn users_count(db: &TestDatabase) -> i64 {
    let client = crate::helpers::sql(db.direct_url()).await;
    client
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_registered_user_can_log_in_with_any_email_case() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut request = registration("Amina@Example.DZ");
    request.phone = Some("0550 12 34 56".to_owned());
    let session = core.identity().register(&request).await.unwrap();
    assert_eq!(session.user.email, "amina@example.dz");
    assert_eq!(session.user.phone.as_deref(), Some("+213550123456"));

    let login = LoginRequest {
        email: "AMINA@example.dz".to_owned(),
        password: "a long enough password".to_owned(),
    };
    let logged_in = core.identity().login(&login, None).await.unwrap();
    assert_eq!(logged_in.user.id, session.user.id);
    let principal = core
        .identity()
        .authenticate(Some(&format!("Bearer {}", logged_in.token)))
        .await
        .unwrap();
    assert_eq!(principal.user_id, session.user.id);
    assert_eq!(core.identity().me(&principal).await.unwrap(), session.user);
}

#[tokio::test]
async fn registration_is_refused_field_by_field_and_writes_nothing() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let cases: Vec<(RegisterRequest, &[&str], &str)> = vec![
        (
            RegisterRequest {
                email: "nope".into(),
                ..registration("x@example.dz")
            },
            &["email"],
            "malformed email",
        ),
        (
            RegisterRequest {
                password: "short".into(),
                ..registration("a@example.dz")
            },
            &["password"],
            "short password",
        ),
        (
            RegisterRequest {
                password: "p".repeat(129),
                ..registration("a@example.dz")
            },
            &["password"],
            "long password",
        ),
        (
            RegisterRequest {
                phone: Some("12".into()),
                ..registration("a@example.dz")
            },
            &["phone"],
            "bad phone",
        ),
        (
            RegisterRequest {
                role: Role::Admin,
                ..registration("a@example.dz")
            },
            &["role"],
            "self-registered admin",
        ),
        (
            RegisterRequest {
                email: "bad".into(),
                full_name: " ".into(),
                password: "short".into(),
                ..registration("a@example.dz")
            },
            &["email", "full_name", "password"],
            "every error at once",
        ),
    ];
    for (request, fields, why) in cases {
        let err = core.identity().register(&request).await.unwrap_err();
        let mut named: Vec<&str> = err
            .field_errors()
            .unwrap_or_else(|| panic!("{why}: expected a validation error, got {err}"))
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        named.sort_unstable();
        assert_eq!(named, fields, "{why}");
    }
    assert_eq!(users_count(&db).await, 0);
}

#[tokio::test]
async fn emails_and_phones_are_unique_whatever_their_case_or_format() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut first = registration("karim@example.dz");
    first.phone = Some("0661 23 45 67".into());
    core.identity().register(&first).await.unwrap();

    let err = core
        .identity()
        .register(&registration("KARIM@example.dz"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EmailTaken), "{err}");
    let mut same_phone = registration("other@example.dz");
    same_phone.phone = Some("+213661234567".into());
    let err = core.identity().register(&same_phone).await.unwrap_err();
    assert!(matches!(err, Error::PhoneTaken), "{err}");
    assert_eq!(users_count(&db).await, 1);
}

#[tokio::test]
async fn a_failed_login_does_not_reveal_whether_the_email_exists() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    core.identity()
        .register(&registration("known@example.dz"))
        .await
        .unwrap();
    for email in ["known@example.dz", "unknown@example.dz"] {
        let login = LoginRequest {
            email: email.into(),
            password: "wrong password!".into(),
        };
        let err = core.identity().login(&login, None).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_CREDENTIALS", "{email}");
        assert_eq!(err.to_string(), "the email or password is incorrect");
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_then_the_address() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    core.identity()
        .register(&registration("target@example.dz"))
        .await
        .unwrap();
    let policy = core.config().auth.login_throttle;
    let wrong = LoginRequest {
        email: "target@example.dz".into(),
        password: "wrong password!".into(),
    };
    let address = Some("192.0.2.7".parse().unwrap());
    for _ in 0..policy.max_failures_per_account {
        let err = core.identity().login(&wrong, address).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_CREDENTIALS");
    }
    let right = LoginRequest {
        email: "target@example.dz".into(),
        password: "a long enough password".into(),
    };
    let err = core.identity().login(&right, address).await.unwrap_err();
    assert_eq!(
        err.code(),
        "RATE_LIMITED",
        "even the right password waits out the lock"
    );
    assert!(err.retry_after_secs().unwrap() > 0);
    // Retrying while locked does not count: the lock is not drawn out by the retries it asks for.
    for _ in 0..policy.max_failures_per_account {
        let err = core.identity().login(&wrong, address).await.unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
    }

    // The lock is the guesser's: the owner, from elsewhere, still logs in.
    core.identity()
        .login(&right, Some("192.0.2.8".parse().unwrap()))
        .await
        .unwrap();

    // Guessing spread over many addresses, each under its own limits, still meets a ceiling
    // for the account as a whole: ten times the per-address limit, of which the first address
    // used its share above.
    let spread = policy.max_failures_per_account * 10 - policy.max_failures_per_account;
    for i in 0..spread {
        let from = Some(format!("10.0.{}.{}", i / 4, i % 4).parse().unwrap());
        let err = core.identity().login(&wrong, from).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_CREDENTIALS", "attempt {i}");
    }
    let err = core
        .identity()
        .login(&right, Some("192.0.2.9".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "RATE_LIMITED",
        "the account as a whole is locked"
    );

    // Other accounts from another address are not affected.
    core.identity()
        .register(&registration("bystander@example.dz"))
        .await
        .unwrap();
    let bystander = LoginRequest {
        email: "bystander@example.dz".into(),
        password: "a long enough password".into(),
    };
    core.identity()
        .login(&bystander, Some("198.51.100.1".parse().unwrap()))
        .await
        .unwrap();

    // One address spraying many accounts gets locked out too.
    let sprayer = Some("203.0.113.9".parse().unwrap());
    for i in 0..policy.max_failures_per_address {
        let login = LoginRequest {
            email: format!("victim{i}@example.dz"),
            password: "wrong password!".into(),
        };
        let _ = core.identity().login(&login, sprayer).await;
    }
    let err = core
        .identity()
        .login(&bystander, sprayer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
}

#[tokio::test]
async fn api_keys_carry_their_owner_and_stop_working_when_revoked() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut merchant = registration("shop@example.dz");
    merchant.role = Role::Merchant;
    let session = core.identity().register(&merchant).await.unwrap();
    let owner = auth(&core, &session.token).await;

    let created = core
        .identity()
        .create_api_key(
            &owner,
            &CreateApiKeyRequest {
                name: "POS 1".into(),
            },
        )
        .await
        .unwrap();
    assert!(created.key.starts_with("ck_"));
    assert!(created.key.starts_with(&created.api_key.prefix));
    let via_key = auth(&core, &created.key).await;
    assert_eq!(via_key.user_id, session.user.id);
    assert_eq!(via_key.role, Role::Merchant);
    assert_eq!(via_key.credential, Credential::ApiKey(created.api_key.id));

    let listed = core.identity().list_api_keys(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.api_key.id);

    let err = core
        .identity()
        .create_api_key(
            &via_key,
            &CreateApiKeyRequest {
                name: "minted".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");

    // Nobody else can revoke it.
    let stranger = core
        .identity()
        .register(&registration("stranger@example.dz"))
        .await
        .unwrap();
    let stranger = auth(&core, &stranger.token).await;
    let err = core
        .identity()
        .revoke_api_key(&stranger, created.api_key.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");

    core.identity()
        .revoke_api_key(&owner, created.api_key.id)
        .await
        .unwrap();
    let err = core
        .identity()
        .authenticate(Some(&format!("Bearer {}", created.key)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAUTHENTICATED");
    assert!(
        core.identity()
            .list_api_keys(&owner)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_database_stores_only_hashes_of_passwords_and_keys() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let session = core
        .identity()
        .register(&registration("hash@example.dz"))
        .await
        .unwrap();
    let owner = auth(&core, &session.token).await;
    let created = core
        .identity()
        .create_api_key(&owner, &CreateApiKeyRequest { name: "k".into() })
        .await
        .unwrap();
    let client = crate::helpers::sql(db.direct_url()).await;
    let dump: String = client
        .query_one(
            "SELECT (SELECT string_agg(u::text, ' ') FROM users u) || \
                    (SELECT string_agg(k::text, ' ') FROM api_keys k)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(dump.contains("$argon2id$"));
    assert!(!dump.contains("a long enough password"));
    assert!(!dump.contains(&created.key[created.api_key.prefix.len()..]));
}

#[tokio::test]
async fn malformed_authorization_headers_are_refused() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    for header in [
        None,
        Some(""),
        Some("Basic abc"),
        Some("Bearer "),
        Some("Bearer not.a.jwt"),
        Some("Bearer ck_unknown"),
    ] {
        let err = core.identity().authenticate(header).await.unwrap_err();
        assert_eq!(err.code(), "UNAUTHENTICATED", "{header:?}");
    }
}

#[tokio::test]
async fn admins_are_created_only_through_create_admin() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let admin = core
        .identity()
        .create_admin("ops@example.dz", "an admin password", "Ops")
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
    let login = LoginRequest {
        email: "ops@example.dz".into(),
        password: "an admin password".into(),
    };
    assert_eq!(
        core.identity().login(&login, None).await.unwrap().user.role,
        Role::Admin
    );
}

async fn auth(core: &Contacto, credential: &str) -> contacto_core::Principal {
    core.identity()
        .authenticate(Some(&format!("Bearer {credential}")))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_login_with_a_nul_byte_in_the_email_is_an_ordinary_failure() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let login = LoginRequest {
        email: "a\u{0}b@example.dz".into(),
        password: "whatever password".into(),
    };
    let err = core
        .identity()
        .login(&login, Some("192.0.2.1".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_CREDENTIALS");
}

/// Retrying against a lock neither draws it out nor fills another bucket: when the locks end,
/// the owner's next attempts count from where the locks left them.
#[tokio::test]
async fn retries_against_a_lock_are_not_counted_against_the_owner() {
    let db = TestDatabase::create().await;
    let mut config = db.config();
    config.auth.login_throttle.lockout = std::time::Duration::from_secs(1);
    let core = Contacto::builder(config).build().unwrap();
    let policy = core.config().auth.login_throttle;
    core.identity()
        .register(&registration("owner@example.dz"))
        .await
        .unwrap();
    let wrong = LoginRequest {
        email: "owner@example.dz".into(),
        password: "wrong password!".into(),
    };
    let right = LoginRequest {
        email: "owner@example.dz".into(),
        password: "a long enough password".into(),
    };
    let here = Some("192.0.2.20".parse().unwrap());
    for _ in 0..policy.max_failures_per_account {
        core.identity().login(&wrong, here).await.unwrap_err();
    }
    // Locked: every retry is refused, and none of them counts.
    for _ in 0..2 * policy.max_failures_per_account {
        let err = core.identity().login(&wrong, here).await.unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    core.identity()
        .login(&right, here)
        .await
        .expect("the lock is over and was not drawn out by the retries");

    // An address locked by spraying other accounts: the owner's attempts from it, refused by
    // that lock, are not left in the owner's own bucket for that address.
    let shared = Some("198.51.100.20".parse().unwrap());
    for i in 0..policy.max_failures_per_address + 1 {
        let spray = LoginRequest {
            email: format!("stranger{i}@example.dz"),
            password: "wrong password!".into(),
        };
        let _ = core.identity().login(&spray, shared).await;
    }
    for _ in 0..policy.max_failures_per_account {
        let err = core.identity().login(&wrong, shared).await.unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED", "the address is locked");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let err = core.identity().login(&wrong, shared).await.unwrap_err();
    assert_eq!(
        err.code(),
        "INVALID_CREDENTIALS",
        "one typo after the lock is one failure, not the sixth"
    );
    core.identity().login(&right, shared).await.unwrap();
}

/// Registrations refused for a taken email or phone are counted per client address: past the
/// limit, every registration from that address is refused until the lock ends, a free email
/// included (else the refusal itself would tell); other addresses, and callers giving none, go
/// on; a registration that succeeds is never counted; the purge keeps the count for its window.
#[tokio::test]
async fn registrations_refused_for_taken_addresses_lock_the_client_address_for_a_while() {
    let db = TestDatabase::create().await;
    let mut config = db.config();
    config.auth.registration_throttle.max_taken = 3;
    config.auth.registration_throttle.lockout = std::time::Duration::from_secs(2);
    config.auth.login_throttle.window = std::time::Duration::from_secs(1);
    let core = Contacto::builder(config).build().unwrap();
    let identity = core.identity();
    let here: std::net::IpAddr = "192.0.2.7".parse().unwrap();
    let elsewhere: std::net::IpAddr = "198.51.100.9".parse().unwrap();
    let mut taken = registration("amina@example.dz");
    taken.phone = Some("0550 12 34 56".to_owned());
    identity.register_from(&taken, Some(here)).await.unwrap();
    identity
        .register_from(&registration("free1@example.dz"), Some(here))
        .await
        .unwrap();

    // Ten at once: exactly three are answered, so no burst slips under the limit.
    let attempts = (0..10).map(|_| identity.register_from(&taken, Some(here)));
    let results = futures_util::future::join_all(attempts).await;
    let codes: Vec<&str> = results
        .iter()
        .map(|result| result.as_ref().unwrap_err().code())
        .collect();
    assert_eq!(
        codes.iter().filter(|code| **code == "EMAIL_TAKEN").count(),
        3,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|code| ["EMAIL_TAKEN", "RATE_LIMITED"].contains(code))
    );
    let users = users_count(&db).await;
    let err = identity
        .register_from(&registration("free2@example.dz"), Some(here))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "RATE_LIMITED",
        "a free email is refused too while locked"
    );
    assert!(matches!(err, Error::RateLimited { .. }));
    assert_eq!(users_count(&db).await, users, "nothing written");

    // Another address, and a caller giving none, are not locked.
    let err = identity
        .register_from(&taken, Some(elsewhere))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "EMAIL_TAKEN");
    let mut phone_taken = registration("other@example.dz");
    phone_taken.phone = Some("+213550123456".to_owned());
    let err = identity.register(&phone_taken).await.unwrap_err();
    assert_eq!(err.code(), "PHONE_TAKEN");

    // Past the login window, the purge drops a failed login's buckets and keeps the
    // registration count; past the lock, the address registers again.
    let wrong = LoginRequest {
        email: "amina@example.dz".into(),
        password: "not the password".into(),
    };
    identity.login(&wrong, None).await.unwrap_err();
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    core.identity().purge_expired_throttling().await.unwrap();
    let scopes: Vec<String> = crate::helpers::sql(db.direct_url())
        .await
        .query("SELECT DISTINCT scope FROM login_throttle", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(scopes, ["registration"]);
    identity
        .register_from(&registration("free2@example.dz"), Some(here))
        .await
        .unwrap();
}
