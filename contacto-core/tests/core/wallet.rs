use contacto_core::HistoryQuery;
use contacto_core::api::{
    DepositMethod, DepositRequest, DepositStatus, RegisterRequest, Role, TransactionKind,
    TransferRequest, WalletAdminUpdate, WalletId,
};
use contacto_core::testing::TestDatabase;

use crate::helpers::{
    admin, batch_phases, customers, freeze, metric, sign, top_up, transfer, user, wallet,
};

#[tokio::test]
async fn a_confirmed_deposit_funds_a_transfer_and_the_books_balance() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let karim = user(&core, "karim@example.dz", Role::Professional).await;
    let (a, k) = (wallet(&core, &amina).await, wallet(&core, &karim).await);
    top_up(&core, &amina, a, 100_000).await;

    let posted = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 30_000), Some("t-1"))
        .await
        .unwrap();
    assert_eq!(posted.kind, TransactionKind::Transfer);
    assert_eq!(posted.entries.iter().map(|e| e.amount).sum::<i64>(), 0);
    assert_eq!(
        core.wallet().get(&amina, a).await.unwrap().available,
        70_000
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 30_000);

    let history = core
        .wallet()
        .history(&amina, a, &HistoryQuery::default())
        .await
        .unwrap();
    let kinds: Vec<TransactionKind> = history.items.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [TransactionKind::Transfer, TransactionKind::Deposit],
        "newest first"
    );
    assert_eq!(history.items[0].entries[0].balance_after, Some(70_000));

    let seen_by_karim = core.wallet().transaction(&karim, posted.id).await.unwrap();
    assert_eq!(seen_by_karim.entries.len(), 2);
    for entry in &seen_by_karim.entries {
        let own = entry.wallet_id == k;
        assert_eq!(
            entry.balance_after.is_some(),
            own,
            "only Karim's own balance is shown to him"
        );
    }
    let payer_side = posted.entries.iter().find(|e| e.wallet_id == k).unwrap();
    assert_eq!(
        payer_side.balance_after, None,
        "the payer does not learn the payee's balance"
    );
    let stranger = user(&core, "stranger@example.dz", Role::Customer).await;
    assert_eq!(
        core.wallet()
            .transaction(&stranger, posted.id)
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );

    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(report.transactions_checked, 2);
}

#[tokio::test]
async fn rejected_transfers_move_nothing_and_name_their_reason() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let cases = [
        (transfer(a, k, 1_001), &amina, "INSUFFICIENT_FUNDS"),
        (transfer(a, k, 0), &amina, "VALIDATION_FAILED"),
        (transfer(a, a, 10), &amina, "VALIDATION_FAILED"),
        (transfer(k, a, 10), &amina, "NOT_FOUND"),
        (
            transfer(a, WalletId(uuid::Uuid::new_v4()), 10),
            &amina,
            "NOT_FOUND",
        ),
    ];
    for (request, who, code) in cases {
        let err = core
            .wallet()
            .transfer(who, &request, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{request:?}");
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 1_000);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn an_idempotency_key_posts_once_and_replays_the_answer() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;

    let first = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 1_000), Some("same-key"))
        .await
        .unwrap();
    let again = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 1_000), Some("same-key"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_vec(&first).unwrap(),
        serde_json::to_vec(&again).unwrap()
    );
    let reused = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 2_000), Some("same-key"))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 9_000);

    // Concurrent duplicates of one key post exactly once.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let core = core.clone();
        tasks.push(tokio::spawn(async move {
            core.wallet()
                .transfer(&amina, &transfer(a, k, 500), Some("raced-key"))
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every duplicate got the one posting");
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 8_500);

    // A rejection is part of the answer too: replayed, not re-evaluated.
    let broke = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 1_000_000), Some("too-much"))
        .await
        .unwrap_err();
    top_up(&core, &amina, a, 2_000_000).await;
    let replayed = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 1_000_000), Some("too-much"))
        .await
        .unwrap_err();
    assert_eq!(
        (broke.code(), broke.to_string()),
        (replayed.code(), replayed.to_string())
    );
}

/// A key belongs to its caller: another caller sending the same key, even with the same body, gets
/// no replay of the first caller's answer (here Amina's wallet, which is not Karim's to see); their
/// call is judged and posted as their own.
#[tokio::test]
async fn an_idempotency_key_belongs_to_its_caller() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    core.wallet()
        .transfer(&amina, &transfer(a, k, 1_000), Some("shared-key"))
        .await
        .unwrap();

    let taken = core
        .wallet()
        .transfer(&karim, &transfer(a, k, 1_000), Some("shared-key"))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), "NOT_FOUND");
    core.wallet()
        .transfer(&amina, &transfer(a, k, 500), Some("second-key"))
        .await
        .unwrap();
    let karims_before = core.wallet().get(&karim, k).await.unwrap().posted;
    core.wallet()
        .transfer(&karim, &transfer(k, a, 300), Some("second-key"))
        .await
        .unwrap();
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        karims_before - 300
    );
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 8_800);
}

/// Amina's idempotency record under `key`, as stored.
async fn stored_outcome(db: &TestDatabase, amina: &contacto_core::Principal, key: &str) -> Vec<u8> {
    crate::helpers::sql(db.direct_url())
        .await
        .query_one(
            "SELECT outcome FROM idempotency_keys WHERE caller_id = $1 AND key = $2",
            &[&amina.user_id.0, &key],
        )
        .await
        .unwrap()
        .get(0)
}

