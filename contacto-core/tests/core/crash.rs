//! Crash test: PostgreSQL is killed under load and restarted; every unacknowledged request is
//! retried with its key. Every acknowledged transfer is present exactly once, nothing else is,
//! and the books balance.

use std::collections::BTreeMap;
use std::time::Duration;

use contacto_core::api::{Role, TransferRequest, WalletId};
use contacto_core::testing::{TestCluster, test_config};
use contacto_core::{Contacto, Principal};

use crate::helpers::{top_up, transfer, user, wallet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_transfers_survive_an_immediate_kill_exactly_once() {
    let cluster = TestCluster::start_durable();
    let url = cluster.create_database("contacto").await;
    let mut config = test_config(&url);
    config.database.connect_timeout = Duration::from_millis(300);
    config.database.wait_timeout = Duration::from_millis(300);
    let core = Contacto::builder(config).build().unwrap();
    core.migrate().await.unwrap();
    let mut wallets: Vec<(Principal, WalletId)> = Vec::new();
    for i in 0..6 {
        let owner = user(&core, &format!("crash{i}@example.dz"), Role::Customer).await;
        let w = wallet(&core, &owner).await;
        top_up(&core, &owner, w, 1_000_000).await;
        wallets.push((owner, w));
    }

    // Load: each task sends transfers under fresh keys and remembers what it was told.
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let core = core.clone();
        let wallets = wallets.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes: Vec<(String, TransferRequest, Principal, bool)> = Vec::new();
            for n in 0..60usize {
                let (owner, from) = wallets[(worker + n) % wallets.len()];
                let to = wallets[(worker + n + 1) % wallets.len()].1;
                let request = transfer(from, to, 1 + (n as i64 % 50));
                let key = format!("w{worker}-n{n}");
                let acked = core
                    .wallet()
                    .transfer(&owner, &request, Some(&key))
                    .await
                    .is_ok();
                outcomes.push((key, request, owner, acked));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    cluster.postgres().kill().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.postgres().start().unwrap();

    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let lost = outcomes.iter().filter(|(_, _, _, acked)| !acked).count();
    assert!(
        lost > 0,
        "the kill happened under load: some requests were not acknowledged"
    );

    // Retry every unacknowledged request with its own key until it is answered.
    let mut posted: BTreeMap<String, uuid::Uuid> = BTreeMap::new();
    for (key, request, owner, _) in &outcomes {
        let mut answer = None;
        for _ in 0..100 {
            match core.wallet().transfer(owner, request, Some(key)).await {
                Ok(view) => {
                    answer = Some(view.id.0);
                    break;
                }
                Err(err) if err.code() == "SERVICE_UNAVAILABLE" => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("{key}: unexpected rejection {err}"),
            }
        }
        posted.insert(
            key.clone(),
            answer.unwrap_or_else(|| panic!("{key} never answered")),
        );
    }

    let client = crate::helpers::sql(&url).await;
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM ledger_transactions WHERE kind = 'transfer'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        count as usize,
        outcomes.len(),
        "exactly one posting per key, nothing else"
    );
    let mut ids: Vec<uuid::Uuid> = posted.values().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        outcomes.len(),
        "every key has its own transaction"
    );
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
}
