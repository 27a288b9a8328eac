//! The wallet over HTTP: the real server, the real client, real PostgreSQL.

use contacto_client::api::{
    BulkTransferRequest, DepositMethod, DepositRequest, DepositStatus, HistoryStatus, Role,
    TransactionKind, TransactionStatus, TransferRequest, WalletId, WalletType,
};
use contacto_client::{Client, HistoryFilter};
use contacto_core::testing::TEST_WEBHOOK_SECRET;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app};

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(TEST_WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A user with a funded wallet: registered, wallet opened, topped up through the signed webhook.
async fn funded(app: &TestApp, email: &str, role: Role, amount: i64) -> (Client, WalletId) {
    let session = app.register(email, role).await;
    let client = app.client.with_token(&session.token);
    let wallet_type = if role == Role::Merchant {
        WalletType::Business
    } else {
        WalletType::Personal
    };
    let wallet = client.wallet().open(wallet_type, "DZD").await.unwrap();
    if amount > 0 {
        let deposit = client
            .wallet()
            .deposit(&DepositRequest {
                wallet_id: wallet.id,
                amount,
                method: DepositMethod::Baridimob,
                reference: None,
            })
            .await
            .unwrap();
        assert_eq!(deposit.status, DepositStatus::Pending);
        // A provider's own field order and spacing: signed and sent byte for byte.
        let event = format!(
            r#"{{"status": "succeeded", "deposit_id": "{}", "provider_reference": "bm-1"}}"#,
            deposit.id
        );
        let signature = sign(event.as_bytes());
        let settled = app
            .client
            .wallet()
            .deposit_webhook(event.as_bytes(), &signature)
            .await
            .unwrap();
        assert_eq!(settled.status, DepositStatus::Succeeded);
    }
    (client, wallet.id)
}

#[tokio::test]
async fn money_moves_through_the_api_and_the_books_balance() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 100_000).await;
    let (karim, k) = funded(&app, "karim@example.dz", Role::Professional, 0).await;
    let request = TransferRequest {
        from_wallet_id: a,
        to_wallet_id: Some(k),
        to_email: None,
        to_phone: None,
        amount: 25_000,
        description: Some("Loyer".into()),
    };
    let posted = amina.wallet().transfer(&request).await.unwrap();
    assert_eq!(posted.kind, TransactionKind::Transfer);
    let wallet = amina.wallet().get(a).await.unwrap();
    assert_eq!(
        (wallet.posted, wallet.pending, wallet.available),
        (75_000, 0, 75_000)
    );
    assert_eq!(karim.wallet().get(k).await.unwrap().available, 25_000);
    assert_eq!(
        karim
            .wallet()
            .transaction(posted.id)
            .await
            .unwrap()
            .entries
            .len(),
        2
    );

    let err = amina
        .wallet()
        .transfer(&TransferRequest {
            amount: 1_000_000,
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("INSUFFICIENT_FUNDS"))
    );
    let err = karim.wallet().get(a).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some("NOT_FOUND"),
        "another's wallet is invisible"
    );

    let err = amina.wallet().reconciliation().await.unwrap_err();
    assert_eq!(err.code(), Some("FORBIDDEN"));
    let core = app.db.as_ref().unwrap().contacto();
    core.identity()
        .create_admin("ops@example.dz", "an admin passphrase", "Ops")
        .await
        .unwrap();
    let admin = app
        .client
        .identity()
        .login("ops@example.dz", "an admin passphrase")
        .await
        .unwrap();
    let report = app
        .client
        .with_token(&admin.token)
        .wallet()
        .reconciliation()
        .await
        .unwrap();
    assert!(report.balanced, "{report:?}");
}

