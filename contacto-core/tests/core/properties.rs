//! Random sequences of every wallet operation, valid and invalid, against real PostgreSQL. After
//! each step: every transaction sums to zero, every balance equals its entries, the books of the
//! currency balance, no customer wallet can spend below zero, and a rejected operation changed
//! nothing at all.

use contacto_core::api::{
    BulkTransferRequest, CaptureRequest, DepositId, DepositMethod, DepositRequest, HoldId,
    HoldRequest, PaymentRequest, RefundRequest, Role, TransactionId, TransferRequest,
    WalletAdminUpdate, WalletId, WithdrawalId, WithdrawalRequest,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, Principal};
use proptest::prelude::*;

use crate::helpers::{top_up, transfer, user, wallet};

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        amount: i64,
    },
    Pay {
        payer: usize,
        amount: i64,
    },
    Refund {
        nth: usize,
        amount: i64,
    },
    Withdraw {
        who: usize,
        amount: i64,
        bad_rib: bool,
    },
    Settle {
        nth: usize,
        complete: bool,
    },
    Hold {
        who: usize,
        amount: i64,
    },
    Capture {
        nth: usize,
        amount: i64,
    },
    Void {
        nth: usize,
    },
    Freeze {
        who: usize,
        frozen: bool,
    },
    /// A transfer naming its receiver by email: one of the four wallets' owners, or nobody.
    TransferByEmail {
        from: usize,
        to: usize,
        amount: i64,
    },
    /// A bulk request from one customer, each on its own or all or nothing.
    Bulk {
        from: usize,
        transfers: Vec<(usize, i64)>,
        atomic: bool,
    },
    Deposit {
        who: usize,
        amount: i64,
    },
    /// The provider's answer for a deposit, possibly again or the other way.
    Webhook {
        nth: usize,
        succeeded: bool,
    },
    /// A hold's deadline passes, and the sweep runs.
    Expire {
        nth: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0usize..3;
    let amount = prop_oneof![-5i64..=0, 1i64..3_000, 2_000i64..20_000];
    prop_oneof![
        (who.clone(), 0usize..4, amount.clone()).prop_map(|(from, to, amount)| Op::Transfer {
            from,
            to,
            amount
        }),
        (who.clone(), amount.clone()).prop_map(|(payer, amount)| Op::Pay { payer, amount }),
        (0usize..4, amount.clone()).prop_map(|(nth, amount)| Op::Refund { nth, amount }),
        (who.clone(), amount.clone(), any::<bool>()).prop_map(|(who, amount, bad_rib)| {
            Op::Withdraw {
                who,
                amount,
                bad_rib,
            }
        }),
        (0usize..4, any::<bool>()).prop_map(|(nth, complete)| Op::Settle { nth, complete }),
        (who.clone(), amount.clone()).prop_map(|(who, amount)| Op::Hold { who, amount }),
        (0usize..4, amount.clone()).prop_map(|(nth, amount)| Op::Capture { nth, amount }),
        (0usize..4).prop_map(|nth| Op::Void { nth }),
        (who.clone(), any::<bool>()).prop_map(|(who, frozen)| Op::Freeze { who, frozen }),
        (who.clone(), 0usize..5, amount.clone())
            .prop_map(|(from, to, amount)| { Op::TransferByEmail { from, to, amount } }),
        (
            who.clone(),
            proptest::collection::vec((0usize..4, amount.clone()), 1..5),
            any::<bool>()
        )
            .prop_map(|(from, transfers, atomic)| Op::Bulk {
                from,
                transfers,
                atomic
            }),
        (who, amount).prop_map(|(who, amount)| Op::Deposit { who, amount }),
        (0usize..4, any::<bool>()).prop_map(|(nth, succeeded)| Op::Webhook { nth, succeeded }),
        (0usize..4).prop_map(|nth| Op::Expire { nth }),
    ]
}

struct World {
    core: Contacto,
    url: String,
    admin: Principal,
    customers: Vec<(Principal, WalletId)>,
    merchant: (Principal, WalletId),
    payments: Vec<TransactionId>,
    withdrawals: Vec<WithdrawalId>,
    holds: Vec<HoldId>,
    deposits: Vec<DepositId>,
}

