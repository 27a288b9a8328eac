use contacto_core::api::{
    BulkTransferRequest, CreateApiKeyRequest, HoldRequest, MerchantFee, PaymentRequest,
    RefundRequest, Role, TransactionKind, TransferRequest, WalletId,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, Principal};

use crate::helpers::{till, top_up, user, wallet};

fn pay(payer: WalletId, merchant: WalletId, amount: i64) -> PaymentRequest {
    PaymentRequest {
        payer_wallet_id: payer,
        merchant_wallet_id: merchant,
        amount,
        description: None,
    }
}

async fn fee_revenue(core: &Contacto) -> i64 {
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
    let admin = crate::helpers::admin(core).await;
    let fee_account =
        WalletId(uuid::Uuid::parse_str("00000000-0000-7000-8000-000000000002").unwrap());
    core.wallet().get(&admin, fee_account).await.unwrap().posted
}

#[tokio::test]
async fn a_payment_takes_the_fee_from_the_merchants_side_and_refunds_give_it_back_pro_rata() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let (a, s) = (wallet(&core, &amina).await, wallet(&core, &shop).await);
    top_up(&core, &amina, a, 100_000).await;

    let paid = core
        .wallet()
        .pay(&amina, &pay(a, s, 10_001), Some("p-1"))
        .await
        .unwrap();
    assert_eq!(paid.kind, TransactionKind::Payment);
    assert_eq!(paid.entries.iter().map(|e| e.amount).sum::<i64>(), 0);
    // 1.5% of 10,001 centimes is 150.015: rounded half up to 150.
    assert_eq!(
        core.wallet().get(&shop, s).await.unwrap().posted,
        10_001 - 150
    );
    assert_eq!(fee_revenue(&core).await, 150);

    for (part, key) in [(1, "r-1"), (5_000, "r-2"), (5_000, "r-3")] {
        core.wallet()
            .refund(&shop, paid.id, &RefundRequest { amount: part }, Some(key))
            .await
            .unwrap();
    }
    let err = core
        .wallet()
        .refund(&shop, paid.id, &RefundRequest { amount: 1 }, Some("r-4"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "REFUND_EXCEEDS_PAYMENT");
    let view = core.wallet().payment(&amina, paid.id).await.unwrap();
    assert_eq!(
        (view.refunded, view.fee_refunded, view.fee),
        (10_001, 150, 150)
    );
    assert_eq!(
        core.wallet().get(&amina, a).await.unwrap().posted,
        100_000,
        "fully refunded"
    );
    assert_eq!(core.wallet().get(&shop, s).await.unwrap().posted, 0);
    assert_eq!(fee_revenue(&core).await, 0, "the whole fee came back");
}