#[tokio::test]
async fn history_pages_walk_back_with_a_cursor_and_filter_by_kind_and_status() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 100_000).await;
    let (_, k) = funded(&app, "karim@example.dz", Role::Customer, 0).await;
    for n in 1..=5 {
        let request = TransferRequest {
            from_wallet_id: a,
            to_wallet_id: Some(k),
            to_email: None,
            to_phone: None,
            amount: n * 100,
            description: None,
        };
        amina.wallet().transfer(&request).await.unwrap();
    }
    let pending = amina
        .wallet()
        .deposit(&DepositRequest {
            wallet_id: a,
            amount: 2_500,
            method: DepositMethod::Baridimob,
            reference: None,
        })
        .await
        .unwrap();
    let amina = &amina;
    let walk = |status| async move {
        let mut amounts = Vec::new();
        let mut filter = HistoryFilter {
            limit: Some(2),
            status,
            ..HistoryFilter::default()
        };
        loop {
            let page = amina.wallet().history(a, &filter).await.unwrap();
            assert!(page.items.len() <= 2);
            amounts.extend(page.items.iter().map(|t| t.amount));
            match page.next_cursor {
                Some(cursor) => filter.cursor = Some(cursor),
                None => break,
            }
        }
        amounts
    };
    assert_eq!(
        walk(None).await,
        [500, 400, 300, 200, 100, 100_000],
        "newest first, nothing twice, posted lines alone by default"
    );
    assert_eq!(
        walk(Some(HistoryStatus::All)).await,
        [2_500, 500, 400, 300, 200, 100, 100_000],
        "every line"
    );
    let status = |status| HistoryFilter {
        status: Some(status),
        ..HistoryFilter::default()
    };
    let waiting = amina
        .wallet()
        .history(a, &status(HistoryStatus::Pending))
        .await
        .unwrap();
    assert_eq!(waiting.items.len(), 1);
    assert_eq!(
        (
            waiting.items[0].id,
            waiting.items[0].kind,
            waiting.items[0].entries[0].balance_after
        ),
        (pending.id.0, TransactionKind::Deposit, None)
    );
    let posted = amina
        .wallet()
        .history(a, &status(HistoryStatus::Posted))
        .await
        .unwrap();
    assert_eq!(posted.items.len(), 6);
    assert!(
        posted
            .items
            .iter()
            .all(|t| t.status == TransactionStatus::Posted)
    );
    let deposits = amina
        .wallet()
        .history(
            a,
            &HistoryFilter {
                kind: Some(TransactionKind::Deposit),
                status: Some(HistoryStatus::All),
                ..HistoryFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        deposits.items.len(),
        2,
        "the posted deposit and the pending one"
    );
    let token = amina_token(&app).await;
    for (query, field) in [("limit=1000", "limit"), ("status=settled", "status")] {
        let bad = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/wallets/{a}/transactions?{query}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400, "{query}");
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["error"]["details"]["fields"][0]["field"], field);
    }
}

async fn amina_token(app: &TestApp) -> String {
    app.client
        .identity()
        .login("amina@example.dz", crate::helpers::PASSWORD)
        .await
        .unwrap()
        .token
}