fn rib(good: bool) -> String {
    let body = "002001234567890123";
    let n: u128 = body.parse().unwrap_or(0);
    let key = 97 - (n * 100) % 97;
    format!("{body}{:02}", if good { key } else { (key % 97) + 1 })
}

async fn snapshot(url: &str) -> String {
    let client = crate::helpers::sql(url).await;
    client
        .query_typed_one(
            "SELECT (SELECT coalesce(string_agg(id::text || posted || '/' || pending || '/' || frozen, ',' ORDER BY id), '') FROM wallets) \
                 || (SELECT count(*)::text FROM ledger_entries)",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

async fn check_books(world: &World) {
    let report = world.core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
    for (owner, w) in world.customers.iter().chain([&world.merchant]) {
        let view = world.core.wallet().get(owner, *w).await.unwrap();
        assert!(view.available >= 0 && view.pending >= 0, "{view:?}");
    }
}

async fn step(world: &mut World, op: &Op) {
    let before = snapshot(&world.url).await;
    let key = uuid::Uuid::new_v4().to_string();
    let wallet_of = |i: usize| {
        if i < 3 {
            world.customers[i].1
        } else {
            world.merchant.1
        }
    };
    let result: Result<(), contacto_core::Error> = match op.clone() {
        Op::Transfer { from, to, amount } => {
            let (owner, from_wallet) = world.customers[from];
            let request = transfer(from_wallet, wallet_of(to), amount);
            world
                .core
                .wallet()
                .transfer(&owner, &request, Some(&key))
                .await
                .map(drop)
        }
        Op::Pay { payer, amount } => {
            let (owner, w) = world.customers[payer];
            let request = PaymentRequest {
                payer_wallet_id: w,
                merchant_wallet_id: world.merchant.1,
                amount,
                description: None,
            };
            world
                .core
                .wallet()
                .pay(&owner, &request, Some(&key))
                .await
                .map(|t| world.payments.push(t.id))
        }
        Op::Refund { nth, amount } => match world.payments.get(nth).copied() {
            Some(payment) => world
                .core
                .wallet()
                .refund(
                    &world.merchant.0,
                    payment,
                    &RefundRequest { amount },
                    Some(&key),
                )
                .await
                .map(drop),
            None => return,
        },
        Op::Withdraw {
            who,
            amount,
            bad_rib,
        } => {
            let (owner, w) = world.customers[who];
            let request = WithdrawalRequest {
                wallet_id: w,
                amount,
                rib: rib(!bad_rib),
            };
            world
                .core
                .wallet()
                .withdraw(&owner, &request, Some(&key))
                .await
                .map(|v| world.withdrawals.push(v.id))
        }
        Op::Settle { nth, complete } => match world.withdrawals.get(nth).copied() {
            Some(id) => world
                .core
                .wallet()
                .settle_withdrawal(&world.admin, id, complete, None)
                .await
                .map(drop),
            None => return,
        },
        Op::Hold { who, amount } => {
            let (owner, w) = world.customers[who];
            let request = HoldRequest {
                payer_wallet_id: w,
                payee_wallet_id: world.merchant.1,
                amount,
                expires_in_secs: None,
            };
            world
                .core
                .wallet()
                .authorize(&owner, &request, Some(&key))
                .await
                .map(|h| world.holds.push(h.id))
        }
        Op::Capture { nth, amount } => match world.holds.get(nth).copied() {
            Some(id) => world
                .core
                .wallet()
                .capture(
                    &world.merchant.0,
                    id,
                    &CaptureRequest {
                        amount: Some(amount),
                    },
                    Some(&key),
                )
                .await
                .map(drop),
            None => return,
        },
        Op::Void { nth } => match world.holds.get(nth).copied() {
            Some(id) => world
                .core
                .wallet()
                .void(&world.merchant.0, id, None)
                .await
                .map(drop),
            None => return,
        },
        Op::TransferByEmail { from, to, amount } => {
            let (owner, from_wallet) = world.customers[from];
            let email = match to {
                0..3 => format!("p{to}@example.dz"),
                3 => "shop@example.dz".to_owned(),
                _ => "nobody@example.dz".to_owned(),
            };
            let request = TransferRequest {
                to_wallet_id: None,
                to_email: Some(email),
                ..transfer(from_wallet, from_wallet, amount)
            };
            world
                .core
                .wallet()
                .transfer(&owner, &request, Some(&key))
                .await
                .map(drop)
        }
        Op::Bulk {
            from,
            transfers,
            atomic,
        } => {
            let (owner, from_wallet) = world.customers[from];
            let request = BulkTransferRequest {
                transfers: transfers
                    .iter()
                    .map(|(to, amount)| transfer(from_wallet, wallet_of(*to), *amount))
                    .collect(),
                atomic,
            };
            world
                .core
                .wallet()
                .transfer_bulk(&owner, &request, &key)
                .await
                .map(drop)
        }
        Op::Deposit { who, amount } => {
            let (owner, w) = world.customers[who];
            let request = DepositRequest {
                wallet_id: w,
                amount,
                method: DepositMethod::Baridimob,
                reference: None,
            };
            world
                .core
                .wallet()
                .deposit(&owner, &request)
                .await
                .map(|d| world.deposits.push(d.id))
        }
        Op::Webhook { nth, succeeded } => match world.deposits.get(nth).copied() {
            Some(id) => {
                let status = if succeeded { "succeeded" } else { "failed" };
                let body = serde_json::to_vec(&serde_json::json!({
                    "deposit_id": id, "status": status, "provider_reference": format!("bm-{nth}")
                }))
                .unwrap();
                let signature = crate::helpers::sign(&body);
                world
                    .core
                    .wallet()
                    .deposit_webhook(&body, Some(&signature))
                    .await
                    .map(drop)
            }
            None => return,
        },
        Op::Expire { nth } => match world.holds.get(nth).copied() {
            Some(id) => {
                crate::helpers::sql(&world.url)
                    .await
                    .execute(
                        "UPDATE holds SET expires_at = now() - interval '1 second' \
                         WHERE id = $1 AND status = 'authorized'",
                        &[&id.0],
                    )
                    .await
                    .unwrap();
                world.core.wallet().expire_holds().await.map(drop)
            }
            None => return,
        },
        Op::Freeze { who, frozen } => {
            let update = WalletAdminUpdate {
                frozen: Some(frozen),
                verification_level: None,
            };
            world
                .core
                .wallet()
                .administer(&world.admin, world.customers[who].1, &update)
                .await
                .map(drop)
        }
    };
    if let Err(err) = result {
        assert!(
            !matches!(err.code(), "INTERNAL" | "SERVICE_UNAVAILABLE"),
            "{op:?} failed instead of being rejected: {err}"
        );
        assert_eq!(
            snapshot(&world.url).await,
            before,
            "{op:?} was rejected ({}) but changed something",
            err.code()
        );
    }
    check_books(world).await;
}

fn run(ops: Vec<Op>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = TestDatabase::create().await;
        let core = db.contacto();
        let mut customers = Vec::new();
        for i in 0..3 {
            let owner = user(&core, &format!("p{i}@example.dz"), Role::Customer).await;
            let w = wallet(&core, &owner).await;
            top_up(&core, &owner, w, 20_000).await;
            customers.push((owner, w));
        }
        let shop = user(&core, "shop@example.dz", Role::Merchant).await;
        let s = wallet(&core, &shop).await;
        let admin = crate::helpers::admin(&core).await;
        let mut world = World {
            core,
            url: db.direct_url().to_owned(),
            admin,
            customers,
            merchant: (shop, s),
            payments: Vec::new(),
            withdrawals: Vec::new(),
            holds: Vec::new(),
            deposits: Vec::new(),
        };
        for op in &ops {
            step(&mut world, op).await;
        }
    });
}

proptest! {
    // Each case builds a database and runs a few dozen operations with checks after each: a
    // handful of cases already explores thousands of states.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn random_operation_sequences_keep_the_books_exact(ops in proptest::collection::vec(op(), 1..25)) {
        run(ops);
    }
}
