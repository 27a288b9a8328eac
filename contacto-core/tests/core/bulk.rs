use contacto_core::api::{BulkTransferRequest, Role, TransferRequest};
use contacto_core::testing::TestDatabase;

use crate::helpers::{metric, top_up, transfer, user, wallet};

#[tokio::test]
async fn a_bulk_request_posts_each_transfer_on_its_own_exactly_once() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let mut transfers: Vec<TransferRequest> = (0..200).map(|_| transfer(a, k, 4)).collect();
    transfers.push(transfer(a, k, 10_000));
    transfers.push(transfer(a, a, 1));
    let request = BulkTransferRequest {
        transfers,
        atomic: false,
    };

    let first = core
        .wallet()
        .transfer_bulk(&amina, &request, "bulk-1")
        .await
        .unwrap();
    assert_eq!((first.posted, first.rejected), (200, 2));
    assert_eq!(
        first.results[200].error.as_ref().unwrap().code,
        "INSUFFICIENT_FUNDS"
    );
    assert_eq!(
        first.results[201].error.as_ref().unwrap().code,
        "VALIDATION_FAILED"
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 800);
    let again = core
        .wallet()
        .transfer_bulk(&amina, &request, "bulk-1")
        .await
        .unwrap();
    assert_eq!(again.posted, 200, "the retry replays");
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        800,
        "and posts nothing twice"
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn an_atomic_bulk_request_posts_everything_or_nothing() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let karim = user(&core, "karim@example.dz", Role::Customer).await;
    let nadia = user(&core, "nadia@example.dz", Role::Customer).await;
    let (a, k, n) = (
        wallet(&core, &amina).await,
        wallet(&core, &karim).await,
        wallet(&core, &nadia).await,
    );
    top_up(&core, &amina, a, 1_000).await;

    let too_much = BulkTransferRequest {
        transfers: vec![transfer(a, k, 600), transfer(a, n, 600)],
        atomic: true,
    };
    let err = core
        .wallet()
        .transfer_bulk(&amina, &too_much, "atomic-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        0,
        "nothing was posted"
    );

    let fits = BulkTransferRequest {
        transfers: vec![
            transfer(a, k, 300),
            transfer(a, n, 200),
            transfer(a, k, 100),
        ],
        atomic: true,
    };
    let done = core
        .wallet()
        .transfer_bulk(&amina, &fits, "atomic-2")
        .await
        .unwrap();
    assert_eq!(done.posted, 3);
    assert_eq!(
        done.transaction.unwrap().description.as_deref(),
        Some("loyer"),
        "the description its transfers share"
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 400);
    assert_eq!(core.wallet().get(&nadia, n).await.unwrap().posted, 200);
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 400);

    let mixed = BulkTransferRequest {
        transfers: vec![transfer(a, k, 1), transfer(k, n, 1)],
        atomic: true,
    };
    assert_eq!(
        core.wallet()
            .transfer_bulk(&amina, &mixed, "atomic-3")
            .await
            .unwrap_err()
            .code(),
        "VALIDATION_FAILED"
    );
    // One transaction keeps neither a receiver by contact nor a description per transfer: such
    // a request is refused, naming each field, rather than posted without them.
    let mut by_email = transfer(a, k, 1);
    by_email.to_email = Some("karim@example.dz".into());
    let mut described = transfer(a, n, 1);
    described.description = Some("une autre".into());
    let dropped = BulkTransferRequest {
        transfers: vec![by_email, described],
        atomic: true,
    };
    let err = core
        .wallet()
        .transfer_bulk(&amina, &dropped, "atomic-4")
        .await
        .unwrap_err();
    let fields: Vec<String> = err
        .field_errors()
        .unwrap_or_default()
        .iter()
        .map(|f| format!("{} {}", f.field, f.code))
        .collect();
    assert_eq!(
        fields,
        [
            "transfers[0].to_email not_allowed",
            "transfers[1].description not_allowed"
        ]
    );
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 400);
    let empty = BulkTransferRequest {
        transfers: Vec::new(),
        atomic: false,
    };
    assert_eq!(
        core.wallet()
            .transfer_bulk(&amina, &empty, "e")
            .await
            .unwrap_err()
            .code(),
        "VALIDATION_FAILED"
    );
}