#[tokio::test]
async fn only_the_payer_takes_money_out_and_only_the_merchant_refunds() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let karim = user(&core, "karim@example.dz", Role::Customer).await;
    let (a, s, k) = (
        wallet(&core, &amina).await,
        wallet(&core, &shop).await,
        wallet(&core, &karim).await,
    );
    top_up(&core, &amina, a, 10_000).await;
    let till = till(&core, &shop, "till").await;

    let err = core
        .wallet()
        .pay(&till, &pay(a, s, 1_000), Some("x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "FORBIDDEN",
        "a merchant's key cannot take money out of a customer's wallet"
    );
    // Who pays, from and to which wallet, and what is not found: the payer's wallet is checked
    // first, so a caller learns nothing about the merchant side of a wallet that is not theirs.
    let unknown = WalletId(uuid::Uuid::now_v7());
    let refused = [
        (
            &amina,
            a,
            k,
            "merchant wallet not found",
            "payments go to business wallets",
        ),
        (
            &amina,
            a,
            unknown,
            "merchant wallet not found",
            "an unknown merchant wallet",
        ),
        (
            &karim,
            a,
            s,
            "wallet not found",
            "only the payer's owner pays from it",
        ),
        (
            &karim,
            a,
            k,
            "wallet not found",
            "the payer's wallet is checked first",
        ),
    ];
    for (i, (who, payer, merchant, message, why)) in refused.into_iter().enumerate() {
        let err = core
            .wallet()
            .pay(
                who,
                &pay(payer, merchant, 1_000),
                Some(&format!("refused-{i}")),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND", "{why}");
        assert_eq!(err.to_string(), message, "{why}");
    }
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 10_000);

    let paid = core
        .wallet()
        .pay(&amina, &pay(a, s, 1_000), Some("z"))
        .await
        .unwrap();
    let err = core
        .wallet()
        .refund(&amina, paid.id, &RefundRequest { amount: 10 }, Some("r"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "NOT_FOUND",
        "the payer cannot refund themselves"
    );
    core.wallet()
        .refund(&till, paid.id, &RefundRequest { amount: 10 }, Some("r"))
        .await
        .unwrap();
    assert_eq!(core.wallet().get(&amina, a).await.unwrap().posted, 9_010);

    // Nor can it send the shop's own money anywhere: a leaked till key must not empty the shop.
    let other_shop = user(&core, "shop2@example.dz", Role::Merchant).await;
    let s2 = wallet(&core, &other_shop).await;
    let takings = core.wallet().get(&shop, s).await.unwrap().posted;
    let to_karim = TransferRequest {
        from_wallet_id: s,
        to_wallet_id: Some(k),
        to_email: None,
        to_phone: None,
        amount: 100,
        description: None,
    };
    let refusals = [
        core.wallet()
            .transfer(&till, &to_karim, Some("t"))
            .await
            .map(|_| ()),
        core.wallet()
            .transfer_bulk(
                &till,
                &BulkTransferRequest {
                    transfers: vec![to_karim.clone()],
                    atomic: false,
                },
                "b",
            )
            .await
            .map(|_| ()),
        core.wallet()
            .pay(&till, &pay(s, s2, 100), Some("p"))
            .await
            .map(|_| ()),
        core.wallet()
            .authorize(
                &till,
                &HoldRequest {
                    payer_wallet_id: s,
                    payee_wallet_id: k,
                    amount: 100,
                    expires_in_secs: None,
                },
                Some("h"),
            )
            .await
            .map(|_| ()),
    ];
    for (n, refused) in refusals.into_iter().enumerate() {
        assert_eq!(refused.unwrap_err().code(), "FORBIDDEN", "operation {n}");
    }
    assert_eq!(
        core.wallet().get(&shop, s).await.unwrap().posted,
        takings,
        "the shop kept its takings"
    );
    // The shop's own login may.
    core.wallet()
        .transfer(&shop, &to_karim, Some("t"))
        .await
        .unwrap();

    // A till's key retires itself, but cannot shut the other tills out.
    let other = core
        .identity()
        .create_api_key(
            &shop,
            &CreateApiKeyRequest {
                name: "till 2".into(),
            },
        )
        .await
        .unwrap();
    let err = core
        .identity()
        .revoke_api_key(&till, other.api_key.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let contacto_core::Credential::ApiKey(own) = till.credential else {
        panic!("the till authenticated with its key");
    };
    core.identity().revoke_api_key(&till, own).await.unwrap();
    assert_eq!(
        core.identity().list_api_keys(&shop).await.unwrap().len(),
        1,
        "the second till's key stays"
    );
}

#[tokio::test]
async fn many_payers_paying_one_merchant_at_once_lose_nothing() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let s = wallet(&core, &shop).await;
    let mut payers: Vec<(Principal, WalletId)> = Vec::new();
    for i in 0..20 {
        let payer = user(&core, &format!("payer{i}@example.dz"), Role::Customer).await;
        let w = wallet(&core, &payer).await;
        top_up(&core, &payer, w, 5_000).await;
        payers.push((payer, w));
    }
    let mut tasks = Vec::new();
    for n in 0..200usize {
        let core = core.clone();
        let (payer, w) = payers[n % payers.len()];
        tasks.push(tokio::spawn(async move {
            core.wallet()
                .pay(&payer, &pay(w, s, 1_000), Some(&format!("k{n}")))
                .await
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => paid += 1,
            Err(err) => assert_eq!(err.code(), "INSUFFICIENT_FUNDS", "only expected rejections"),
        }
    }
    assert_eq!(paid, 100, "each payer had funds for exactly five payments");
    assert_eq!(
        core.wallet().get(&shop, s).await.unwrap().posted,
        100 * (1_000 - 15)
    );
    assert_eq!(fee_revenue(&core).await, 100 * 15);
}

#[tokio::test]
async fn merchant_fees_are_set_by_administrators_only() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let err = core
        .wallet()
        .set_merchant_fee(&amina, shop.user_id, MerchantFee { fee_bps: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let admin = crate::helpers::admin(&core).await;
    core.wallet()
        .set_merchant_fee(&admin, shop.user_id, MerchantFee { fee_bps: 250 })
        .await
        .unwrap();
    let err = core
        .wallet()
        .set_merchant_fee(&admin, amina.user_id, MerchantFee { fee_bps: 250 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND", "customers have no fee");
    let (a, s) = (wallet(&core, &amina).await, wallet(&core, &shop).await);
    top_up(&core, &amina, a, 10_000).await;
    core.wallet()
        .pay(&amina, &pay(a, s, 10_000), Some("p"))
        .await
        .unwrap();
    assert_eq!(core.wallet().get(&shop, s).await.unwrap().posted, 9_750);

    // A merchant paying another: the fee is the payee's (the default, 1.5%), not the payer's 2.5%.
    let supplier = user(&core, "supplier@example.dz", Role::Merchant).await;
    let w = wallet(&core, &supplier).await;
    core.wallet()
        .pay(&shop, &pay(s, w, 1_000), Some("supply"))
        .await
        .unwrap();
    assert_eq!(core.wallet().get(&supplier, w).await.unwrap().posted, 985);
    assert_eq!(core.wallet().get(&shop, s).await.unwrap().posted, 8_750);
}