/// A transfer's record names its transaction, and a replay reads it back from the ledger. A
/// payment's (the ledger reads its entries in another order) and a record written by an earlier
/// version hold the answer itself. Every one replays byte for byte.
#[tokio::test]
async fn idempotency_records_keep_what_the_ledger_cannot_give_back() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = customers(&core).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let s = wallet(&core, &shop).await;
    top_up(&core, &amina, a, 100_000).await;
    let wallets = core.wallet();
    let request = transfer(a, k, 1_000);
    let send = || wallets.transfer(&amina, &request, Some("t-1"));
    let first = send().await.unwrap();

    let record: serde_json::Value =
        serde_json::from_slice(&stored_outcome(&db, &amina, "t-1").await).unwrap();
    assert_eq!(
        record,
        serde_json::json!({ "Transaction": first.id }),
        "a transfer's record names its transaction"
    );
    let bytes = serde_json::to_vec(&first).unwrap();
    assert_eq!(serde_json::to_vec(&send().await.unwrap()).unwrap(), bytes);

    // A record of the answer itself, as versions before compact records wrote it.
    crate::helpers::sql(db.direct_url())
        .await
        .execute(
            "UPDATE idempotency_keys SET outcome = $3 WHERE caller_id = $1 AND key = $2",
            &[
                &amina.user_id.0,
                &"t-1",
                &serde_json::to_vec(&serde_json::json!({ "Posted": { "Transaction": first } }))
                    .unwrap(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(serde_json::to_vec(&send().await.unwrap()).unwrap(), bytes);

    let payment = contacto_core::api::PaymentRequest {
        payer_wallet_id: a,
        merchant_wallet_id: s,
        amount: 10_000,
        description: None,
    };
    let pay = || wallets.pay(&amina, &payment, Some("p-1"));
    let paid = pay().await.unwrap();
    assert!(paid.entries.len() == 3, "a fee was taken: {paid:?}");
    let record: serde_json::Value =
        serde_json::from_slice(&stored_outcome(&db, &amina, "p-1").await).unwrap();
    assert!(record.get("Posted").is_some(), "{record}");
    assert_eq!(
        serde_json::to_vec(&pay().await.unwrap()).unwrap(),
        serde_json::to_vec(&paid).unwrap()
    );
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 89_000);
}

/// A batch too large to look its keys up first posts without looking, and the keys' unique index
/// catches a replay or a key another instance recorded meanwhile: the batch is rolled back and
/// posted again, looking them up. Every caller gets the one answer, the rest of the batch posts,
/// and nothing is written twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_meeting_a_recorded_key_is_posted_again_and_answers_once() {
    let db = TestDatabase::create().await;
    let (one, two) = (db.contacto(), db.contacto());
    let (yacine, y, amina, a, _karim, k) = crate::helpers::customers_after_yacine(&one).await;
    top_up(&one, &yacine, y, 1_000).await;
    top_up(&one, &amina, a, 100_000).await;
    let first = one
        .wallet()
        .transfer(&amina, &transfer(a, k, 100), Some("first"))
        .await
        .unwrap();

    // Instance one's worker waits on Yacine's wallet while the next batch gathers.
    let mut blocker = crate::helpers::sql(db.direct_url()).await;
    let hold = crate::helpers::lock_wallet(&mut blocker, y).await;
    let stalled =
        crate::helpers::transfer_behind_lock(&one, yacine, transfer(y, a, 1_000), &hold).await;
    let post = |amount: i64, key: String| {
        let one = one.clone();
        tokio::spawn(async move {
            one.wallet()
                .transfer(&amina, &transfer(a, k, amount), Some(&key))
                .await
        })
    };
    let fresh: Vec<_> = (0..30).map(|i| post(1, format!("fresh-{i}"))).collect();
    let replay = post(100, "first".into());
    let reused = post(5, "first".into());
    let shared = post(7, "shared".into());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Meanwhile instance two posts "shared" and commits first.
    let shared_on_two = two
        .wallet()
        .transfer(&amina, &transfer(a, k, 7), Some("shared"))
        .await
        .unwrap();
    hold.commit().await.unwrap();

    stalled.await.unwrap().unwrap();
    let mut ids = Vec::new();
    for task in fresh {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each fresh key posted its own transfer");
    assert_eq!(
        serde_json::to_vec(&replay.await.unwrap().unwrap()).unwrap(),
        serde_json::to_vec(&first).unwrap(),
        "the replay got the first answer"
    );
    assert_eq!(
        reused.await.unwrap().unwrap_err().code(),
        "IDEMPOTENCY_KEY_REUSED"
    );
    assert_eq!(shared.await.unwrap().unwrap().id, shared_on_two.id);
    assert!(
        metric(&one, "contacto_ledger_batch_retries_total") >= 1.0,
        "the batch met the recorded keys at their unique index, not in a lookup"
    );
    let committed = metric(&one, "contacto_ledger_batch_size_count");
    for (phase, batches, _) in batch_phases(&one) {
        assert_eq!(
            batches, committed,
            "{phase}: a rolled back attempt records no phase"
        );
    }
    // 100 000 + 1 000 from Yacine - 100 (first) - 30 x 1 (fresh) - 7 (shared, once).
    assert_eq!(one.wallet().get(&amina, a).await.unwrap().posted, 100_863);
    assert!(one.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn concurrent_transfers_among_few_wallets_conserve_money() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut owners = Vec::new();
    for i in 0..4 {
        let owner = user(&core, &format!("u{i}@example.dz"), Role::Customer).await;
        let id = wallet(&core, &owner).await;
        top_up(&core, &owner, id, 10_000).await;
        owners.push((owner, id));
    }
    let mut tasks = Vec::new();
    for n in 0..400usize {
        let core = core.clone();
        let (owner, from) = owners[n % 4];
        let to = owners[(n * 7 + 1) % 4].1;
        if from == to {
            continue;
        }
        tasks.push(tokio::spawn(async move {
            core.wallet()
                .transfer(&owner, &transfer(from, to, 1 + (n as i64 % 700)), None)
                .await
        }));
    }
    for task in tasks {
        if let Err(err) = task.await.unwrap() {
            assert_eq!(
                err.code(),
                "INSUFFICIENT_FUNDS",
                "only expected rejections: {err}"
            );
        }
    }
    let mut total = 0;
    for (owner, id) in &owners {
        let w = core.wallet().get(owner, *id).await.unwrap();
        assert!(w.available >= 0);
        total += w.posted;
    }
    assert_eq!(total, 40_000);
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
}

/// While a batch waits for a wallet's lock, operations that share no wallet with it are posted
/// beside it, in a second batch on a connection of its own, and answered before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_sharing_nothing_with_a_waiting_batch_are_posted_beside_it() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (yacine, y, amina, a, _karim, k) = crate::helpers::customers_after_yacine(&core).await;
    let leila = user(&core, "leila@example.dz", Role::Customer).await;
    let l = wallet(&core, &leila).await;
    top_up(&core, &yacine, y, 1_000).await;
    top_up(&core, &amina, a, 100_000).await;

    let mut blocker = crate::helpers::sql(db.direct_url()).await;
    let hold = crate::helpers::lock_wallet(&mut blocker, y).await;
    let stalled =
        crate::helpers::transfer_behind_lock(&core, yacine, transfer(y, k, 1_000), &hold).await;
    let beside: Vec<_> = (0..contacto_core::testing::LEDGER_SECOND_BATCH_MIN)
        .map(|i| {
            let core = core.clone();
            tokio::spawn(async move {
                core.wallet()
                    .transfer(&amina, &transfer(a, l, 1), Some(&format!("beside-{i}")))
                    .await
            })
        })
        .collect();
    let answered = tokio::time::timeout(
        // Shorter than the statement timeout, which the waiting batch's lock wait runs under.
        std::time::Duration::from_secs(20),
        futures_util::future::join_all(beside),
    )
    .await
    .expect("posted while the other batch still waits for its lock");
    for result in answered {
        result.unwrap().unwrap();
    }
    assert!(!stalled.is_finished(), "the waiting batch still waits");
    assert_eq!(
        metric(&core, "contacto_ledger_batches_beside_total"),
        1.0,
        "one batch beside the waiting one"
    );

    hold.commit().await.unwrap();
    stalled.await.unwrap().unwrap();
    let moved = i64::try_from(contacto_core::testing::LEDGER_SECOND_BATCH_MIN).unwrap();
    assert_eq!(
        core.wallet().get(&amina, a).await.unwrap().posted,
        100_000 - moved
    );
    assert_eq!(core.wallet().get(&leila, l).await.unwrap().posted, moved);
    assert_eq!(core.wallet().get(&yacine, y).await.unwrap().posted, 0);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// Operations gathered behind a batch, all sharing a wallet with it, wait for it; once it ends
/// with no other batch in flight, they are split into two batches started together, one per group
/// of operations sharing wallets, instead of one batch taking them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_gathered_behind_a_batch_are_split_into_two_batches_started_together() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = customers(&core).await;
    let leila = user(&core, "leila@example.dz", Role::Customer).await;
    let omar = user(&core, "omar@example.dz", Role::Customer).await;
    let (l, o) = (wallet(&core, &leila).await, wallet(&core, &omar).await);
    top_up(&core, &amina, a, 100_000).await;
    top_up(&core, &karim, k, 100_000).await;
    let group = 2 * contacto_core::testing::LEDGER_SECOND_BATCH_MIN;

    let mut blocker = crate::helpers::sql(db.direct_url()).await;
    let hold = crate::helpers::lock_wallet(&mut blocker, a).await;
    let stalled =
        crate::helpers::transfer_behind_lock(&core, amina, transfer(a, k, 1_000), &hold).await;
    // Amina to Leila and Karim to Omar: every one shares Amina's or Karim's wallet with the
    // stalled batch, and the two groups share nothing with each other.
    let gathered: Vec<_> = (0..group)
        .flat_map(|i| {
            [
                (amina, transfer(a, l, 1), format!("al-{i}")),
                (karim, transfer(k, o, 1), format!("ko-{i}")),
            ]
        })
        .map(|(principal, request, key)| {
            let core = core.clone();
            tokio::spawn(async move {
                core.wallet()
                    .transfer(&principal, &request, Some(&key))
                    .await
            })
        })
        .collect();
    let all = f64::from(u32::try_from(2 * group).unwrap());
    for _ in 0..2_000 {
        if metric(&core, "contacto_ledger_queued_operations") >= all {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        metric(&core, "contacto_ledger_queued_operations"),
        all,
        "every operation waits behind the stalled batch"
    );
    assert_eq!(metric(&core, "contacto_ledger_batches_beside_total"), 0.0);
    let batches = metric(&core, "contacto_ledger_batch_size_count");

    hold.commit().await.unwrap();
    stalled.await.unwrap().unwrap();
    for result in futures_util::future::join_all(gathered).await {
        result.unwrap().unwrap();
    }
    assert_eq!(
        metric(&core, "contacto_ledger_batch_size_count") - batches,
        3.0,
        "the stalled batch, then the two groups' batches"
    );
    assert_eq!(
        metric(&core, "contacto_ledger_batches_beside_total"),
        1.0,
        "the second started with the first"
    );
    assert_eq!(metric(&core, "contacto_ledger_queued_operations"), 0.0);
    let moved = i64::try_from(group).unwrap();
    assert_eq!(core.wallet().get(&leila, l).await.unwrap().posted, moved);
    assert_eq!(core.wallet().get(&omar, o).await.unwrap().posted, moved);
    assert_eq!(
        core.wallet().get(&amina, a).await.unwrap().posted,
        100_000 - 1_000 - moved
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn a_bad_webhook_signature_is_refused_and_writes_nothing() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    let deposit = core
        .wallet()
        .deposit(
            &amina,
            &DepositRequest {
                wallet_id: a,
                amount: 5_000,
                method: DepositMethod::Edahabia,
                reference: None,
            },
        )
        .await
        .unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id, "status": "succeeded", "provider_reference": "ed-1"
    }))
    .unwrap();
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("ed-1", "ed-2");
    for signature in [
        None,
        Some("sha256=00".to_owned()),
        Some(sign(tampered.as_bytes())),
        Some(sign(&body).replace("sha256=", "")),
    ] {
        let err = core
            .wallet()
            .deposit_webhook(&body, signature.as_deref())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_SIGNATURE", "{signature:?}");
    }
    assert_eq!(
        core.wallet()
            .deposit_status(&amina, deposit.id)
            .await
            .unwrap()
            .status,
        DepositStatus::Pending
    );
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 0);

    // A signed event whose reference PostgreSQL cannot store (a NUL) is refused before it
    // reaches a ledger batch, where it would have failed every operation of the batch.
    let unstorable = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id, "status": "succeeded", "provider_reference": "ed\u{0}1"
    }))
    .unwrap();
    let err = core
        .wallet()
        .deposit_webhook(&unstorable, Some(&sign(&unstorable)))
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors().unwrap_or_default()[0].field,
        "provider_reference",
        "{err:?}"
    );
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 0);

    // The provider retries: the same event twice credits once.
    let first = core
        .wallet()
        .deposit_webhook(&body, Some(&sign(&body)))
        .await
        .unwrap();
    let second = core
        .wallet()
        .deposit_webhook(&body, Some(&sign(&body)))
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 5_000);
    let failed = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id, "status": "failed", "provider_reference": "ed-1"
    }))
    .unwrap();
    let err = core
        .wallet()
        .deposit_webhook(&failed, Some(&sign(&failed)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "DEPOSIT_SETTLED");

    // A deposit the provider reports failed closes with no balance change, once however often
    // the event comes, and is counted.
    let second = core
        .wallet()
        .deposit(
            &amina,
            &DepositRequest {
                wallet_id: a,
                amount: 7_000,
                method: DepositMethod::Cib,
                reference: None,
            },
        )
        .await
        .unwrap();
    let failed = serde_json::to_vec(&serde_json::json!({
        "deposit_id": second.id, "status": "failed", "provider_reference": "cib-9"
    }))
    .unwrap();
    for _ in 0..2 {
        let closed = core
            .wallet()
            .deposit_webhook(&failed, Some(&sign(&failed)))
            .await
            .unwrap();
        assert_eq!(closed.status, DepositStatus::Failed);
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 5_000);
    let name = r#"contacto_business_operations_total{kind="deposit_failure",outcome="ok"}"#;
    assert_eq!(metric(&core, name), 1.0);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn ledger_rows_cannot_be_changed_or_deleted() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 5_000).await;
    let client = crate::helpers::sql(db.direct_url()).await;
    for sql in [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET amount = 1",
        "DELETE FROM ledger_transactions",
        "TRUNCATE ledger_entries",
    ] {
        let err = client.batch_execute(sql).await.unwrap_err();
        let message = err
            .as_db_error()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        assert!(message.contains("immutable"), "{sql}: {err:?}");
    }
}

