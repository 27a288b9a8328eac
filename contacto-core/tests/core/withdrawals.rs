use contacto_core::api::{Role, WithdrawalRequest, WithdrawalStatus};
use contacto_core::testing::TestDatabase;

use crate::helpers::{rib, top_up, user, wallet};

#[tokio::test]
async fn a_withdrawal_is_held_at_once_then_completed_or_released() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 10_000).await;
    let admin = crate::helpers::admin(&core).await;
    let request = |amount| WithdrawalRequest {
        wallet_id: a,
        amount,
        rib: rib("002001234567890123"),
    };

    let first = core
        .wallet()
        .withdraw(&amina, &request(6_000), Some("w-1"))
        .await
        .unwrap();
    assert_eq!(first.status, WithdrawalStatus::Pending);
    assert!(
        first.rib.starts_with("****"),
        "the RIB is shown masked: {}",
        first.rib
    );
    let held = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!(
        (held.posted, held.pending, held.available),
        (10_000, 6_000, 4_000)
    );
    let err = core
        .wallet()
        .withdraw(&amina, &request(5_000), Some("w-2"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "INSUFFICIENT_FUNDS",
        "held money cannot be spent twice"
    );
    let again = core
        .wallet()
        .withdraw(&amina, &request(6_000), Some("w-1"))
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "a retried request replays, holding nothing more"
    );

    let err = core
        .wallet()
        .settle_withdrawal(&amina, first.id, true, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let done = core
        .wallet()
        .settle_withdrawal(&admin, first.id, true, None)
        .await
        .unwrap();
    assert_eq!(done.status, WithdrawalStatus::Completed);
    assert!(done.transaction_id.is_some());
    let after = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!(
        (after.posted, after.pending, after.available),
        (4_000, 0, 4_000)
    );
    let err = core
        .wallet()
        .settle_withdrawal(&admin, first.id, false, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WITHDRAWAL_SETTLED");

    let second = core
        .wallet()
        .withdraw(&amina, &request(3_000), Some("w-3"))
        .await
        .unwrap();
    let failed = core
        .wallet()
        .settle_withdrawal(&admin, second.id, false, None)
        .await
        .unwrap();
    assert_eq!(
        (failed.status, failed.transaction_id),
        (WithdrawalStatus::Failed, None)
    );
    let released = core.wallet().get(&amina, a).await.unwrap();
    assert_eq!((released.posted, released.pending), (4_000, 0));
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);

    // Each settlement is counted by kind and outcome: the customer's attempt and the second
    // settlement of the first withdrawal as the caller's fault.
    let counted = |kind: &str, outcome: &str| {
        crate::helpers::metric(
            &core,
            &format!("contacto_business_operations_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(counted("withdrawal_completion", "ok"), 1.0);
    assert_eq!(counted("withdrawal_completion", "rejected"), 1.0);
    assert_eq!(counted("withdrawal_failure", "ok"), 1.0);
    assert_eq!(counted("withdrawal_failure", "rejected"), 1.0);
}

#[tokio::test]
async fn a_bad_rib_is_refused_before_anything_is_held() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 10_000).await;
    let good = rib("002001234567890123");
    let mut wrong_key = good.clone();
    wrong_key.replace_range(18.., if &good[18..] == "01" { "02" } else { "01" });
    for bad in ["123", "0020012345678901234A", wrong_key.as_str()] {
        let request = WithdrawalRequest {
            wallet_id: a,
            amount: 100,
            rib: bad.into(),
        };
        let err = core
            .wallet()
            .withdraw(&amina, &request, Some(bad))
            .await
            .unwrap_err();
        assert_eq!(err.field_errors().unwrap()[0].field, "rib", "{bad}");
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().pending, 0);
}

/// A withdrawal the bank refuses gives back what it counted against the daily limit; one it
/// takes does not. The level-0 limit is 50,000 DZD (5,000,000 centimes).
#[tokio::test]
async fn a_refused_withdrawal_gives_its_amount_back_to_the_daily_limit() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 20_000_000).await;
    let admin = crate::helpers::admin(&core).await;
    let request = |amount| WithdrawalRequest {
        wallet_id: a,
        amount,
        rib: rib("002001234567890123"),
    };
    let refused = core
        .wallet()
        .withdraw(&amina, &request(4_000_000), None)
        .await
        .unwrap();
    let err = core
        .wallet()
        .withdraw(&amina, &request(2_000_000), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "LIMIT_EXCEEDED");
    core.wallet()
        .settle_withdrawal(&admin, refused.id, false, None)
        .await
        .unwrap();
    let taken = core
        .wallet()
        .withdraw(&amina, &request(4_000_000), None)
        .await
        .expect("the refusal gave 40,000 DZD back");
    core.wallet()
        .settle_withdrawal(&admin, taken.id, true, None)
        .await
        .unwrap();
    let err = core
        .wallet()
        .withdraw(&amina, &request(2_000_000), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "LIMIT_EXCEEDED",
        "money the bank took stays counted"
    );
    assert!(core.wallet().reconcile(None).await.unwrap().balanced);
}
