//! A wallet's history lists its posted transactions and its deposits, withdrawals and holds not
//! posted, each with its status, in one sequence of pages.

use contacto_core::api::HistoryStatus;
use contacto_core::api::{
    CaptureRequest, DepositMethod, DepositRequest, HistoryItem, HoldRequest, Role, TransactionKind,
    TransactionStatus, WalletId, WithdrawalRequest,
};
use contacto_core::testing::{TestDatabase, sign_webhook};
use contacto_core::{Contacto, HistoryQuery, Principal};

use crate::helpers::{admin, rib, top_up, user, wallet};

async fn deposit(core: &Contacto, owner: &Principal, wallet: WalletId, amount: i64) -> uuid::Uuid {
    let request = DepositRequest {
        wallet_id: wallet,
        amount,
        method: DepositMethod::Edahabia,
        reference: None,
    };
    core.wallet().deposit(owner, &request).await.unwrap().id.0
}

async fn settle_deposit(core: &Contacto, id: uuid::Uuid, status: &str) {
    let body = serde_json::json!({
        "deposit_id": id,
        "status": status,
        "provider_reference": format!("edahabia-{id}"),
    })
    .to_string();
    core.wallet()
        .deposit_webhook(body.as_bytes(), Some(&sign_webhook(body.as_bytes())))
        .await
        .unwrap();
}

async fn lines(
    core: &Contacto,
    who: &Principal,
    w: WalletId,
    query: HistoryQuery,
) -> Vec<HistoryItem> {
    core.wallet().history(who, w, &query).await.unwrap().items
}

/// Every line, whatever its status.
fn every() -> HistoryQuery {
    HistoryQuery {
        status: HistoryStatus::All,
        ..HistoryQuery::default()
    }
}

/// `(kind, status, the wallet's amount)` of each line.
fn shape(items: &[HistoryItem]) -> Vec<(TransactionKind, TransactionStatus, i64)> {
    items
        .iter()
        .map(|i| (i.kind, i.status, i.entries[0].amount))
        .collect()
}