/// A batch writes its wallets back at the addresses its lock returned, through
/// `ledger_update_wallets` (migration V15), which refuses an update that would leave one of them
/// unwritten; its error fails the batch's statements before their `COMMIT`.
#[tokio::test]
async fn the_wallets_update_refuses_an_address_not_holding_its_wallet() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _, k) = customers(&core).await;
    let client = crate::helpers::sql(db.direct_url()).await;
    let address = |wallet: WalletId| {
        let client = &client;
        async move {
            client
                .query_one("SELECT ctid::text FROM wallets WHERE id = $1", &[&wallet.0])
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    let (aminas, karims) = (address(a).await, address(k).await);
    // Amina's new state at `address`, Karim's at his own.
    let update = |address: &str| {
        format!(
            "BEGIN; \
             SELECT ledger_update_wallets(ARRAY['{address}', '{karims}'], \
               ARRAY['{a}', '{k}']::uuid[], ARRAY[500, 500]::int8[], ARRAY[0, 0]::int8[], \
               ARRAY[0, 0]::int8[], ARRAY[NULL, NULL]::date[], ARRAY[0, 0]::int8[]);",
            a = a.0,
            k = k.0
        )
    };
    // Another row's address (Karim's, for Amina), then an address holding no row: a balance left
    // unwritten would be a silent loss, so the statement raises and nothing is written.
    for address in [karims.as_str(), "(4294967295,1)"] {
        let err = client.batch_execute(&update(address)).await.unwrap_err();
        let db_error = err.as_db_error().expect("a database error");
        assert_eq!(
            db_error.code(),
            &tokio_postgres::error::SqlState::INTERNAL_ERROR
        );
        assert!(
            db_error.message().contains("updated 1 of 2 wallets"),
            "{address}: {db_error:?}"
        );
        client.batch_execute("ROLLBACK").await.unwrap();
    }
    // Both at their own addresses: both written (and rolled back).
    client.batch_execute(&update(&aminas)).await.unwrap();
    let written: i64 = client
        .query_one("SELECT posted FROM wallets WHERE id = $1", &[&a.0])
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 500);
    client.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 0);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// A small batch locks its wallets through `ledger_lock_wallets` (migration V17): the same rows,