#[tokio::test]
async fn a_retried_transfer_is_answered_byte_for_byte_and_posts_once() {
    let app = spawn_app().await;
    let (_, a) = funded(&app, "amina@example.dz", Role::Customer, 10_000).await;
    let (_, k) = funded(&app, "karim@example.dz", Role::Customer, 0).await;
    let token = amina_token(&app).await;
    let http = reqwest::Client::new();
    let body = json!({"from_wallet_id": a, "to_wallet_id": k, "amount": 1_500, "description": "x"});
    let send = |key: Option<&'static str>, body: Value| {
        let mut request = http
            .post(app.url("/api/v1/transfers"))
            .bearer_auth(&token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send()
    };
    let missing = send(None, body.clone()).await.unwrap();
    assert_eq!(missing.status(), 400);
    let missing: Value = missing.json().await.unwrap();
    assert_eq!(
        missing["error"]["details"]["fields"][0]["field"],
        "Idempotency-Key"
    );

    let first = send(Some("key-1"), body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first = first.bytes().await.unwrap();
    let again = send(Some("key-1"), body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.bytes().await.unwrap(),
        first,
        "the replay is byte for byte"
    );

    let mut other = body.clone();
    other["amount"] = json!(2_000);
    let reused = send(Some("key-1"), other).await.unwrap();
    assert_eq!(reused.status(), 409);
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(reused["error"]["code"], "IDEMPOTENCY_KEY_REUSED");

    let broke = json!({"from_wallet_id": a, "to_wallet_id": k, "amount": 99_999});
    let refused = send(Some("key-2"), broke.clone()).await.unwrap();
    assert_eq!(refused.status(), 409);
    let refused = refused.bytes().await.unwrap();
    let refused_again = send(Some("key-2"), broke)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        refused_again, refused,
        "a rejection replays byte for byte too"
    );

    let wallet = app.client.with_token(&token).wallet().get(a).await.unwrap();
    assert_eq!(wallet.posted, 8_500, "posted exactly once");
}

#[tokio::test]
async fn a_webhook_with_a_bad_signature_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 0).await;
    let deposit = amina
        .wallet()
        .deposit(&DepositRequest {
            wallet_id: a,
            amount: 7_000,
            method: DepositMethod::Cib,
            reference: None,
        })
        .await
        .unwrap();
    let event =
        json!({"deposit_id": deposit.id, "status": "succeeded", "provider_reference": "cib-9"});
    let body = serde_json::to_vec(&event).unwrap();
    let http = reqwest::Client::new();
    for signature in [
        None,
        Some("sha256=deadbeef".to_owned()),
        Some(sign(b"another body")),
    ] {
        let mut request = http
            .post(app.url("/api/v1/deposits/webhook"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header("x-contacto-signature", signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{signature:?}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"]["code"], "INVALID_SIGNATURE");
    }
    assert_eq!(
        amina
            .wallet()
            .deposit_status(deposit.id)
            .await
            .unwrap()
            .status,
        DepositStatus::Pending
    );
    assert_eq!(amina.wallet().get(a).await.unwrap().posted, 0);
    assert_eq!(app.count("ledger_transactions").await, 0);

    // The provider delivers twice: acknowledged both times, credited once.
    for _ in 0..2 {
        let response = http
            .post(app.url("/api/v1/deposits/webhook"))
            .header("content-type", "application/json")
            .header("x-contacto-signature", sign(&body))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(amina.wallet().get(a).await.unwrap().posted, 7_000);
}

#[tokio::test]
async fn a_bulk_request_answers_each_transfer_and_replays_byte_for_byte() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 1_000).await;
    let (karim, k) = funded(&app, "karim@example.dz", Role::Customer, 0).await;
    let transfer = |amount: i64| TransferRequest {
        from_wallet_id: a,
        to_wallet_id: Some(k),
        to_email: None,
        to_phone: None,
        amount,
        description: None,
    };
    let request = BulkTransferRequest {
        transfers: vec![transfer(100), transfer(5_000), transfer(200)],
        atomic: false,
    };
    let answer = amina.wallet().transfer_bulk(&request).await.unwrap();
    assert_eq!((answer.posted, answer.rejected), (2, 1));
    assert_eq!(
        answer.results[1].error.as_ref().unwrap().code,
        "INSUFFICIENT_FUNDS"
    );
    assert_eq!(karim.wallet().get(k).await.unwrap().posted, 300);

    let token = amina_token(&app).await;
    let http = reqwest::Client::new();
    let send = |body: Value| {
        http.post(app.url("/api/v1/transfers/batch"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "payroll-november")
            .json(&body)
            .send()
    };
    let body = serde_json::to_value(&request).unwrap();
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let first = first.bytes().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.bytes().await.unwrap(),
        first,
        "the replay is byte for byte"
    );
    assert_eq!(
        karim.wallet().get(k).await.unwrap().posted,
        600,
        "posted once"
    );

    let mut other = body;
    other["transfers"][0]["amount"] = json!(101);
    let reused = send(other).await.unwrap();
    assert_eq!(reused.status(), 409);
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(reused["error"]["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(karim.wallet().get(k).await.unwrap().posted, 600);
}

/// Transfers to an address that belongs to nobody: with the server's defaults, the first twenty
/// are 404s; the next locks the caller's look-ups by email or phone for an hour (429 with
/// `Retry-After`, longer than the client's retry loop waits), found or not, while transfers
/// naming a wallet go on.
#[tokio::test]
async fn receivers_not_found_by_email_lock_the_callers_lookups() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 10_000).await;
    let (karim, k) = funded(&app, "karim@example.dz", Role::Customer, 0).await;
    let to = |email: &str| TransferRequest {
        from_wallet_id: a,
        to_wallet_id: None,
        to_email: Some(email.into()),
        to_phone: None,
        amount: 100,
        description: None,
    };
    amina
        .wallet()
        .transfer(&to("karim@example.dz"))
        .await
        .unwrap();
    for i in 0..20 {
        let err = amina
            .wallet()
            .transfer(&to(&format!("nobody{i}@example.dz")))
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(404), Some("NOT_FOUND")));
    }
    for email in ["nobody20@example.dz", "karim@example.dz"] {
        let err = amina.wallet().transfer(&to(email)).await.unwrap_err();
        assert_eq!(
            (err.status(), err.error_code()),
            (Some(429), Some(contacto_client::ErrorCode::RateLimited))
        );
        let wait = err.retry_after().unwrap().as_secs();
        assert!((3_500..=3_601).contains(&wait), "{wait}");
    }
    amina
        .wallet()
        .transfer(&TransferRequest {
            to_wallet_id: Some(k),
            to_email: None,
            ..to("")
        })
        .await
        .unwrap();
    assert_eq!(karim.wallet().get(k).await.unwrap().posted, 200);
}

