use contacto_core::api::{BulkTransferRequest, Role, TransferRequest};
use contacto_core::testing::TestDatabase;

use crate::helpers::{top_up, transfer, user, wallet};

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