/// columns and order as the statement large batches send, unknown ids left out, and each row
/// locked until the batch's transaction ends.
#[tokio::test]
async fn the_small_batch_lock_returns_what_the_statement_does_and_holds_the_locks() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _, k) = customers(&core).await;
    // Columns that differ between the two wallets and from their defaults, so that two columns
    // swapped in the function's result would show: Amina has money that moved and a day's
    // outgoing total, Karim a frozen wallet.
    top_up(&core, &amina, a, 100_000).await;
    core.wallet()
        .transfer(&amina, &transfer(a, k, 30_000), Some("t-1"))
        .await
        .unwrap();
    core.wallet()
        .administer(&admin(&core).await, k, &freeze(true))
        .await
        .unwrap();
    let client = crate::helpers::sql(db.direct_url()).await;
    let other = crate::helpers::sql(db.direct_url()).await;
    let ids = vec![k.0, uuid::Uuid::now_v7(), a.0];
    client.batch_execute("BEGIN").await.unwrap();
    // Each row as text, so that rows compare whatever their columns' names.
    let through_function: Vec<String> = client
        .query("SELECT l::text FROM ledger_lock_wallets($1) l", &[&ids])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // Locked by the function alone, before anything else in the transaction touches them.
    for wallet in [a, k] {
        let err = other
            .query(
                "SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE NOWAIT",
                &[&wallet.0],
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
        );
    }
    let through_statement: Vec<String> = client
        .query(
            "SELECT s::text FROM ( \
               SELECT id, currency, posted, pending, may_go_negative, frozen, \
                      verification_level, entry_count, outgoing_day, outgoing_minor, owner_id, \
                      ctid::text, number \
               FROM wallets WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE) s",
            &[&ids],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(through_function.len(), 2, "the unknown id is left out");
    assert_eq!(through_function, through_statement);
    let order: Vec<uuid::Uuid> = client
        .query("SELECT id FROM ledger_lock_wallets($1)", &[&ids])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut expected_order = vec![a.0, k.0];
    expected_order.sort();
    assert_eq!(
        order, expected_order,
        "in id order, the order every batch locks in"
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    other
        .query(
            "SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE NOWAIT",
            &[&a.0],
        )
        .await
        .unwrap();

    // The ledger's functions keep one plan per connection (V17): planned at every call, they
    // took about half of an idle transfer's PostgreSQL time (docs/PERFORMANCE.md).
    for function in [
        "ledger_lock_wallets",
        "ledger_update_wallets",
        "idempotency_records",
    ] {
        let settings: Vec<String> = client
            .query_one(
                "SELECT proconfig FROM pg_proc WHERE proname = $1",
                &[&function],
            )
            .await
            .unwrap()
            .get(0);
        assert!(
            settings.contains(&"plan_cache_mode=force_generic_plan".to_owned()),
            "{function}: {settings:?}"
        );
    }
}

/// Every rule of a wallet row is the database's, each under its constraint's name: the three over
/// balance columns as CHECK constraints, the six over columns fixed at opening or changed by an
/// admin as a trigger (V19) that an update of balances alone does not run.
#[tokio::test]
async fn the_database_refuses_a_wallet_breaking_any_rule_and_postings_skip_the_fixed_ones() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _, _) = customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    let client = crate::helpers::sql(db.direct_url()).await;
    let owner: uuid::Uuid = client
        .query_one("SELECT owner_id FROM wallets WHERE id = $1", &[&a.0])
        .await
        .unwrap()
        .get(0);
    // Opened in a currency Amina has no wallet in, so that the one-wallet-per-currency index
    // does not answer first.
    let open = |columns: &str, values: &str| {
        format!(
            "INSERT INTO wallets (id, owner_id, kind, system_role, currency, {columns}) \
             VALUES (gen_random_uuid(), {values})"
        )
    };
    let personal = format!("'{owner}', 'personal', NULL, 'USD'");
    let refused = [
        (
            open("posted", &format!("'{owner}', 'personal', NULL, 'usd', 0")),
            "wallets_currency_iso4217",
        ),
        (
            open("posted", &format!("'{owner}', 'merchant', NULL, 'USD', 0")),
            "wallets_kind_known",
        ),
        (
            open("may_go_negative", &format!("{personal}, true")),
            "wallets_negative_only_system",
        ),
        (
            open("posted", "NULL, 'personal', NULL, 'USD', 0"),
            "wallets_owner_matches_kind",
        ),
        (
            open("posted", "NULL, 'system', 'treasury', 'USD', 0"),
            "wallets_system_role_known",
        ),
        (
            open("verification_level", &format!("{personal}, 3")),
            "wallets_verification_level_range",
        ),
        (
            open("pending", &format!("{personal}, -1")),
            "wallets_pending_nonnegative",
        ),
        (
            open("posted", &format!("{personal}, -1")),
            "wallets_available_nonnegative",
        ),
        (
            open("outgoing_minor", &format!("{personal}, -1")),
            "wallets_outgoing_nonnegative",
        ),
    ];
    let wallet = format!("WHERE id = '{}'", a.0);
    let changed = [
        ("currency = 'dzd'", "wallets_currency_iso4217"),
        ("kind = 'merchant'", "wallets_kind_known"),
        ("may_go_negative = true", "wallets_negative_only_system"),
        ("owner_id = NULL", "wallets_owner_matches_kind"),
        ("system_role = 'funding'", "wallets_system_role_known"),
        ("verification_level = 7", "wallets_verification_level_range"),
        ("pending = -1", "wallets_pending_nonnegative"),
        ("pending = posted + 1", "wallets_available_nonnegative"),
        ("outgoing_minor = -1", "wallets_outgoing_nonnegative"),
    ]
    .map(|(set, constraint)| (format!("UPDATE wallets SET {set} {wallet}"), constraint));
    for (sql, constraint) in refused.into_iter().chain(changed) {
        let err = client.batch_execute(&sql).await.unwrap_err();
        let db_error = err.as_db_error();
        assert_eq!(
            db_error.map(|e| (e.code(), e.constraint())),
            Some((
                &tokio_postgres::error::SqlState::CHECK_VIOLATION,
                Some(constraint)
            )),
            "{sql}: {err:?}"
        );
    }
    // A valid wallet opens, through the same statement shape.
    client
        .batch_execute(&open("posted", &format!("{personal}, 0")))
        .await
        .unwrap();

    // The trigger runs for a change of a fixed column, and neither for the ledger's update of
    // balances nor for an admin's freeze. PostgreSQL counts the calls of a function made since
    // this session's counts were last reported, from the moment it tracks them: none before.
    client
        .batch_execute("SET track_functions = 'pl'; BEGIN")
        .await
        .unwrap();
    let runs = || async {
        client
            .query_one(
                "SELECT coalesce(pg_stat_get_xact_function_calls( \
                   'wallets_check_fixed_columns'::regproc), 0)",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    client
        .batch_execute(&format!(
            "SELECT ledger_update_wallets(ARRAY[ctid::text], ARRAY[id], ARRAY[posted + 1], \
               ARRAY[1::bigint], ARRAY[entry_count + 1], ARRAY[current_date], ARRAY[1::bigint]) \
             FROM wallets {wallet}"
        ))
        .await
        .unwrap();
    assert_eq!(runs().await, 0, "balances, as a ledger batch writes them");
    client
        .batch_execute(&format!("UPDATE wallets SET frozen = true {wallet}"))
        .await
        .unwrap();
    assert_eq!(runs().await, 0, "the freeze flag");
    client
        .batch_execute(&format!(
            "UPDATE wallets SET verification_level = 1 {wallet}"
        ))
        .await
        .unwrap();
    assert_eq!(runs().await, 1, "a fixed column");
    client.batch_execute("ROLLBACK").await.unwrap();

    // A replica session (as logical replication and some bulk-load tools set) runs the trigger
    // all the same; only a disabled trigger lets a wallet breaking one of the six in, and the
    // query docs/OPERATIONS.md gives for that case finds it, with the rule it breaks.
    let breaking =
        "SELECT id, wallets_broken_rule(w) FROM wallets w WHERE wallets_broken_rule(w) IS NOT NULL";
    assert!(client.query(breaking, &[]).await.unwrap().is_empty());
    let err = client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL session_replication_role = replica; \
             UPDATE wallets SET verification_level = 9 {wallet}"
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().and_then(|e| e.constraint()),
        Some("wallets_verification_level_range"),
        "{err:?}"
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    client
        .batch_execute(&format!(
            "BEGIN; ALTER TABLE wallets DISABLE TRIGGER wallets_fixed_columns_valid; \
             UPDATE wallets SET verification_level = 9 {wallet}"
        ))
        .await
        .unwrap();
    let found: Vec<(uuid::Uuid, String)> = client
        .query(breaking, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        found,
        [(a.0, "wallets_verification_level_range".to_owned())]
    );
    client.batch_execute("ROLLBACK").await.unwrap();
}

/// Every committed batch records its four phases, which together take no longer than the batch.
#[tokio::test]
async fn a_committed_batch_records_where_its_time_went() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _, k) = customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    core.wallet()
        .transfer(&amina, &transfer(a, k, 1_000), Some("t-1"))
        .await
        .unwrap();
    let committed = metric(&core, "contacto_ledger_batch_size_count");
    assert!(committed >= 1.0);
    let mut phases = 0.0;
    for (phase, batches, seconds) in batch_phases(&core) {
        assert_eq!(batches, committed, "{phase}");
        assert!(seconds > 0.0, "{phase}");
        phases += seconds;
    }
    assert!(phases <= metric(&core, "contacto_ledger_commit_duration_seconds_sum"));
}

