use contacto_core::api::{CaptureRequest, HoldRequest, HoldStatus, Role, WalletId};
use contacto_core::testing::TestDatabase;

use crate::helpers::{freeze, till, top_up, user, wallet};

#[tokio::test]
async fn a_hold_is_captured_in_part_and_the_rest_released() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let (a, s) = (wallet(&core, &amina).await, wallet(&core, &shop).await);
    top_up(&core, &amina, a, 10_000).await;
    let request = HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: s,
        amount: 6_000,
        expires_in_secs: None,
    };

    let hold = core
        .wallet()
        .authorize(&amina, &request, Some("h-1"))
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Authorized);
    let held = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!(
        (held.posted, held.pending, held.available),
        (10_000, 6_000, 4_000)
    );
    let err = core
        .wallet()
        .authorize(
            &amina,
            &HoldRequest {
                amount: 5_000,
                ..request.clone()
            },
            Some("h-2"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_FUNDS");

    let err = core
        .wallet()
        .capture(
            &shop,
            hold.id,
            &CaptureRequest {
                amount: Some(6_001),
            },
            Some("c-0"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "VALIDATION_FAILED", "never more than held");
    let captured = core
        .wallet()
        .capture(
            &shop,
            hold.id,
            &CaptureRequest {
                amount: Some(2_500),
            },
            Some("c-1"),
        )
        .await
        .unwrap();
    assert_eq!(
        (captured.status, captured.captured),
        (HoldStatus::Captured, 2_500)
    );
    assert!(captured.transaction_id.is_some());
    let after = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!(
        (after.posted, after.pending),
        (7_500, 0),
        "the rest was released"
    );
    assert_eq!(core.wallet().get(&shop, s).await.unwrap().posted, 2_500);
    let err = core.wallet().void(&amina, hold.id, None).await.unwrap_err();
    assert_eq!(err.code(), "HOLD_SETTLED");
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);

    // Counted by kind and outcome (the void of a settled hold as the caller's fault).
    for (kind, outcome) in [
        ("hold", "ok"),
        ("hold_capture", "ok"),
        ("hold_void", "rejected"),
    ] {
        let name =
            format!("contacto_business_operations_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}");
        assert_eq!(crate::helpers::metric(&core, &name), 1.0, "{name}");
    }
}

/// A sweep submits its expired holds together, so they share the ledger's batches, and drains a
/// backlog larger than one group (500) in one call: 520 holds of 26 payers (twenty on each
/// wallet) lapse in a handful of batches, not 520 commits.
#[tokio::test]
async fn a_sweep_releases_its_expired_holds_in_shared_batches() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let s = wallet(&core, &shop).await;
    let mut payers = Vec::new();
    for i in 0..26 {
        let payer = user(&core, &format!("payer{i}@example.dz"), Role::Customer).await;
        let w = wallet(&core, &payer).await;
        top_up(&core, &payer, w, 20_000).await;
        payers.push((payer, w));
    }
    let wallets = core.wallet();
    let holds = payers.iter().flat_map(|(payer, w)| {
        (0..20).map(move |h| {
            let request = HoldRequest {
                payer_wallet_id: *w,
                payee_wallet_id: s,
                amount: 1_000,
                expires_in_secs: Some(60),
            };
            async move {
                wallets
                    .authorize(payer, &request, Some(&format!("h-{h}")))
                    .await
            }
        })
    });
    for held in futures_util::future::join_all(holds).await {
        held.unwrap();
    }
    crate::helpers::sql(db.direct_url())
        .await
        .execute(
            "UPDATE holds SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let batches = || crate::helpers::metric(&core, "contacto_ledger_batch_size_count");
    let before = batches();
    assert_eq!(core.wallet().expire_holds().await.unwrap(), 520);
    let used = batches() - before;
    assert!(
        (2.0..=20.0).contains(&used),
        "{used} batches for 520 releases"
    );
    for (payer, w) in &payers {
        let released = core.wallet().get(payer, *w).await.unwrap();
        assert_eq!(
            (released.posted, released.pending, released.available),
            (20_000, 0, 20_000)
        );
    }
    assert_eq!(core.wallet().expire_holds().await.unwrap(), 0);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn voided_and_expired_holds_release_their_amount() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    let request = HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: k,
        amount: 3_000,
        expires_in_secs: Some(60),
    };

    let voided = core
        .wallet()
        .authorize(&amina, &request, Some("v"))
        .await
        .unwrap();
    let stranger = user(&core, "stranger@example.dz", Role::Customer).await;
    assert_eq!(
        core.wallet()
            .void(&stranger, voided.id, None)
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        core.wallet()
            .void(&amina, voided.id, None)
            .await
            .unwrap()
            .status,
        HoldStatus::Voided
    );

    let lapsing = core
        .wallet()
        .authorize(&amina, &request, Some("e"))
        .await
        .unwrap();
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().pending, 3_000);
    assert_eq!(
        core.wallet().expire_holds().await.unwrap(),
        0,
        "not due yet"
    );
    // Bring its deadline into the past instead of waiting a minute.
    let client = crate::helpers::sql(db.direct_url()).await;
    client
        .execute(
            "UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&lapsing.id.0],
        )
        .await
        .unwrap();
    let err = core
        .wallet()
        .capture(
            &karim,
            lapsing.id,
            &CaptureRequest { amount: None },
            Some("late"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "HOLD_SETTLED",
        "a lapsed hold cannot be captured, even before the sweep"
    );
    assert_eq!(core.wallet().expire_holds().await.unwrap(), 1);
    assert_eq!(
        core.wallet().hold(&amina, lapsing.id).await.unwrap().status,
        HoldStatus::Expired
    );
    let after = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!((after.posted, after.pending), (10_000, 0));
    let bad = HoldRequest {
        expires_in_secs: Some(5),
        ..request
    };
    assert_eq!(
        core.wallet()
            .authorize(&amina, &bad, Some("b"))
            .await
            .unwrap_err()
            .code(),
        "VALIDATION_FAILED"
    );
    // The void, the stranger's attempt at it and the expiry are counted.
    for (kind, outcome) in [
        ("hold_void", "ok"),
        ("hold_void", "rejected"),
        ("hold_expiry", "ok"),
    ] {
        let name =
            format!("contacto_business_operations_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}");
        assert_eq!(crate::helpers::metric(&core, &name), 1.0, "{name}");
    }
}