/// Amina's idempotency records whose key starts with `prefix`.
async fn records(db: &TestDatabase, amina: &contacto_core::Principal, prefix: &str) -> i64 {
    crate::helpers::sql(db.direct_url())
        .await
        .query_one(
            "SELECT count(*) FROM idempotency_keys WHERE caller_id = $1 AND starts_with(key, $2)",
            &[&amina.user_id.0, &prefix],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_bulk_request_is_recorded_once_and_replayed_byte_for_byte() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let mut transfers: Vec<TransferRequest> = (0..50).map(|_| transfer(a, k, 4)).collect();
    transfers.push(transfer(a, k, 10_000));
    let by_email = |email: &str| TransferRequest {
        to_wallet_id: None,
        to_email: Some(email.into()),
        ..transfer(a, k, 7)
    };
    transfers.push(by_email("karim@example.dz"));
    transfers.push(by_email("nadia@example.dz"));
    let request = BulkTransferRequest {
        transfers,
        atomic: false,
    };

    let first = core
        .wallet()
        .transfer_bulk(&amina, &request, "payroll-1")
        .await
        .unwrap();
    assert_eq!((first.posted, first.rejected), (51, 2));
    assert_eq!(
        first.results[50].error.as_ref().unwrap().code,
        "INSUFFICIENT_FUNDS"
    );
    assert_eq!(first.results[52].error.as_ref().unwrap().code, "NOT_FOUND");
    let payer_view = first.results[51].transaction.as_ref().unwrap();
    assert_eq!(payer_view.entries[0].wallet_id, a);
    assert_eq!(
        payer_view.entries[0].balance_after,
        Some(1_000 - 50 * 4 - 7)
    );
    assert_eq!(
        payer_view.entries[1].balance_after, None,
        "the receiver's balance is not the payer's to see"
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 207);
    assert_eq!(
        records(&db, &amina, "payroll-1").await,
        1,
        "one record for the whole request"
    );

    let moved = metric(&core, "contacto_business_amount_minor_total");
    assert_eq!(moved, 1_000.0 + 207.0, "the top-up and the transfers");

    // Nadia registers: a retry still answers what the first request was told, and posts nothing.
    let _nadia = crate::helpers::user(&core, "nadia@example.dz", Role::Customer).await;
    let again = core
        .wallet()
        .transfer_bulk(&amina, &request, "payroll-1")
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&first).unwrap(),
        "a replay is the same body, byte for byte"
    );
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 207);
    for _ in 0..2 {
        core.wallet()
            .transfer(&amina, &transfer(a, k, 1), Some("single"))
            .await
            .unwrap();
    }
    assert_eq!(
        metric(&core, "contacto_business_amount_minor_total"),
        moved + 1.0,
        "replays move nothing"
    );

    let mut changed = request.clone();
    changed.transfers[0].amount = 5;
    let err = core
        .wallet()
        .transfer_bulk(&amina, &changed, "payroll-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(core.wallet().get(&karim, k).await.unwrap().posted, 208);
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

#[tokio::test]
async fn concurrent_copies_of_a_bulk_request_post_it_once() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 100_000).await;
    let request = BulkTransferRequest {
        transfers: (1..=300).map(|i| transfer(a, k, i)).collect(),
        atomic: false,
    };
    // Copies land in one batch or in several (a later batch finds the key taken or recorded).
    let copies = (0..8).map(|_| {
        let (core, request) = (core.clone(), request.clone());
        tokio::spawn(async move {
            core.wallet()
                .transfer_bulk(&amina, &request, "twice")
                .await
                .unwrap()
        })
    });
    let answers: Vec<String> = futures_util::future::join_all(copies)
        .await
        .into_iter()
        .map(|answer| serde_json::to_string(&answer.unwrap()).unwrap())
        .collect();
    assert!(answers.iter().all(|answer| *answer == answers[0]));
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        300 * 301 / 2,
        "posted once"
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}

/// Before bulk requests were recorded as one group, each transfer `i` was posted under
/// `"{key}#{i}"`. A retry of such a request, after the upgrade, must not post them again.
#[tokio::test]
async fn a_bulk_request_posted_transfer_by_transfer_is_retried_that_way() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let request = BulkTransferRequest {
        transfers: vec![transfer(a, k, 10), transfer(a, k, 20), transfer(a, k, 30)],
        atomic: false,
    };
    // What the earlier version did, crashing after the first two transfers.
    for (index, item) in request.transfers.iter().take(2).enumerate() {
        core.wallet()
            .transfer(&amina, item, Some(&format!("before#{index}")))
            .await
            .unwrap();
    }

    let retried = core
        .wallet()
        .transfer_bulk(&amina, &request, "before")
        .await
        .unwrap();
    assert_eq!(retried.posted, 3);
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        60,
        "the first two are replayed, the third is posted"
    );
    assert_eq!(records(&db, &amina, "before").await, 3);
}

/// The earlier version recorded nothing for a transfer refused before the ledger (here, an
/// unknown receiver). When the first and last were refused that way, only a middle one's key
/// shows that the request was posted transfer by transfer: the retry must still see it.
#[tokio::test]
async fn a_transfer_by_transfer_request_is_recognised_by_any_of_its_keys() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let (amina, a, karim, k) = crate::helpers::customers(&core).await;
    top_up(&core, &amina, a, 1_000).await;
    let nobody = TransferRequest {
        to_wallet_id: None,
        to_email: Some("nobody@example.dz".to_owned()),
        ..transfer(a, k, 10)
    };
    let request = BulkTransferRequest {
        transfers: vec![nobody.clone(), transfer(a, k, 20), nobody],
        atomic: false,
    };
    // What the earlier version did: only the middle transfer was posted and recorded.
    core.wallet()
        .transfer(&amina, &request.transfers[1], Some("legacy#1"))
        .await
        .unwrap();

    let retried = core
        .wallet()
        .transfer_bulk(&amina, &request, "legacy")
        .await
        .unwrap();
    assert_eq!(retried.posted, 1, "{retried:?}");
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        20,
        "the middle transfer is replayed, not posted again"
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}