#[tokio::test]
async fn lines_not_posted_are_listed_with_their_status_beside_posted_ones() {
    use TransactionKind::{Deposit, HoldCapture, WithdrawalCompletion};
    use TransactionStatus::{Failed, Pending, Posted, Voided};
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let ops = admin(&core).await;
    let (a, s) = (wallet(&core, &amina).await, wallet(&core, &shop).await);
    let wallets = core.wallet();

    top_up(&core, &amina, a, 100_000).await;
    let pending_deposit = deposit(&core, &amina, a, 5_000).await;
    let failed_deposit = deposit(&core, &amina, a, 7_000).await;
    settle_deposit(&core, failed_deposit, "failed").await;
    let withdrawal = |amount| WithdrawalRequest {
        wallet_id: a,
        amount,
        rib: rib("002001234567890123"),
    };
    let pending_withdrawal = wallets
        .withdraw(&amina, &withdrawal(3_000), None)
        .await
        .unwrap();
    let refused = wallets
        .withdraw(&amina, &withdrawal(2_000), None)
        .await
        .unwrap();
    wallets
        .settle_withdrawal(&ops, refused.id, false, Some("refused"))
        .await
        .unwrap();
    let hold = |amount| HoldRequest {
        payer_wallet_id: a,
        payee_wallet_id: s,
        amount,
        expires_in_secs: None,
    };
    let pending_hold = wallets.authorize(&amina, &hold(4_000), None).await.unwrap();
    let voided = wallets.authorize(&amina, &hold(1_000), None).await.unwrap();
    wallets.void(&amina, voided.id, Some("v")).await.unwrap();
    let captured = wallets.authorize(&amina, &hold(2_500), None).await.unwrap();
    let capture = CaptureRequest {
        amount: Some(2_000),
    };
    wallets
        .capture(&shop, captured.id, &capture, Some("c"))
        .await
        .unwrap();

    let all = lines(&core, &amina, a, every()).await;
    assert_eq!(
        shape(&all),
        [
            (HoldCapture, Posted, -2_000),
            (HoldCapture, Voided, -1_000),
            (HoldCapture, Pending, -4_000),
            (WithdrawalCompletion, Failed, -2_000),
            (WithdrawalCompletion, Pending, -3_000),
            (Deposit, Failed, 7_000),
            (Deposit, Pending, 5_000),
            (Deposit, Posted, 100_000),
        ],
        "newest first; the captured hold is its posted capture alone"
    );
    let ids: Vec<uuid::Uuid> = all.iter().map(|i| i.id).collect();
    assert_eq!(
        ids[1..7],
        [
            voided.id.0,
            pending_hold.id.0,
            refused.id.0,
            pending_withdrawal.id.0,
            failed_deposit,
            pending_deposit,
        ],
        "a line not posted carries its deposit's, withdrawal's or hold's id"
    );
    let descriptions: Vec<Option<&str>> = all.iter().map(|l| l.description.as_deref()).collect();
    let capture_of = |id: &dyn std::fmt::Display| format!("capture of hold {id}");
    let rib_tail = &withdrawal(1).rib[16..];
    let payout = format!("payout to RIB ****************{rib_tail}");
    assert_eq!(
        descriptions,
        [
            Some(capture_of(&captured.id).as_str()),
            Some(capture_of(&voided.id).as_str()),
            Some(capture_of(&pending_hold.id).as_str()),
            Some(payout.as_str()),
            Some(payout.as_str()),
            Some("top-up edahabia"),
            Some("top-up edahabia"),
            Some("top-up cib"),
        ],
        "a line not posted is described as the transaction it would post"
    );
    for line in &all {
        assert_eq!(
            line.entries[0].balance_after.is_some(),
            line.status == Posted,
            "only posted lines have a balance after them: {line:?}"
        );
        assert_eq!(line.transaction_id().is_some(), line.status == Posted);
        assert_eq!(line.entries[0].wallet_id, a);
    }
    let capture_line = all[0].transaction_id().unwrap();
    assert_eq!(
        wallets
            .transaction(&amina, capture_line)
            .await
            .unwrap()
            .kind,
        HoldCapture
    );

    let by_status = |status| lines(&core, &amina, a, HistoryQuery { status, ..every() });
    assert_eq!(
        shape(&by_status(HistoryStatus::Pending).await),
        [
            (HoldCapture, Pending, -4_000),
            (WithdrawalCompletion, Pending, -3_000),
            (Deposit, Pending, 5_000),
        ]
    );
    assert_eq!(
        shape(&by_status(HistoryStatus::Failed).await),
        [
            (WithdrawalCompletion, Failed, -2_000),
            (Deposit, Failed, 7_000)
        ]
    );
    assert_eq!(
        shape(&by_status(HistoryStatus::Voided).await),
        [(HoldCapture, Voided, -1_000)]
    );
    assert_eq!(
        shape(&by_status(HistoryStatus::Posted).await),
        [(HoldCapture, Posted, -2_000), (Deposit, Posted, 100_000)]
    );
    assert_eq!(
        shape(&lines(&core, &amina, a, HistoryQuery::default()).await),
        [(HoldCapture, Posted, -2_000), (Deposit, Posted, 100_000)],
        "posted lines alone unless asked"
    );

    let by_kind = |kind, status| {
        lines(
            &core,
            &amina,
            a,
            HistoryQuery {
                kind: Some(kind),
                status,
                ..every()
            },
        )
    };
    assert_eq!(
        shape(&by_kind(Deposit, HistoryStatus::All).await),
        [
            (Deposit, Failed, 7_000),
            (Deposit, Pending, 5_000),
            (Deposit, Posted, 100_000)
        ]
    );
    assert_eq!(
        shape(&by_kind(Deposit, HistoryStatus::Pending).await),
        [(Deposit, Pending, 5_000)]
    );
    assert!(
        by_kind(TransactionKind::Transfer, HistoryStatus::Pending)
            .await
            .is_empty()
    );

    let since_the_pending_hold = lines(
        &core,
        &amina,
        a,
        HistoryQuery {
            from: Some(pending_hold.created_at),
            ..every()
        },
    )
    .await;
    assert_eq!(shape(&since_the_pending_hold), shape(&all[..3]));
    let before_it = lines(
        &core,
        &amina,
        a,
        HistoryQuery {
            to: Some(pending_hold.created_at),
            ..every()
        },
    )
    .await;
    assert_eq!(shape(&before_it), shape(&all[3..]));

    // The payee sees the holds made to it, as what they would bring in.
    assert_eq!(
        shape(&lines(&core, &shop, s, every()).await),
        [
            (HoldCapture, Posted, 2_000),
            (HoldCapture, Voided, 1_000),
            (HoldCapture, Pending, 4_000),
        ]
    );

    // Once confirmed, the pending deposit leaves its line and is posted, newest.
    settle_deposit(&core, pending_deposit, "succeeded").await;
    let after = lines(&core, &amina, a, every()).await;
    assert_eq!(shape(&after[..1]), [(Deposit, Posted, 5_000)]);
    assert_eq!(after.len(), all.len());
    assert!(!after.iter().any(|l| l.id == pending_deposit));
}