/// The database's kinds of transaction (an enum since V16) are exactly core's, in the same order.
#[tokio::test]
async fn the_database_knows_every_kind_of_transaction_core_writes() {
    let db = TestDatabase::create().await;
    let client = crate::helpers::sql(db.direct_url()).await;
    let labels: Vec<String> = client
        .query(
            "SELECT unnest(enum_range(NULL::ledger_transaction_kind))::text",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let names: Vec<&str> = contacto_core::api::TransactionKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(labels, names);
}

/// The database checks each statement's entries: every entry names an existing transaction (a
/// foreign key), and a transaction gets two or more entries that sum to zero (migration V9).
#[tokio::test]
async fn the_database_refuses_entries_that_do_not_balance_or_name_no_transaction() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (_, a, _, k) = customers(&core).await;
    let client = crate::helpers::sql(db.direct_url()).await;
    let posting = |entries: &str| {
        format!(
            "BEGIN; \
             INSERT INTO ledger_transactions (id, kind, currency, amount) \
               VALUES ('00000000-0000-7000-8000-0000000000aa', 'transfer', 'DZD', 100); \
             INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after) \
               VALUES {entries}; \
             ROLLBACK;"
        )
    };
    let txn = "'00000000-0000-7000-8000-0000000000aa'";
    // Entries name their wallet by number (V16).
    let number =
        |wallet: WalletId| format!("(SELECT number FROM wallets WHERE id = '{}')", wallet.0);
    let (a, k) = (number(a), number(k));
    for (entries, constraint) in [
        (
            format!("({a}, 1, {txn}, -100, -100), ({k}, 1, {txn}, 90, 90)"),
            "ledger_transaction_balanced",
        ),
        (
            format!("({a}, 1, {txn}, -100, -100)"),
            "ledger_transaction_balanced",
        ),
        (
            format!(
                "({a}, 1, {txn}, -100, -100), ({k}, 1, {txn}, 100, 100), \
                 ({a}, 2, '00000000-0000-7000-8000-0000000000bb', -5, -105), \
                 ({k}, 2, '00000000-0000-7000-8000-0000000000bb', 5, 105)"
            ),
            "ledger_entries_transaction_fkey",
        ),
    ] {
        let err = client.batch_execute(&posting(&entries)).await.unwrap_err();
        let constraint_hit = err.as_db_error().and_then(|e| e.constraint());
        assert_eq!(constraint_hit, Some(constraint), "{entries}: {err:?}");
        client.batch_execute("ROLLBACK").await.unwrap();
    }
    // The same statement with balanced entries goes through (and is rolled back).
    client
        .batch_execute(&posting(&format!(
            "({a}, 1, {txn}, -100, -100), ({k}, 1, {txn}, 100, 100)"
        )))
        .await
        .unwrap();
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);

    // Entries that slipped past the checks (triggers and foreign keys off, as a data load with
    // `session_replication_role = replica` does) are reported by reconciliation.
    client
        .batch_execute(&format!(
            "SET session_replication_role = replica; \
             INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after) \
               VALUES ({a}, 1, {txn}, -100, -100), ({k}, 1, {txn}, 100, 100); \
             SET session_replication_role = origin;"
        ))
        .await
        .unwrap();
    let report = reconciliation_naming_only(&core, "00000000-0000-7000-8000-0000000000aa").await;
    assert_eq!(report.transactions_checked, 0);
}

/// Reconciles, checking that the report is unbalanced and names `transaction`, and only it, among
/// the transactions.
async fn reconciliation_naming_only(
    core: &contacto_core::Contacto,
    transaction: &str,
) -> contacto_core::api::ReconciliationReport {
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(!report.balanced);
    assert_eq!(
        report.unbalanced_transactions,
        [contacto_core::api::TransactionId(
            transaction.parse().unwrap()
        )]
    );
    report
}

/// No key ties an entry to its wallet (V16 numbers them; the write path takes the numbers from the
/// wallets it locked): a balanced transaction of an existing kind whose entries name wallet
/// numbers no wallet has moves money nowhere, and reconciliation reports it.
#[tokio::test]
async fn reconciliation_reports_entries_naming_no_wallet() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = crate::helpers::sql(db.direct_url()).await;
    client
        .batch_execute(
            "INSERT INTO ledger_transactions (id, kind, currency, amount) \
               VALUES ('00000000-0000-7000-8000-0000000000cc', 'transfer', 'DZD', 100); \
             INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after) \
               VALUES (900001, 1, '00000000-0000-7000-8000-0000000000cc', -100, -100), \
                      (900002, 1, '00000000-0000-7000-8000-0000000000cc', 100, 100);",
        )
        .await
        .unwrap();
    let report = reconciliation_naming_only(&core, "00000000-0000-7000-8000-0000000000cc").await;
    assert!(report.mismatched_wallets.is_empty(), "{report:?}");
}

/// Batches that fail, with `BEGIN` sent with their reads and `COMMIT` with their writes
/// (`db::hot`): a write refused after the commit was sent, and reads refused before it. Nothing of
/// them stays, no connection goes back to the pool inside a transaction (a pooled connection left
/// in one shows as `idle in transaction`), and the next operations post normally.
#[tokio::test]
async fn a_batch_that_fails_writing_leaves_no_trace_and_no_open_transaction() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    let client = crate::helpers::sql(db.direct_url()).await;
    client
        .batch_execute(
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF EXISTS (SELECT 1 FROM new_keys WHERE key LIKE 'boom%') THEN \
                 RAISE EXCEPTION 'refused for the test'; \
               END IF; \
               RETURN NULL; \
             END $$; \
             CREATE TRIGGER refuse_boom AFTER INSERT ON idempotency_keys \
               REFERENCING NEW TABLE AS new_keys \
               FOR EACH STATEMENT EXECUTE FUNCTION refuse_boom();",
        )
        .await
        .unwrap();
    // Small batches (prepared statements) and large ones (planned), each failing as a whole.
    for count in [1, 40] {
        let attempts = (0..count).map(|i| {
            let core = core.clone();
            async move {
                core.wallet()
                    .transfer(
                        &amina,
                        &transfer(a, k, 100),
                        Some(&format!("boom-{count}-{i}")),
                    )
                    .await
            }
        });
        for result in futures_util::future::join_all(attempts).await {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), contacto_core::ErrorKind::Internal, "{err:?}");
        }
    }
    // A batch that fails before its commit is sent (its reads refer to a table that is gone, and
    // without prepared statements they are parsed again): its connection is closed, not pooled.
    let mut config = db.config();
    config.database.prepared_statements = false;
    let unprepared = contacto_core::Contacto::builder(config).build().unwrap();
    client
        .batch_execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_away")
        .await
        .unwrap();
    for i in 0..3 {
        unprepared
            .wallet()
            .transfer(&amina, &transfer(a, k, 100), Some(&format!("away-{i}")))
            .await
            .unwrap_err();
    }
    client
        .batch_execute("ALTER TABLE idempotency_keys_away RENAME TO idempotency_keys")
        .await
        .unwrap();
    // A closed connection's backend ends when it reads the end of its socket, a moment later; a
    // connection left in the pool inside a transaction would stay.
    let mut open: i64 = -1;
    for _ in 0..100 {
        open = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0, "a connection was left inside a transaction");
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 10_000);
    unprepared
        .wallet()
        .transfer(&amina, &transfer(a, k, 100), Some("after"))
        .await
        .unwrap();
    top_up(&core, &amina, a, 100).await;
    for i in 0..3 {
        core.wallet()
            .transfer(&amina, &transfer(a, k, 100), Some(&format!("fine-{i}")))
            .await
            .unwrap();
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 9_700);
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 400);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn transfers_reach_a_user_by_email_or_phone() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let karim = core
        .identity()
        .register(&RegisterRequest {
            email: "karim@example.dz".into(),
            password: "a long enough password".into(),
            full_name: "Karim".into(),
            phone: Some("0661 23 45 67".into()),
            role: Role::Customer,
        })
        .await
        .unwrap();
    let karim = core
        .identity()
        .authenticate(Some(&format!("Bearer {}", karim.token)))
        .await
        .unwrap();
    let (a, k) = (wallet(&core, &amina).await, wallet(&core, &karim).await);
    top_up(&core, &amina, a, 10_000).await;
    let by_email = TransferRequest {
        from_wallet_id: a,
        to_wallet_id: None,
        to_email: Some("KARIM@example.dz".into()),
        to_phone: None,
        amount: 100,
        description: None,
    };
    core.wallet()
        .transfer(&amina, &by_email, None)
        .await
        .unwrap();
    let by_phone = TransferRequest {
        to_email: None,
        to_phone: Some("+213 661 23 45 67".into()),
        ..by_email.clone()
    };
    core.wallet()
        .transfer(&amina, &by_phone, None)
        .await
        .unwrap();
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 200);
    let nobody = TransferRequest {
        to_email: Some("nobody@example.dz".into()),
        ..by_email.clone()
    };
    assert_eq!(
        core.wallet()
            .transfer(&amina, &nobody, None)
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );
    let both = TransferRequest {
        to_wallet_id: Some(k),
        ..by_email
    };
    assert_eq!(
        core.wallet()
            .transfer(&amina, &both, None)
            .await
            .unwrap_err()
            .code(),
        "VALIDATION_FAILED"
    );
}