/// A bulk request as large as the endpoint takes, every transfer with the longest description in
/// Arabic (about 1 kB each, 9 MB in all), reaches the wallet: the one bad amount is named, not
/// the body's size refused.
#[tokio::test]
async fn the_largest_bulk_request_is_read_whole() {
    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 10_000).await;
    let (_, k) = funded(&app, "karim@example.dz", Role::Customer, 0).await;
    let description = "ك".repeat(contacto_core::DESCRIPTION_MAX_CHARS);
    let mut transfers = vec![
        TransferRequest {
            from_wallet_id: a,
            to_wallet_id: Some(k),
            to_email: None,
            to_phone: None,
            amount: 1,
            description: Some(description),
        };
        contacto_core::MAX_BULK_TRANSFERS
    ];
    transfers.last_mut().unwrap().amount = 0;
    let request = BulkTransferRequest {
        transfers,
        atomic: true,
    };
    assert!(serde_json::to_vec(&request).unwrap().len() > 8_000_000);
    let err = amina.wallet().transfer_bulk(&request).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(err.invalid_fields(), ["transfers[7999].amount"]);
    assert_eq!(amina.wallet().get(a).await.unwrap().posted, 10_000);
}

/// A RIB with a correct key: 97 - (first 18 digits × 100) mod 97.
fn rib(body: &str) -> String {
    let n: u128 = body.parse().unwrap();
    format!("{body}{:02}", 97 - (n * 100) % 97)
}

