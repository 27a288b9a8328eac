//! Read replicas against a real primary and a real streaming replica made with
//! `pg_basebackup -R`: reads served by the replica, writes never reaching it, read-your-writes
//! while the replica lags, the lag bound, fallback while it is down and return when it is back.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use contacto_core::api::{
    PriceUnit, ProfessionalRequest, Role, SearchQuery, ServiceRequest, WalletId,
};
use contacto_core::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use contacto_core::testing::test_config;
use contacto_core::{Contacto, HistoryQuery, Principal};

use crate::helpers::{metric, sql, top_up, transfer, user, wallet};

/// A primary and its replica in one temporary directory, both stopped and removed on drop, even
/// when the test fails.
struct Pair {
    root: PathBuf,
    primary: ManagedPostgres,
    replica: ManagedPostgres,
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = self.replica.kill();
        let _ = self.primary.kill();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn options(root: PathBuf) -> ClusterOptions {
    let mut options = ClusterOptions::new(root);
    options.durable = false;
    // Read-your-writes needs a commit's WAL written before it is acknowledged (docs/OPERATIONS.md).
    options
        .settings
        .push(("synchronous_commit".into(), "on".into()));
    options.max_connections = 60;
    options
}

/// Starts a primary with a migrated `contacto` database, and a streaming replica of it.
async fn pair() -> Pair {
    // Named like the other test clusters, so CI's check for leftovers covers it.
    let root = std::env::temp_dir().join(format!(
        "contacto-test-replicas-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let bins = PgBinaries::locate(None).unwrap();
    let primary = ManagedPostgres::open(bins, options(root.join("primary"))).unwrap();
    primary.start().unwrap();
    primary.ensure_database("contacto").await.unwrap();
    let url = primary.connection_string("contacto");
    Contacto::builder(test_config(&url))
        .build()
        .unwrap()
        .migrate()
        .await
        .unwrap();
    // Statement statistics, replicated with everything else: the replica's own counts show what
    // it served.
    sql(&url)
        .await
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .unwrap();
    let replica = primary
        .create_replica(options(root.join("replica")))
        .unwrap();
    let pair = Pair {
        root,
        primary,
        replica,
    };
    pair.replica.start().unwrap();
    pair
}

/// Core on the primary with the replica beside it.
fn core_with_replica(pair: &Pair, max_lag: Duration) -> Contacto {
    let mut config = test_config(&pair.primary.connection_string("contacto"));
    config.database.replicas = vec![pair.replica.connection_string("contacto").into()];
    config.database.replica_max_lag = max_lag;
    config.database.replica_check_interval = Duration::from_millis(100);
    Contacto::builder(config).build().unwrap()
}

/// Polls `check` every 50 ms for up to 30 s; fails with `what` when it never holds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

fn healthy(core: &Contacto) -> bool {
    core.replicas().first().is_some_and(|r| r.healthy)
}

fn replica_reads(core: &Contacto) -> u64 {
    core.replicas().first().map_or(0, |r| r.reads)
}

/// Statements the replica ran that read the directory, and statements it ran that write.
async fn replica_statements(pair: &Pair) -> (i64, i64) {
    let client = sql(&pair.replica.connection_string("contacto")).await;
    let row = client
        .query_one(
            "SELECT coalesce(sum(calls) FILTER (WHERE query ILIKE '%professionals%'), 0)::bigint, \
                    coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*(insert|update|delete)\\M' \
                        OR query ~* '\\m(insert\\s+into|delete\\s+from)\\M'), 0)::bigint \
             FROM pg_stat_statements",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

fn plumber(name: &str) -> ProfessionalRequest {
    ProfessionalRequest {
        display_name: name.to_owned(),
        category: "plombier".to_owned(),
        wilaya: "16".to_owned(),
        commune: "Bab Ezzouar".to_owned(),
        ..ProfessionalRequest::default()
    }
}

fn search(q: &str) -> SearchQuery {
    SearchQuery {
        q: Some(q.to_owned()),
        ..SearchQuery::default()
    }
}

async fn service_names(core: &Contacto, slug: &str) -> Vec<String> {
    let profile = core.directory().profile(slug).await.unwrap();
    profile.services.into_iter().map(|s| s.name).collect()
}

async fn history_len(core: &Contacto, owner: &Principal, id: WalletId) -> usize {
    core.wallet()
        .history(owner, id, &HistoryQuery::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_use_the_replica_see_own_writes_and_survive_its_outage() {
    let pair = pair().await;
    let core = core_with_replica(&pair, Duration::from_secs(60));

    // The monitor starts with the first read and puts the replica in rotation.
    eventually("the replica is in rotation", async || {
        core.directory().search(&search("plombier")).await.unwrap();
        healthy(&core)
    })
    .await;
    let lag = core.replicas()[0].lag_seconds.unwrap();
    assert!(lag < 60.0, "{lag}");

    // Writes go to the primary (the replica would refuse them), and public reads find them on
    // the replica once replayed.
    let karim = user(&core, "karim@example.dz", Role::Professional).await;
    let profile = core
        .directory()
        .create_profile(&karim, &plumber("Karim Benali"))
        .await
        .unwrap();
    let customer = user(&core, "amina@example.dz", Role::Customer).await;
    let yacine = user(&core, "yacine@example.dz", Role::Customer).await;
    let (payer, payee) = (wallet(&core, &customer).await, wallet(&core, &yacine).await);
    top_up(&core, &customer, payer, 100_000).await;
    eventually("the replica finds the new profile", async || {
        core.directory()
            .search(&search("benali"))
            .await
            .unwrap()
            .total
            == 1
    })
    .await;
    // Yacine's own writes (his account, his wallet) are replayed: his reads go to the replica.
    eventually("the replica serves Yacine's history", async || {
        let served = replica_reads(&core);
        history_len(&core, &yacine, payee).await;
        replica_reads(&core) > served
    })
    .await;
    let (directory_reads_before, _) = replica_statements(&pair).await;
    let served_before = replica_reads(&core);
    for _ in 0..10 {
        let page = core.directory().search(&search("karim")).await.unwrap();
        assert_eq!(page.items[0].id, profile.id);
        core.directory().profile(&profile.slug).await.unwrap();
    }
    let (directory_reads_after, writes_on_replica) = replica_statements(&pair).await;
    assert!(
        directory_reads_after >= directory_reads_before + 20,
        "the replica ran {directory_reads_before} then {directory_reads_after} directory reads"
    );
    assert!(replica_reads(&core) >= served_before + 20);
    assert_eq!(
        writes_on_replica, 0,
        "a write statement reached the replica"
    );
    let refused = sql(&pair.replica.connection_string("contacto"))
        .await
        .batch_execute("INSERT INTO search_words (word) VALUES ('x')")
        .await
        .unwrap_err();
    assert_eq!(refused.code().unwrap().code(), "25006", "{refused}");

    // A second handle on the same databases, with a tight bound on lag.
    let strict = core_with_replica(&pair, Duration::from_millis(300));
    eventually(
        "the strict handle has the replica in rotation",
        async || {
            strict.directory().profile(&profile.slug).await.unwrap();
            healthy(&strict)
        },
    )
    .await;

    // The replica stops replaying: it lags, but stays within the 60 s bound.
    let replica_sql = sql(&pair.replica.connection_string("contacto")).await;
    replica_sql
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    eventually("replay is paused", async || {
        let row = replica_sql
            .query_one("SELECT pg_get_wal_replay_pause_state()", &[])
            .await
            .unwrap();
        row.get::<_, String>(0) == "paused"
    })
    .await;
    // Karim's own change: he sees it at once (the primary answers him) ...
    core.directory()
        .add_service(
            &karim,
            &ServiceRequest {
                name: "Débouchage de canalisations".to_owned(),
                description: None,
                price_min_minor: None,
                price_max_minor: None,
                price_unit: PriceUnit::Visit,
                duration_minutes: None,
            },
        )
        .await
        .unwrap();
    let mine = core.directory().my_profile(&karim).await.unwrap();
    assert_eq!(mine.services.len(), 1);
    // ... while the public page, served by the lagging replica, does not show it yet.
    assert!(service_names(&core, &profile.slug).await.is_empty());
    // The same for money: the payer sees their transfer, the payee's history is still the
    // replica's, without it.
    core.wallet()
        .transfer(&customer, &transfer(payer, payee, 2_500), None)
        .await
        .unwrap();
    assert_eq!(history_len(&core, &customer, payer).await, 2);
    assert_eq!(history_len(&core, &yacine, payee).await, 0);
    // A later page, one with a cursor, reads the primary: a replica behind the first page's
    // could lack lines below the cursor, and the walk would skip them for good. Here the line
    // below the cursor is on the primary alone.
    let later = core
        .wallet()
        .history(
            &yacine,
            payee,
            &HistoryQuery {
                cursor: Some("2".into()),
                ..HistoryQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        later.items.len(),
        1,
        "the later page was read on the primary"
    );
    assert!(healthy(&core), "a paused replica within its bound stays in");

    // A handle with a tight bound takes the lagging replica out and reads the primary.
    core.wallet()
        .transfer(&customer, &transfer(payer, payee, 100), None)
        .await
        .unwrap();
    eventually(
        "the lagging replica is out of the strict rotation",
        async || !healthy(&strict),
    )
    .await;
    assert_eq!(service_names(&strict, &profile.slug).await.len(), 1);
    assert_eq!(history_len(&strict, &yacine, payee).await, 2);

    // Replay resumes: the replica catches up, and both handles read it again.
    replica_sql
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    eventually("the replica caught up", async || {
        service_names(&core, &profile.slug).await.len() == 1
            && history_len(&core, &yacine, payee).await == 2
    })
    .await;
    eventually("the strict handle takes the replica back", async || {
        strict.directory().profile(&profile.slug).await.unwrap();
        healthy(&strict)
    })
    .await;

    // The replica goes down: every read still succeeds, on the primary.
    drop(replica_sql);
    tokio::task::block_in_place(|| pair.replica.stop()).unwrap();
    for _ in 0..20 {
        let page = core.directory().search(&search("karim")).await.unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(service_names(&core, &profile.slug).await.len(), 1);
        assert_eq!(history_len(&core, &yacine, payee).await, 2);
    }
    assert!(!healthy(&core));
    let fallbacks = metric(&core, "contacto_db_replica_fallbacks_total");
    assert!(fallbacks > 0.0, "fallbacks counted: {fallbacks}");
    assert_eq!(metric(&core, "contacto_db_replica_up"), 0.0);

    // It comes back, and is used again.
    tokio::task::block_in_place(|| pair.replica.start()).unwrap();
    eventually("the replica is back in rotation", async || {
        core.directory().search(&search("karim")).await.unwrap();
        healthy(&core)
    })
    .await;
    let served = replica_reads(&core);
    core.directory().profile(&profile.slug).await.unwrap();
    assert!(replica_reads(&core) > served);
    assert_eq!(metric(&core, "contacto_db_replica_up"), 1.0);
    let (_, writes_on_replica) = replica_statements(&pair).await;
    assert_eq!(writes_on_replica, 0);
}

#[tokio::test]
async fn without_replicas_there_is_nothing_to_report() {
    let db = contacto_core::testing::TestDatabase::create().await;
    let core = db.contacto();
    core.directory().search(&search("plombier")).await.unwrap();
    assert!(core.replicas().is_empty());
    assert_eq!(metric(&core, "contacto_db_replica_up"), 0.0);
}