/// Transfers to an email or phone that find nobody are counted per caller. Past the limit, every
/// look-up of that caller is refused, one that would find someone too (else the refusal would
/// tell), even from a burst of concurrent misses; another caller and transfers by wallet id go
/// on, a refused transfer writes nothing and its key stays free, and the lock ends on its own.
#[tokio::test]
async fn lookups_that_find_nobody_lock_the_callers_lookups_for_a_while() {
    let db = TestDatabase::create().await;
    let mut config = db.config();
    config.wallet.contact_lookups.max_misses = 3;
    config.wallet.contact_lookups.lockout = std::time::Duration::from_secs(2);
    let core = contacto_core::Contacto::builder(config).build().unwrap();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let omar = user(&core, "omar@example.dz", Role::Customer).await;
    let karim = user(&core, "karim@example.dz", Role::Customer).await;
    let (a, o, k) = (
        wallet(&core, &amina).await,
        wallet(&core, &omar).await,
        wallet(&core, &karim).await,
    );
    top_up(&core, &amina, a, 10_000).await;
    top_up(&core, &omar, o, 10_000).await;
    let to_karim = |from| TransferRequest {
        to_wallet_id: None,
        to_email: Some("karim@example.dz".into()),
        ..transfer(from, k, 100)
    };
    let to_nobody = |from, i: usize| TransferRequest {
        to_email: Some(format!("nobody{i}@example.dz")),
        ..to_karim(from)
    };
    let code = |r: contacto_core::Result<_>| r.map(|_| ()).unwrap_err().code().to_owned();

    // Finding someone is never counted.
    let mut hits = Vec::new();
    for i in 0..5 {
        let hit = core
            .wallet()
            .transfer(&amina, &to_karim(a), Some(&format!("hit-{i}")))
            .await
            .unwrap();
        hits.push(hit.id);
    }
    // Ten misses at once: exactly three are told nobody was found.
    let wallets = core.wallet();
    let requests: Vec<_> = (0..10).map(|i| to_nobody(a, i)).collect();
    let misses = futures_util::future::join_all(
        requests
            .iter()
            .map(|request| wallets.transfer(&amina, request, None)),
    )
    .await;
    let mut codes: Vec<_> = misses.into_iter().map(code).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        [["NOT_FOUND"; 3].as_slice(), &["RATE_LIMITED"; 7]].concat()
    );

    // Locked: a look-up that would find Karim is refused the same way, and writes nothing.
    let refused = core
        .wallet()
        .transfer(&amina, &to_karim(a), Some("while-locked"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "RATE_LIMITED");
    assert!(matches!(refused.retry_after_secs(), Some(1..=3)));
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 500);
    // A retry of a transfer posted before the lock is answered from its record, as it was.
    let again = core
        .wallet()
        .transfer(&amina, &to_karim(a), Some("hit-0"))
        .await
        .expect("a retry is answered from its record, lock or not");
    assert_eq!(again.id, hits[0]);
    // In a bulk request, the transfer naming someone by email is refused, the other posts; a
    // retry under the same key answers the same, without looking anything up.
    let bulk = contacto_core::api::BulkTransferRequest {
        transfers: vec![transfer(a, k, 100), to_karim(a)],
        atomic: false,
    };
    for _ in 0..2 {
        let answer = core
            .wallet()
            .transfer_bulk(&amina, &bulk, "bulk-1")
            .await
            .unwrap();
        assert_eq!((answer.posted, answer.rejected), (1, 1));
        let refusal = answer.results[1].error.as_ref().unwrap();
        assert_eq!(refusal.code, "RATE_LIMITED");
    }
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 600);
    // Naming the wallet still works, and so do another caller's look-ups and misses.
    core.wallet()
        .transfer(&amina, &transfer(a, k, 100), None)
        .await
        .unwrap();
    core.wallet()
        .transfer(&omar, &to_karim(o), None)
        .await
        .unwrap();
    assert_eq!(
        code(core.wallet().transfer(&omar, &to_nobody(o, 0), None).await),
        "NOT_FOUND"
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 800);

    // The lock ends by itself, and the refused transfer's key was not spent. Misses count anew,
    // from the one that locked: two more are answered, the next locks again.
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    core.wallet()
        .transfer(&amina, &to_karim(a), Some("while-locked"))
        .await
        .expect("the lock is over");
    let resent = contacto_core::api::BulkTransferRequest {
        transfers: vec![to_karim(a)],
        atomic: false,
    };
    let posted = core
        .wallet()
        .transfer_bulk(&amina, &resent, "bulk-2")
        .await
        .unwrap();
    assert_eq!((posted.posted, posted.rejected), (1, 0));
    let mut after: Vec<_> = Vec::new();
    for i in 0..3 {
        after.push(code(
            core.wallet().transfer(&amina, &to_nobody(a, i), None).await,
        ));
    }
    assert_eq!(after, ["NOT_FOUND", "NOT_FOUND", "RATE_LIMITED"]);
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 1_000);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// Purging throttling buckets keeps each scope's count for its own window: a contact look-up's
/// misses are not forgotten when the shorter login window is over.
#[tokio::test]
async fn purging_keeps_lookup_misses_for_their_own_window() {
    let db = TestDatabase::create().await;
    let mut config = db.config();
    config.auth.login_throttle.window = std::time::Duration::from_secs(1);
    config.wallet.contact_lookups.max_misses = 2;
    let core = contacto_core::Contacto::builder(config).build().unwrap();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 1_000).await;
    let to_nobody = TransferRequest {
        to_wallet_id: None,
        to_email: Some("nobody@example.dz".into()),
        ..transfer(a, a, 100)
    };
    for _ in 0..2 {
        let err = core.wallet().transfer(&amina, &to_nobody, None).await;
        assert_eq!(err.unwrap_err().code(), "NOT_FOUND");
    }
    let wrong = contacto_core::api::LoginRequest {
        email: "amina@example.dz".into(),
        password: "not the password".into(),
    };
    core.identity().login(&wrong, None).await.unwrap_err();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // The failed login's window is over (its two buckets: the account from no address, and the
    // account from everywhere); the misses' hour is not.
    assert_eq!(core.identity().purge_expired_throttling().await.unwrap(), 2);
    let left = crate::helpers::sql(db.direct_url())
        .await
        .query("SELECT scope FROM login_throttle", &[])
        .await
        .unwrap();
    let left: Vec<String> = left.iter().map(|row| row.get(0)).collect();
    assert_eq!(left, ["contact_lookup"]);
    let err = core.wallet().transfer(&amina, &to_nobody, None).await;
    assert_eq!(err.unwrap_err().code(), "RATE_LIMITED");
}