/// Holds and withdrawals through the client: each settlement is a money-moving POST under an
/// idempotency key, so a retry under the same key is answered as the first call was and settles
/// nothing twice, a key sent with another settlement is refused, and the server refuses a
/// settlement without a key.
#[tokio::test]
async fn holds_and_withdrawals_settle_once_under_their_keys() {
    use contacto_client::api::{HoldRequest, HoldStatus, WithdrawalRequest, WithdrawalStatus};

    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 10_000).await;
    let (shop, s) = funded(&app, "shop@example.dz", Role::Merchant, 0).await;
    let hold = |amount| HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: s,
        amount,
        expires_in_secs: None,
    };
    let captured = amina.wallet().authorize(&hold(3_000)).await.unwrap();
    let voided = amina.wallet().authorize(&hold(2_000)).await.unwrap();
    assert_eq!(amina.wallet().get(a).await.unwrap().available, 5_000);
    let first = shop
        .wallet()
        .capture_with_key(captured.id, Some(1_000), "capture-1")
        .await
        .unwrap();
    assert_eq!(
        (first.status, first.captured),
        (HoldStatus::Captured, 1_000)
    );
    let once = amina
        .wallet()
        .void_with_key(voided.id, "void-1")
        .await
        .unwrap();
    assert_eq!(once.status, HoldStatus::Voided);
    let again = amina
        .wallet()
        .void_with_key(voided.id, "void-1")
        .await
        .unwrap();
    assert_eq!(again, once, "the retry is answered as the first call was");
    let err = amina
        .wallet()
        .void_with_key(captured.id, "void-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IDEMPOTENCY_KEY_REUSED"));
    let err = amina.wallet().void(voided.id).await.unwrap_err();
    assert_eq!(err.code(), Some("HOLD_SETTLED"), "a new key voids anew");
    let wallet = amina.wallet().get(a).await.unwrap();
    assert_eq!((wallet.posted, wallet.pending), (9_000, 0));

    let admin = app.admin_session().await;
    let ops = app.client.with_token(&admin.token);
    let request = |amount| WithdrawalRequest {
        wallet_id: a,
        amount,
        rib: rib("002001234567890123"),
    };
    let paid = amina.wallet().withdraw(&request(4_000)).await.unwrap();
    let refused = amina.wallet().withdraw(&request(1_000)).await.unwrap();
    let completed = ops
        .wallet()
        .settle_withdrawal_with_key(paid.id, true, "complete-1")
        .await
        .unwrap();
    assert_eq!(completed.status, WithdrawalStatus::Completed);
    let replayed = ops
        .wallet()
        .settle_withdrawal_with_key(paid.id, true, "complete-1")
        .await
        .unwrap();
    assert_eq!(replayed, completed);
    let err = ops
        .wallet()
        .settle_withdrawal_with_key(paid.id, false, "complete-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IDEMPOTENCY_KEY_REUSED"));
    let failed = ops
        .wallet()
        .settle_withdrawal(refused.id, false)
        .await
        .unwrap();
    assert_eq!(failed.status, WithdrawalStatus::Failed);
    let wallet = amina.wallet().get(a).await.unwrap();
    assert_eq!((wallet.posted, wallet.pending), (5_000, 0));

    // Without a key, the server refuses to settle and names the header.
    let another = amina.wallet().authorize(&hold(500)).await.unwrap();
    let pending = amina.wallet().withdraw(&request(500)).await.unwrap();
    let amina_token = amina_token(&app).await;
    for (path, token) in [
        (format!("/api/v1/holds/{}/void", another.id), &amina_token),
        (
            format!("/api/v1/admin/withdrawals/{}/complete", pending.id),
            &admin.token,
        ),
    ] {
        let raw = reqwest::Client::new()
            .post(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 400, "{path}");
        let body: Value = raw.json().await.unwrap();
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"],
            "Idempotency-Key"
        );
    }
    assert_eq!(
        amina.wallet().hold(another.id).await.unwrap().status,
        HoldStatus::Authorized
    );
    assert_eq!(
        amina.wallet().withdrawal(pending.id).await.unwrap().status,
        WithdrawalStatus::Pending
    );
    assert!(ops.wallet().reconciliation().await.unwrap().balanced);
}