/// A till's key captures holds made to its owner (a payment it takes), never its owner's own
/// holds, whose capture would send the owner's money out.
#[tokio::test]
async fn an_api_key_captures_only_holds_made_to_its_owner() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let supplier = user(&core, "supplier@example.dz", Role::Merchant).await;
    let (s, p) = (wallet(&core, &shop).await, wallet(&core, &supplier).await);
    top_up(&core, &shop, s, 10_000).await;
    let (shop_till, supplier_till) = (
        till(&core, &shop, "till").await,
        till(&core, &supplier, "till").await,
    );
    let hold = core
        .wallet()
        .authorize(
            &shop,
            &HoldRequest {
                payer_wallet_id: s,
                payee_wallet_id: p,
                amount: 4_000,
                expires_in_secs: None,
            },
            Some("h"),
        )
        .await
        .unwrap();

    let err = core
        .wallet()
        .capture(
            &shop_till,
            hold.id,
            &CaptureRequest { amount: None },
            Some("c"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert_eq!(core.wallet().get(&shop, s).await.unwrap().posted, 10_000);

    let captured = core
        .wallet()
        .capture(
            &supplier_till,
            hold.id,
            &CaptureRequest { amount: None },
            Some("c"),
        )
        .await
        .unwrap();
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(core.wallet().get(&supplier, p).await.unwrap().posted, 4_000);
}

/// A hold goes to somebody who can be paid: not a system account, not a frozen wallet (its
/// capture would be refused, and the payer's money tied up until the hold lapsed).
#[tokio::test]
async fn a_hold_to_a_frozen_wallet_or_a_system_account_is_refused() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let (a, s) = (wallet(&core, &amina).await, wallet(&core, &shop).await);
    top_up(&core, &amina, a, 10_000).await;
    let to = |payee| HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: payee,
        amount: 1_000,
        expires_in_secs: None,
    };
    let fee_revenue =
        WalletId(uuid::Uuid::parse_str("00000000-0000-7000-8000-000000000002").unwrap());
    let err = core
        .wallet()
        .authorize(&amina, &to(fee_revenue), Some("h-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");

    let admin = crate::helpers::admin(&core).await;
    core.wallet()
        .administer(&admin, s, &freeze(true))
        .await
        .unwrap();
    let err = core
        .wallet()
        .authorize(&amina, &to(s), Some("h-2"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WALLET_FROZEN");
    let held = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!((held.posted, held.pending), (10_000, 0), "nothing held");
}

/// An administrator sees every hold but settles only those one of their own wallets is party to:
/// capturing or voiding another's hold is forbidden and leaves it authorised, money unmoved.
#[tokio::test]
async fn an_administrator_sees_a_hold_of_others_but_neither_captures_nor_voids_it() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    let hold = core
        .wallet()
        .authorize(
            &amina,
            &HoldRequest {
                payer_wallet_id: a,
                payee_wallet_id: k,
                amount: 4_000,
                expires_in_secs: None,
            },
            Some("h"),
        )
        .await
        .unwrap();
    let ops = crate::helpers::admin(&core).await;
    assert_eq!(
        core.wallet().hold(&ops, hold.id).await.unwrap().status,
        HoldStatus::Authorized,
        "administrators see it"
    );
    let err = core
        .wallet()
        .capture(&ops, hold.id, &CaptureRequest { amount: None }, Some("c"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let err = core.wallet().void(&ops, hold.id, None).await.unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert_eq!(
        core.wallet().hold(&amina, hold.id).await.unwrap().status,
        HoldStatus::Authorized
    );
    let payer = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!((payer.posted, payer.pending), (10_000, 4_000));
    assert_eq!(
        core.wallet()
            .void(&amina, hold.id, None)
            .await
            .unwrap()
            .status,
        HoldStatus::Voided,
        "the payer still can"
    );
}

/// What a hold counted against the daily limit and never paid out is given back: a void, the
/// part a capture leaves, an expiry. The level-0 limit is 50,000 DZD (5,000,000 centimes).
#[tokio::test]
async fn what_a_hold_does_not_pay_out_is_given_back_to_the_daily_limit() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 20_000_000).await;
    let hold = |amount| HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: k,
        amount,
        expires_in_secs: None,
    };
    let send = |amount| {
        let (core, amina) = (&core, &amina);
        async move {
            core.wallet()
                .transfer(amina, &crate::helpers::transfer(a, k, amount), None)
                .await
                .map(|_| ())
                .map_err(|err| err.code().to_owned())
        }
    };
    let voided = core
        .wallet()
        .authorize(&amina, &hold(4_000_000), None)
        .await
        .unwrap();
    assert_eq!(send(2_000_000).await.unwrap_err(), "LIMIT_EXCEEDED");
    core.wallet().void(&amina, voided.id, None).await.unwrap();
    send(2_000_000)
        .await
        .expect("the void gave 40,000 DZD back");

    // 20,000 sent: a hold of 30,000 fills the day; capturing 10,000 of it gives 20,000 back.
    let captured = core
        .wallet()
        .authorize(&amina, &hold(3_000_000), None)
        .await
        .unwrap();
    assert_eq!(send(1).await.unwrap_err(), "LIMIT_EXCEEDED");
    let part = CaptureRequest {
        amount: Some(1_000_000),
    };
    core.wallet()
        .capture(&karim, captured.id, &part, None)
        .await
        .unwrap();
    send(1_000_000)
        .await
        .expect("the uncaptured 20,000 came back");

    // 40,000 used: a hold of the last 10,000 that lapses gives them back.
    let lapsing = core
        .wallet()
        .authorize(&amina, &hold(1_000_000), None)
        .await
        .unwrap();
    assert_eq!(send(1).await.unwrap_err(), "LIMIT_EXCEEDED");
    crate::helpers::sql(db.direct_url())
        .await
        .execute(
            "UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&lapsing.id.0],
        )
        .await
        .unwrap();
    assert_eq!(core.wallet().expire_holds().await.unwrap(), 1);
    send(1_000_000).await.expect("the expiry gave 10,000 back");
    assert_eq!(send(1).await.unwrap_err(), "LIMIT_EXCEEDED");
    let after = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!((after.posted, after.pending), (15_000_000, 0));
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}