#[tokio::test]
async fn pages_of_any_size_walk_every_line_once_in_order() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let karim = user(&core, "karim@example.dz", Role::Customer).await;
    let (a, k) = (wallet(&core, &amina).await, wallet(&core, &karim).await);
    top_up(&core, &amina, a, 100_000).await;
    // Posted and pending lines interleaved in time.
    for n in 1..=6 {
        deposit(&core, &amina, a, n * 10).await;
        let request = crate::helpers::transfer(a, k, n * 100);
        core.wallet()
            .transfer(&amina, &request, None)
            .await
            .unwrap();
    }
    let everything = lines(
        &core,
        &amina,
        a,
        HistoryQuery {
            limit: Some(100),
            ..every()
        },
    )
    .await;
    let amounts: Vec<i64> = everything.iter().map(|l| l.entries[0].amount).collect();
    assert_eq!(
        amounts,
        [
            -600, 60, -500, 50, -400, 40, -300, 30, -200, 20, -100, 10, 100_000
        ]
    );
    assert!(
        everything
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at)
    );

    for size in [1, 2, 3, 5] {
        let mut walked = Vec::new();
        let mut query = HistoryQuery {
            limit: Some(size),
            ..every()
        };
        loop {
            let page = core.wallet().history(&amina, a, &query).await.unwrap();
            assert!(page.items.len() <= usize::try_from(size).unwrap());
            walked.extend(page.items.iter().map(|l| l.id));
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let expected: Vec<uuid::Uuid> = everything.iter().map(|l| l.id).collect();
        assert_eq!(walked, expected, "pages of {size}");
    }

    // Pages of posted lines alone have the cursors of before lines not posted were listed (a
    // bare `seq`), which go on with posted lines alone.
    let mut query = HistoryQuery {
        limit: Some(2),
        ..HistoryQuery::default()
    };
    let mut posted = Vec::new();
    loop {
        let page = core.wallet().history(&amina, a, &query).await.unwrap();
        posted.extend(page.items.iter().map(|l| l.entries[0].amount));
        match page.next_cursor {
            Some(cursor) => {
                assert!(cursor.parse::<i64>().is_ok(), "{cursor}");
                query.cursor = Some(cursor);
            }
            None => break,
        }
    }
    assert_eq!(posted, [-600, -500, -400, -300, -200, -100, 100_000]);
    let older = core
        .wallet()
        .history(
            &amina,
            a,
            &HistoryQuery {
                cursor: Some("3".into()),
                ..HistoryQuery::default()
            },
        )
        .await
        .unwrap();
    let amounts: Vec<i64> = older.items.iter().map(|l| l.entries[0].amount).collect();
    assert_eq!(amounts, [-100, 100_000]);
    // A cursor is refused under another status than its page's: the lines it would skip or
    // repeat are not the same.
    let first = core
        .wallet()
        .history(
            &amina,
            a,
            &HistoryQuery {
                limit: Some(2),
                ..every()
            },
        )
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    // ...and under other filters: a sequence pinned as done for deposits is not done for all.
    for (cursor, status, kind) in [
        ("3", HistoryStatus::All, None),
        ("3", HistoryStatus::Pending, None),
        (first.as_str(), HistoryStatus::Posted, None),
        (first.as_str(), HistoryStatus::Pending, None),
        (
            first.as_str(),
            HistoryStatus::All,
            Some(TransactionKind::Deposit),
        ),
    ] {
        let err = core
            .wallet()
            .history(
                &amina,
                a,
                &HistoryQuery {
                    cursor: Some(cursor.into()),
                    status,
                    kind,
                    ..HistoryQuery::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            "VALIDATION_FAILED",
            "{cursor} under {status:?}, {kind:?}"
        );
    }
    for bad in ["0", "abc", "3.y", "all._.1-nothex", "all.3"] {
        let err = core
            .wallet()
            .history(
                &amina,
                a,
                &HistoryQuery {
                    cursor: Some(bad.into()),
                    ..every()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{bad}");
    }
}

/// What arrives while a reader pages is not listed below older lines: a deposit confirmed after
/// the first page of pending deposits, which took no posted line, is not on the second page as a
/// posted line newer than the first page's.
#[tokio::test]
async fn what_arrives_between_pages_is_not_listed_below_older_lines() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 1_000).await;
    let first = deposit(&core, &amina, a, 10).await;
    let second = deposit(&core, &amina, a, 20).await;
    let query = HistoryQuery {
        limit: Some(2),
        ..every()
    };
    let page = core.wallet().history(&amina, a, &query).await.unwrap();
    let ids: Vec<uuid::Uuid> = page.items.iter().map(|l| l.id).collect();
    assert_eq!(ids, [second, first]);
    settle_deposit(&core, second, "succeeded").await;
    deposit(&core, &amina, a, 30).await;
    let next = core
        .wallet()
        .history(
            &amina,
            a,
            &HistoryQuery {
                cursor: page.next_cursor,
                ..query
            },
        )
        .await
        .unwrap();
    assert_eq!(
        shape(&next.items),
        [(TransactionKind::Deposit, TransactionStatus::Posted, 1_000)],
        "only the line older than the first page"
    );
    assert_eq!(next.next_cursor, None);
}

/// Every filter of the lines not posted is served by V23's partial indexes, one per status:
/// `EXPLAIN` over 12,000 deposits, withdrawals and holds of 400 wallets not posted (4,000 holds
/// to the wallet read, in every status), 2,000 of the wallet read failed or pending and 12,000
/// that went through finds each arm on its index, no sequential scan, and no page that reads and
/// drops a hundred rows.
#[tokio::test]
async fn lines_not_posted_are_read_through_indexes() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let amina = user(&core, "amina@example.dz", Role::Customer).await;
    let a = wallet(&core, &amina).await;
    top_up(&core, &amina, a, 1_000).await;
    let sql = crate::helpers::sql(db.direct_url()).await;
    let seed = format!(
        "INSERT INTO users (id, email, full_name, role, password_hash) \
           SELECT gen_random_uuid(), 'seed' || n || '@example.dz', 'Seed ' || n, 'customer', \
                  '$argon2id$seed' FROM generate_series(1, 400) n; \
         INSERT INTO wallets (id, owner_id, kind, currency, posted) \
           SELECT gen_random_uuid(), id, 'personal', 'DZD', 1000000 FROM users \
            WHERE email LIKE 'seed%'; \
         CREATE TEMPORARY TABLE seeded AS SELECT id, owner_id FROM wallets \
            WHERE owner_id IN (SELECT id FROM users WHERE email LIKE 'seed%'); \
         INSERT INTO deposits (id, wallet_id, owner_id, amount, currency, method, status, \
                               created_at) \
           SELECT gen_random_uuid(), w.id, w.owner_id, 100, 'DZD', 'cib', \
                  (ARRAY['pending', 'failed'])[1 + n % 2], now() - n * interval '1 minute' \
             FROM seeded w, generate_series(1, 10) n; \
         INSERT INTO withdrawals (id, wallet_id, amount, currency, rib, status, created_at) \
           SELECT gen_random_uuid(), w.id, 100, 'DZD', '00200123456789012345', \
                  (ARRAY['pending', 'failed'])[1 + n % 2], now() - n * interval '1 minute' \
             FROM seeded w, generate_series(1, 10) n; \
         INSERT INTO holds (id, payer_wallet_id, payee_wallet_id, amount, currency, status, \
                            expires_at, created_at) \
           SELECT gen_random_uuid(), w.id, '{a}', 100, 'DZD', \
                  (ARRAY['authorized', 'voided', 'expired'])[1 + n % 3], now() + interval '1 day', \
                  now() - n * interval '1 minute' \
             FROM seeded w, generate_series(1, 10) n; \
         INSERT INTO deposits (id, wallet_id, owner_id, amount, currency, method, status, \
                               transaction_id, created_at) \
           SELECT gen_random_uuid(), '{a}', '{owner}', 100, 'DZD', 'cib', 'succeeded', \
                  (SELECT transaction_id FROM deposits WHERE status = 'succeeded' LIMIT 1), \
                  now() - n * interval '1 second' FROM generate_series(1, 3000) n; \
         INSERT INTO withdrawals (id, wallet_id, amount, currency, rib, status, transaction_id, \
                                  created_at) \
           SELECT gen_random_uuid(), '{a}', 100, 'DZD', '00200123456789012345', 'completed', \
                  (SELECT transaction_id FROM deposits WHERE status = 'succeeded' LIMIT 1), \
                  now() - n * interval '1 second' FROM generate_series(1, 3000) n; \
         INSERT INTO holds (id, payer_wallet_id, payee_wallet_id, amount, captured, currency, \
                            status, expires_at, transaction_id, created_at) \
           SELECT gen_random_uuid(), \
                  CASE WHEN n % 2 = 0 THEN '{a}'::uuid ELSE w.id END, \
                  CASE WHEN n % 2 = 0 THEN w.id ELSE '{a}'::uuid END, \
                  100, 100, 'DZD', 'captured', now() + interval '1 day', \
                  (SELECT transaction_id FROM deposits WHERE status = 'succeeded' LIMIT 1), \
                  now() - n * interval '1 second' \
             FROM generate_series(1, 6000) n, \
                  LATERAL (SELECT id FROM seeded ORDER BY id LIMIT 1 OFFSET n % 400) w; \
         INSERT INTO deposits (id, wallet_id, owner_id, amount, currency, method, status, \
                               created_at) \
           SELECT gen_random_uuid(), '{a}', '{owner}', 100, 'DZD', 'cib', 'failed', \
                  now() - n * interval '1 second' FROM generate_series(1, 1000) n; \
         INSERT INTO withdrawals (id, wallet_id, amount, currency, rib, status, created_at) \
           SELECT gen_random_uuid(), '{a}', 100, 'DZD', '00200123456789012345', 'pending', \
                  now() - n * interval '1 second' FROM generate_series(1, 1000) n; \
         ANALYZE users, wallets, deposits, withdrawals, holds;",
        owner = amina.user_id.0,
    );
    sql.batch_execute(&seed).await.unwrap();
    // $1 wallet, $2 before seq, $3 kind, $4/$5 time range, $6 limit, $7/$8 after, $9 statuses.
    let cases = [
        (
            "everything",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "'{pending,failed,voided}'",
        ),
        (
            "pending",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "'{pending}'",
        ),
        (
            "failed deposits",
            "NULL",
            "'deposit'",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "'{failed}'",
        ),
        (
            "a later page",
            "5",
            "NULL",
            "NULL",
            "NULL",
            "now()",
            "'ffffffff-ffff-7fff-bfff-ffffffffffff'",
            "'{voided}'",
        ),
        (
            "a time range",
            "NULL",
            "'hold_capture'",
            "now() - interval '1 hour'",
            "now()",
            "NULL",
            "NULL",
            "'{pending}'",
        ),
    ];
    for statement in contacto_core::testing::history_lines_statements() {
        for (name, before, kind, from, to, after, after_id, statuses) in cases {
            let explain = format!(
                "EXPLAIN (ANALYZE, BUFFERS) {}",
                statement
                    .replace("$1", &format!("'{a}'::uuid"))
                    .replace("$2", &format!("({before})::int8"))
                    .replace("$3", &format!("({kind})::text"))
                    .replace("$4", &format!("({from})::timestamptz"))
                    .replace("$5", &format!("({to})::timestamptz"))
                    .replace("$6", "21::int8")
                    .replace("$7", &format!("({after})::timestamptz"))
                    .replace("$8", &format!("({after_id})::uuid"))
                    .replace("$9", &format!("({statuses})::text[]"))
            );
            // One run, analysed: the plan, and the rows each node read and dropped by a filter
            // (rows in other statuses, were an arm not on the partial index of its own).
            let plan: Vec<String> = sql
                .query(&explain, &[])
                .await
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            let removed: u64 = plan
                .iter()
                .filter_map(|line| line.trim().strip_prefix("Rows Removed by Filter: "))
                .filter_map(|n| n.parse::<u64>().ok())
                .sum();
            let plan = plan.join("\n");
            for table in ["deposits", "withdrawals", "holds"] {
                assert!(
                    !plan.contains(&format!("Seq Scan on {table}")),
                    "{name}: a sequential scan of {table}:\n{plan}"
                );
            }
            assert!(
                removed < 100,
                "{name}: {removed} rows read and dropped\n{plan}"
            );
            if name == "everything" {
                for index in [
                    "deposits_wallet_pending_idx",
                    "deposits_wallet_failed_idx",
                    "withdrawals_wallet_pending_idx",
                    "withdrawals_wallet_failed_idx",
                    "holds_payer_authorized_idx",
                    "holds_payer_voided_idx",
                    "holds_payee_authorized_idx",
                    "holds_payee_voided_idx",
                ] {
                    assert!(plan.contains(index), "{name}: not on {index}:\n{plan}");
                }
            }
        }
    }
}