#[tokio::test]
async fn a_frozen_wallet_neither_sends_nor_receives_and_levels_set_limits() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 10_000_000).await;
    let admin = admin(&core).await;

    let err = core
        .wallet()
        .administer(&amina, k, &freeze(true))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    core.wallet()
        .administer(&admin, k, &freeze(true))
        .await
        .unwrap();
    assert_eq!(
        core.wallet()
            .transfer(&amina, &transfer(a, k, 10), None)
            .await
            .unwrap_err()
            .code(),
        "WALLET_FROZEN"
    );
    assert_eq!(
        core.wallet()
            .transfer(&karim, &transfer(k, a, 10), None)
            .await
            .unwrap_err()
            .code(),
        "WALLET_FROZEN"
    );
    core.wallet()
        .administer(&admin, k, &freeze(false))
        .await
        .unwrap();
    core.wallet()
        .transfer(&amina, &transfer(a, k, 10), None)
        .await
        .unwrap();

    // Level 0 allows 50,000 DZD a day (5,000,000 centimes); level 1 ten times more.
    let err = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 5_000_000), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "LIMIT_EXCEEDED",
        "10 centimes already sent today"
    );
    let level_up = WalletAdminUpdate {
        frozen: None,
        verification_level: Some(1),
    };
    assert_eq!(
        core.wallet()
            .administer(&admin, a, &level_up)
            .await
            .unwrap()
            .verification_level,
        1
    );
    core.wallet()
        .transfer(&amina, &transfer(a, k, 5_000_000), None)
        .await
        .unwrap();
    let bad_level = WalletAdminUpdate {
        frozen: None,
        verification_level: Some(3),
    };
    assert_eq!(
        core.wallet()
            .administer(&admin, a, &bad_level)
            .await
            .unwrap_err()
            .code(),
        "VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn the_balance_at_a_past_moment_is_read_back_from_the_entries() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = crate::helpers::customers(&core).await;
    let before_anything = time::OffsetDateTime::now_utc();
    top_up(&core, &amina, a, 1_000).await;
    let after_top_up = core
        .wallet()
        .history(&amina, a, &HistoryQuery::default())
        .await
        .unwrap()
        .items[0]
        .created_at;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let posted = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 300), None)
        .await
        .unwrap();
    let at = |moment| {
        let core = core.clone();
        async move {
            core.wallet()
                .balance_at(&amina, a, moment)
                .await
                .unwrap()
                .posted
        }
    };
    assert_eq!(at(before_anything).await, 0);
    assert_eq!(at(after_top_up).await, 1_000);
    assert_eq!(at(posted.created_at).await, 700);
    assert_eq!(at(time::OffsetDateTime::now_utc()).await, 700);
}

/// Two core handles (two server instances, each with its own batcher) post concurrently to the
/// same wallets: within each wallet, posting times never go backwards, and every time-based read
/// (balance at a moment, history within a range), found by binary search on the entries, agrees
/// with a brute-force reading of the same entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_based_reads_agree_with_the_entries_under_concurrent_instances() {
    let db = TestDatabase::create().await;
    let (one, two) = (db.contacto(), db.contacto());
    let (yacine, y, amina, a, karim, k) = crate::helpers::customers_after_yacine(&one).await;
    top_up(&one, &yacine, y, 1_000_000).await;
    top_up(&one, &amina, a, 1_000_000).await;
    top_up(&one, &karim, k, 1_000_000).await;

    // The race that would put an earlier time after a later one: a batch on instance one starts,
    // then waits for Yacine's wallet (locked here); meanwhile instance two, started later, posts
    // to Amina's wallet and commits; then the first batch gets its locks and posts to Amina's
    // wallet too, after the second.
    let mut blocker = crate::helpers::sql(db.direct_url()).await;
    let hold = crate::helpers::lock_wallet(&mut blocker, y).await;
    let first = crate::helpers::transfer_behind_lock(&one, yacine, transfer(y, a, 11), &hold).await;
    two.wallet()
        .transfer(&karim, &transfer(k, a, 22), None)
        .await
        .unwrap();
    hold.commit().await.unwrap();
    first.await.unwrap().unwrap();

    let mut tasks = Vec::new();
    for i in 0..40_i64 {
        let core = if i % 2 == 0 { one.clone() } else { two.clone() };
        let (from, to, owner) = if i % 3 == 0 {
            (k, a, karim)
        } else {
            (a, k, amina)
        };
        tasks.push(tokio::spawn(async move {
            core.wallet()
                .transfer(&owner, &transfer(from, to, 100 + i), None)
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let client = crate::helpers::sql(db.direct_url()).await;
    let rows = client
        .query(
            "SELECT e.seq, t.created_at, e.balance_after FROM ledger_entries e \
             JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_number = (SELECT number FROM wallets WHERE id = $1) ORDER BY e.seq",
            &[&a.0],
        )
        .await
        .unwrap();
    let entries: Vec<(i64, time::OffsetDateTime, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(entries.len(), 43);
    assert!(
        entries.windows(2).all(|w| w[0].1 <= w[1].1),
        "posting times go backwards within the wallet: {entries:?}"
    );

    let micro = time::Duration::microseconds(1);
    let start = entries[0].1 - time::Duration::seconds(1);
    let mut moments = vec![start];
    for (_, at, _) in &entries {
        moments.extend([*at - micro, *at, *at + micro]);
    }
    for moment in &moments {
        let expected = entries
            .iter()
            .rev()
            .find(|(_, at, _)| at <= moment)
            .map_or(0, |(_, _, balance)| *balance);
        let read = one
            .wallet()
            .balance_at(&amina, a, *moment)
            .await
            .unwrap()
            .posted;
        assert_eq!(read, expected, "balance at {moment}");
    }

    // Ranges between every few moments, read page by page, against a filter of the entries.
    for (i, from) in moments.iter().enumerate().step_by(7) {
        let to = moments[(i + 29).min(moments.len() - 1)];
        let expected: Vec<i64> = entries
            .iter()
            .rev()
            .filter(|(_, at, _)| at >= from && *at < to)
            .map(|(seq, _, _)| *seq)
            .collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = one
                .wallet()
                .history(
                    &amina,
                    a,
                    &HistoryQuery {
                        cursor: cursor.clone(),
                        limit: Some(4),
                        from: Some(*from),
                        to: Some(to),
                        ..HistoryQuery::default()
                    },
                )
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|item| item.entries[0].balance_after));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let expected_balances: Vec<Option<i64>> = expected
            .iter()
            .map(|seq| Some(entries[usize::try_from(*seq - 1).unwrap()].2))
            .collect();
        assert_eq!(seen, expected_balances, "history from {from} to {to}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_posts_while_slow_reads_hold_every_pooled_connection() {
    let db = TestDatabase::create().await;
    // Core's own pools, direct: behind PgBouncer in transaction mode the server connections are
    // PgBouncer's pool, which the blocked searches would hold whatever core's pools are
    // (docs/OPERATIONS.md sizes it).
    let core =
        contacto_core::Contacto::builder(contacto_core::testing::test_config(db.direct_url()))
            .build()
            .unwrap();
    let (amina, a, karim, k) = customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    // Every search waits behind this lock, holding its pooled connection, until the lock goes.
    let mut client = crate::helpers::sql(db.direct_url()).await;
    let hold = client.transaction().await.unwrap();
    hold.batch_execute("LOCK TABLE professionals IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let pooled = db.config().database.pool_max_size;
    let searches: Vec<_> = (0..pooled)
        .map(|i| {
            let core = core.clone();
            tokio::spawn(async move {
                let query = contacto_core::api::SearchQuery {
                    q: Some(format!("plombier{i}")),
                    ..Default::default()
                };
                core.directory().search(&query).await
            })
        })
        .collect();
    let watcher = crate::helpers::sql(db.direct_url()).await;
    crate::helpers::until_sessions_wait_for_a_lock(&watcher, i64::try_from(pooled).unwrap()).await;

    // The pool's wait timeout is 5 s in tests: a transfer needing a pooled connection would fail
    // with `Unavailable`. The ledger's own connections post it.
    let posted = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 2_500), Some("while-held"))
        .await
        .unwrap();
    assert_eq!(posted.entries.iter().map(|e| e.amount).sum::<i64>(), 0);

    hold.rollback().await.unwrap();
    for search in searches {
        search.await.unwrap().unwrap();
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 7_500);
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 2_500);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// A deposit opened before its wallet was frozen is credited when the provider confirms it: the
/// money has reached the platform, and the freeze still keeps it from leaving.
#[tokio::test]
async fn a_deposit_confirmed_after_a_freeze_is_credited_and_stays_frozen() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, k) = customers(&core).await;
    let admin = admin(&core).await;
    let deposit = core
        .wallet()
        .deposit(
            &amina,
            &DepositRequest {
                wallet_id: a,
                amount: 5_000,
                method: DepositMethod::Cib,
                reference: None,
            },
        )
        .await
        .unwrap();
    core.wallet()
        .administer(&admin, a, &freeze(true))
        .await
        .unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id, "status": "succeeded", "provider_reference": "cib-9"
    }))
    .unwrap();
    let settled = core
        .wallet()
        .deposit_webhook(&body, Some(&sign(&body)))
        .await
        .unwrap();
    assert_eq!(settled.status, DepositStatus::Succeeded);
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 5_000);
    assert_eq!(
        core.wallet()
            .transfer(&amina, &transfer(a, k, 10), None)
            .await
            .unwrap_err()
            .code(),
        "WALLET_FROZEN",
        "still frozen"
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// A transfer goes to somebody: a system account's id (they are fixed and known) is no receiver.
#[tokio::test]
async fn a_transfer_to_a_system_account_is_refused() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, _k) = customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let funding = WalletId(uuid::Uuid::parse_str("00000000-0000-7000-8000-000000000001").unwrap());
    let err = core
        .wallet()
        .transfer(&amina, &transfer(a, funding, 10), Some("t"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 1_000);
}