/// A merchant's fee, a payment, its partial refunds with the fee given back pro rata, a balance
/// in the past, a freeze and a keyed retry, all through the client against the real server.
#[tokio::test]
async fn a_payment_its_refunds_and_a_freeze_through_the_client() {
    use contacto_client::api::{PaymentRequest, WalletAdminUpdate};

    let app = spawn_app().await;
    let (amina, a) = funded(&app, "amina@example.dz", Role::Customer, 100_000).await;
    let (shop, s) = funded(&app, "shop@example.dz", Role::Merchant, 0).await;
    let admin = app.admin_session().await;
    let ops = app.client.with_token(&admin.token);
    let merchant = shop.identity().me().await.unwrap().id;
    let fee = ops.wallet().set_merchant_fee(merchant, 250).await.unwrap();
    assert_eq!(fee.fee_bps, 250);
    let before = time::OffsetDateTime::now_utc();
    assert_eq!(
        amina
            .wallet()
            .list()
            .await
            .unwrap()
            .iter()
            .map(|w| w.id)
            .collect::<Vec<_>>(),
        [a]
    );

    let request = PaymentRequest {
        payer_wallet_id: a,
        merchant_wallet_id: s,
        amount: 10_000,
        description: Some("Courses".into()),
    };
    let paid = amina
        .wallet()
        .pay_with_key(&request, "pay-1")
        .await
        .unwrap();
    let again = amina
        .wallet()
        .pay_with_key(&request, "pay-1")
        .await
        .unwrap();
    assert_eq!(
        again.id, paid.id,
        "a retry is answered with the first payment"
    );
    let seen = shop.wallet().payment(paid.id).await.unwrap();
    assert_eq!((seen.amount, seen.fee, seen.refunded), (10_000, 250, 0));
    assert_eq!(shop.wallet().get(s).await.unwrap().posted, 9_750);

    // 2.5% of 10,000 is 250: refunding 4,000 takes 3,900 from the shop and 100 of the fee.
    shop.wallet().refund(paid.id, 4_000).await.unwrap();
    let seen = amina.wallet().payment(paid.id).await.unwrap();
    assert_eq!((seen.refunded, seen.fee_refunded), (4_000, 100));
    assert_eq!(shop.wallet().get(s).await.unwrap().posted, 5_850);
    shop.wallet().refund(paid.id, 6_000).await.unwrap();
    let err = shop.wallet().refund(paid.id, 1).await.unwrap_err();
    assert_eq!(err.code(), Some("REFUND_EXCEEDS_PAYMENT"));
    assert_eq!(shop.wallet().get(s).await.unwrap().posted, 0);
    assert_eq!(amina.wallet().get(a).await.unwrap().posted, 100_000);
    let then = amina.wallet().balance_at(a, before).await.unwrap();
    assert_eq!(then.posted, 100_000);

    // Frozen, the wallet neither sends nor receives; unfrozen, it does again.
    let freeze = |frozen| WalletAdminUpdate {
        frozen: Some(frozen),
        verification_level: None,
    };
    assert!(
        ops.wallet()
            .administer(a, &freeze(true))
            .await
            .unwrap()
            .frozen
    );
    let transfer = TransferRequest {
        from_wallet_id: a,
        to_wallet_id: Some(s),
        to_email: None,
        to_phone: None,
        amount: 1_000,
        description: None,
    };
    let err = amina.wallet().transfer(&transfer).await.unwrap_err();
    assert_eq!(err.code(), Some("WALLET_FROZEN"));
    ops.wallet().administer(a, &freeze(false)).await.unwrap();
    let sent = amina
        .wallet()
        .transfer_with_key(&transfer, "t-1")
        .await
        .unwrap();
    let resent = amina
        .wallet()
        .transfer_with_key(&transfer, "t-1")
        .await
        .unwrap();
    assert_eq!(resent, sent);
    assert_eq!(amina.wallet().get(a).await.unwrap().posted, 99_000);
    assert!(ops.wallet().reconciliation().await.unwrap().balanced);
}