/// A batch the database refuses as a whole (here a trigger refuses one transaction, standing for
/// a write no check caught) committed nothing; its halves are posted again apart, so only the
/// operation at fault fails and its batch-mates go through.
#[tokio::test]
async fn an_operation_the_database_refuses_fails_alone_in_its_batch() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = customers(&core).await;
    top_up(&core, &amina, a, 100_000).await;
    crate::helpers::sql(db.direct_url())
        .await
        .batch_execute(
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF EXISTS (SELECT 1 FROM new_rows WHERE description = 'poison') THEN
                 RAISE EXCEPTION 'poisoned';
               END IF;
               RETURN NULL;
             END $$;
             CREATE TRIGGER poison AFTER INSERT ON ledger_transactions
               REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION poison();",
        )
        .await
        .unwrap();
    // The receiver's row held from another session: the first batch waits on it while the
    // others queue, so the refused operation shares a batch with at least thirty others.
    let blocker = crate::helpers::sql(db.direct_url()).await;
    blocker.batch_execute("BEGIN").await.unwrap();
    blocker
        .execute("SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE", &[&k.0])
        .await
        .unwrap();
    let spawn = |n: usize| {
        let core = core.clone();
        let mut request = transfer(a, k, 100);
        if n == 20 {
            request.description = Some("poison".to_owned());
        }
        tokio::spawn(async move {
            core.wallet()
                .transfer(&amina, &request, Some(&format!("p{n}")))
                .await
        })
    };
    // The first of these opens a batch that waits on the row; the rest, the refused one among
    // them, queue for the next batch.
    let mut tasks: Vec<_> = (0..20).map(spawn).collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tasks.extend((20..40).map(spawn));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    blocker.batch_execute("COMMIT").await.unwrap();
    let mut failed = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        if task.await.unwrap().is_err() {
            failed.push(n);
        }
    }
    assert_eq!(failed, vec![20], "only the refused operation fails");
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 39 * 100);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
    let committed = metric(&core, "contacto_ledger_batch_size_count");
    for (phase, batches, _) in batch_phases(&core) {
        assert_eq!(
            batches, committed,
            "{phase}: a refused batch records no phase"
        );
    }
}

/// A ledger batch locks its wallets no more strongly than its update of their balances needs
/// (`FOR NO KEY UPDATE`, V21): a deposit opened on a wallet a batch holds, whose foreign key only
/// asks that the wallet stays, does not wait for the batch, while another batch over the wallet
/// does; and batches, small or large, do not wait for a foreign-key check holding their wallets.
#[tokio::test]
async fn batches_and_foreign_keys_on_their_wallets_do_not_wait_for_each_other() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = customers(&core).await;
    top_up(&core, &amina, a, 10_000).await;
    let mut sql = crate::helpers::sql(db.direct_url()).await;
    let seconds = |n| std::time::Duration::from_secs(n);

    // As a batch of up to 16 operations (every idle caller's) locks its wallets.
    let batch = sql.transaction().await.unwrap();
    let locked = batch
        .query("SELECT id FROM ledger_lock_wallets($1)", &[&vec![a.0]])
        .await
        .unwrap();
    assert_eq!(locked.len(), 1);
    let deposit = DepositRequest {
        wallet_id: a,
        amount: 5_000,
        method: DepositMethod::Edahabia,
        reference: None,
    };
    let opened = tokio::time::timeout(seconds(5), core.wallet().deposit(&amina, &deposit)).await;
    assert!(matches!(opened, Ok(Ok(_))), "{opened:?}");
    let behind =
        crate::helpers::transfer_behind_lock(&core, amina, transfer(a, k, 100), &batch).await;
    batch.rollback().await.unwrap();
    behind.await.unwrap().unwrap();

    // A foreign-key check held open on Amina's wallet, as an insert referencing it takes one;
    // then a transfer (a small batch) and a bulk request of twenty (a large one, which locks by
    // the statement core plans with its ids) from that wallet.
    let check = sql.transaction().await.unwrap();
    check
        .query("SELECT 1 FROM wallets WHERE id = $1 FOR KEY SHARE", &[&a.0])
        .await
        .unwrap();
    let wallets = core.wallet();
    let one = transfer(a, k, 100);
    let small = tokio::time::timeout(
        seconds(5),
        wallets.transfer(&amina, &one, Some("beside-a-key-check")),
    )
    .await;
    assert!(matches!(small, Ok(Ok(_))), "{small:?}");
    let bulk = contacto_core::api::BulkTransferRequest {
        transfers: (0..20).map(|_| transfer(a, k, 10)).collect(),
        atomic: false,
    };
    let large = tokio::time::timeout(
        seconds(5),
        wallets.transfer_bulk(&amina, &bulk, "bulk-beside-a-key-check"),
    )
    .await;
    let results = match large {
        Ok(Ok(response)) => response.results,
        other => panic!("{other:?}"),
    };
    assert!(
        results.iter().all(|r| r.transaction_id.is_some()),
        "{results:?}"
    );
    check.rollback().await.unwrap();
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 400);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// An administrator sees every wallet, but tops up and pays from none but their own: naming a
/// customer's wallet or a system account for a deposit is forbidden and writes no deposit, and
/// paying from either is a wallet not found, not a failure of the batch (the fee revenue account
/// named as the payer once made the payment's postings malformed: an internal error).
#[tokio::test]
async fn an_administrator_sees_every_wallet_but_moves_money_only_from_their_own() {
    use contacto_core::api::PaymentRequest;

    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, _karim, _k) = customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let s = wallet(&core, &shop).await;
    let ops = admin(&core).await;
    let funding = WalletId(uuid::Uuid::parse_str("00000000-0000-7000-8000-000000000001").unwrap());
    let fee_revenue =
        WalletId(uuid::Uuid::parse_str("00000000-0000-7000-8000-000000000002").unwrap());
    assert_eq!(core.wallet().get(&ops, a).await.unwrap().posted, 1_000);

    for target in [a, funding, fee_revenue] {
        let err = core
            .wallet()
            .deposit(
                &ops,
                &DepositRequest {
                    wallet_id: target,
                    amount: 500,
                    method: DepositMethod::Cib,
                    reference: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN", "a deposit into {target}");
    }
    let deposits: i64 = crate::helpers::sql(db.direct_url())
        .await
        .query_one("SELECT count(*) FROM deposits", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(deposits, 1, "only Amina's own top-up");

    for payer in [a, fee_revenue] {
        let err = core
            .wallet()
            .pay(
                &ops,
                &PaymentRequest {
                    payer_wallet_id: payer,
                    merchant_wallet_id: s,
                    amount: 100,
                    description: None,
                },
                Some(&format!("pay-from-{payer}")),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND", "a payment from {payer}");
    }
    assert_eq!(core.wallet().get(&ops, s).await.unwrap().posted, 0);
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 1_000);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}
