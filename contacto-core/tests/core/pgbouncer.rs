//! Core through a real PgBouncer, in session and in transaction pooling mode: the wallet
//! (transfers, concurrent ones through the batcher, history, payments) and the directory
//! (profiles, pipelined searches and review lists), with fewer server connections than core's
//! pool in transaction mode so that any session state core relied on would leak between clients
//! and show.
//!
//! `CONTACTO_TEST_PGBOUNCER=transaction` runs the whole wallet and directory suites the same way.

use contacto_core::api::{
    PaymentRequest, ProfessionalRequest, ReviewRequest, ReviewSort, Role, SearchQuery, SearchSort,
};
use contacto_core::testing::{PgBouncer, PgBouncerOptions, PoolMode, TestDatabase, test_config};
use contacto_core::{Contacto, HistoryQuery};
use tokio_postgres::types::Type;

use crate::helpers::{customers, sql, top_up, transfer, user, wallet};

/// Core's pool in these tests: more connections than PgBouncer has for it in transaction mode.
const CORE_POOL_MAX_SIZE: usize = 8;

/// Transfers started at once, so that the batcher posts them in shared batches.
const CONCURRENT_TRANSFERS: usize = 64;

/// Server connections behind the pool: in session mode every client connection keeps one (core's
/// pool and the raw connections of the test); in transaction mode two serve core's eight.
fn options(mode: PoolMode) -> PgBouncerOptions {
    let pool_size = match mode {
        PoolMode::Session => 16,
        PoolMode::Transaction => 2,
    };
    PgBouncerOptions { mode, pool_size }
}

/// Starts PgBouncer in front of a fresh database and builds core on it.
fn through(db: &TestDatabase, mode: PoolMode) -> (PgBouncer, Contacto) {
    let bouncer = PgBouncer::start(db.direct_url(), options(mode)).unwrap();
    let mut config = test_config(&bouncer.url(db.name()));
    config.database.pool_max_size = CORE_POOL_MAX_SIZE;
    // PgBouncer 1.18 does not keep a client's prepared statements across transactions.
    config.database.prepared_statements = mode == PoolMode::Session;
    let core = Contacto::builder(config).build().unwrap();
    (bouncer, core)
}

#[tokio::test]
async fn the_wallet_works_through_pgbouncer_in_session_mode() {
    wallet_flow(PoolMode::Session).await;
}

#[tokio::test]
async fn the_wallet_works_through_pgbouncer_in_transaction_mode() {
    wallet_flow(PoolMode::Transaction).await;
}

#[tokio::test]
async fn the_directory_works_through_pgbouncer_in_session_mode() {
    directory_flow(PoolMode::Session).await;
}

#[tokio::test]
async fn the_directory_works_through_pgbouncer_in_transaction_mode() {
    directory_flow(PoolMode::Transaction).await;
}

async fn wallet_flow(mode: PoolMode) {
    let db = TestDatabase::create().await;
    let (bouncer, core) = through(&db, mode);
    let (amina, a, karim, k) = customers(&core).await;
    top_up(&core, &amina, a, 1_000_000).await;

    let first = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 10_000), Some("pgb-1"))
        .await
        .unwrap();
    let replayed = core
        .wallet()
        .transfer(&amina, &transfer(a, k, 10_000), Some("pgb-1"))
        .await
        .unwrap();
    assert_eq!(
        replayed.id, first.id,
        "{mode}: a replayed key posts nothing"
    );

    let mut posts = tokio::task::JoinSet::new();
    for i in 0..CONCURRENT_TRANSFERS {
        let core = core.clone();
        posts.spawn(async move {
            core.wallet()
                .transfer(&amina, &transfer(a, k, 100), Some(&format!("pgb-many-{i}")))
                .await
        });
    }
    while let Some(posted) = posts.join_next().await {
        posted.unwrap().unwrap();
    }
    let moved = 10_000 + 100 * CONCURRENT_TRANSFERS as i64;
    assert_eq!(
        core.wallet().get(&amina, a).await.unwrap().available,
        1_000_000 - moved,
        "{mode}"
    );
    assert_eq!(
        core.wallet().get(&karim, k).await.unwrap().posted,
        moved,
        "{mode}"
    );

    let history = core
        .wallet()
        .history(
            &karim,
            k,
            &HistoryQuery {
                limit: Some(100),
                ..HistoryQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1 + CONCURRENT_TRANSFERS, "{mode}");
    let received: i64 = history
        .items
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|e| e.wallet_id == k)
        .map(|e| e.amount)
        .sum();
    assert_eq!(
        received, moved,
        "{mode}: the history adds up to the balance"
    );
    // A payment reads both wallets and the merchant's fee in one statement, prepared once per
    // connection in session mode and planned every time in transaction mode.
    let shop = user(&core, "shop@example.dz", Role::Merchant).await;
    let s = wallet(&core, &shop).await;
    for i in 0..3 {
        let request = PaymentRequest {
            payer_wallet_id: a,
            merchant_wallet_id: s,
            amount: 1_000,
            description: None,
        };
        core.wallet()
            .pay(&amina, &request, Some(&format!("pgb-pay-{i}")))
            .await
            .unwrap();
    }
    assert_eq!(
        core.wallet().get(&shop, s).await.unwrap().posted,
        3 * (1_000 - 15),
        "{mode}: the default fee, 1.5%"
    );
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{mode}: {report:?}");

    assert_went_through(&bouncer, db.name()).await;
}

async fn directory_flow(mode: PoolMode) {
    let db = TestDatabase::create().await;
    let (bouncer, core) = through(&db, mode);
    let names = [
        ("Karim Benali", "plombier", "16"),
        ("Hakim Plomberie", "plombier", "31"),
        ("Samia Khelifi", "pediatrie", "25"),
    ];
    for (i, (name, category, wilaya)) in names.into_iter().enumerate() {
        let owner = user(&core, &format!("pro{i}@example.dz"), Role::Professional).await;
        let request = ProfessionalRequest {
            display_name: name.to_owned(),
            category: category.to_owned(),
            wilaya: wilaya.to_owned(),
            commune: "Centre".to_owned(),
            ..ProfessionalRequest::default()
        };
        core.directory()
            .create_profile(&owner, &request)
            .await
            .unwrap();
    }
    let customer = user(&core, "client@example.dz", Role::Customer).await;
    core.directory()
        .review(&customer, "karim-benali", &five_stars())
        .await
        .unwrap();

    // Searches run several statements pipelined on one connection outside a transaction; run
    // a few at once so that they share PgBouncer's server connections. Different searches:
    // identical ones in flight share one computation. Those without text run prepared
    // statements where the mode keeps them.
    let sorts = [
        None,
        Some(SearchSort::Rating),
        Some(SearchSort::Newest),
        Some(SearchSort::Relevance),
    ];
    let queries: Vec<SearchQuery> = sorts
        .iter()
        .flat_map(|sort| {
            [
                SearchQuery {
                    q: Some("plombier".to_owned()),
                    sort: *sort,
                    ..SearchQuery::default()
                },
                SearchQuery {
                    category: Some("plombier".to_owned()),
                    sort: *sort,
                    ..SearchQuery::default()
                },
            ]
        })
        .collect();
    let directory = core.directory();
    for _ in 0..2 {
        let searches = queries.iter().map(|query| directory.search(query));
        for found in futures_util::future::join_all(searches).await {
            let found = found.unwrap();
            assert_eq!(found.total, 2, "{mode}");
            let mut names: Vec<&str> = found
                .items
                .iter()
                .map(|hit| hit.display_name.as_str())
                .collect();
            names.sort_unstable();
            assert_eq!(names, ["Hakim Plomberie", "Karim Benali"], "{mode}");
            assert_eq!(found.facets.wilaya["16"], 1, "{mode}");
        }
    }
    let reviews = core
        .directory()
        .reviews("karim-benali", ReviewSort::Newest, None, None)
        .await
        .unwrap();
    assert_eq!((reviews.items.len(), reviews.total), (1, 1), "{mode}");
    let profile = core.directory().profile("karim-benali").await.unwrap();
    assert_eq!(profile.rating.average, Some(5.0), "{mode}");

    assert_went_through(&bouncer, db.name()).await;
}

fn five_stars() -> ReviewRequest {
    ReviewRequest {
        overall_rating: 5,
        quality_rating: Some(5),
        professionalism_rating: None,
        value_rating: None,
        punctuality_rating: None,
        communication_rating: None,
        text: Some("Travail soigné".to_owned()),
        would_recommend: true,
    }
}

/// PgBouncer's own statistics show the traffic, within its server connection limit.
async fn assert_went_through(bouncer: &PgBouncer, dbname: &str) {
    let admin = sql(&bouncer.admin_url()).await;
    let stats = show(&admin, "SHOW STATS", dbname, "total_xact_count").await;
    assert!(
        stats.parse::<u64>().unwrap() > 0,
        "PgBouncer counted no transaction for {dbname}"
    );
    let pools = admin.simple_query("SHOW POOLS").await.unwrap();
    let servers: u32 = rows(&pools)
        .filter(|row| row.get("database") == Some(dbname))
        .map(|row| {
            ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]
                .iter()
                .map(|column| row.get(*column).unwrap().parse::<u32>().unwrap())
                .sum::<u32>()
        })
        .sum();
    assert!(
        servers <= bouncer.options().pool_size,
        "{servers} server connections for a pool of {}",
        bouncer.options().pool_size
    );
}

/// Column `column` of the admin console's row for database `dbname` in `command`'s answer.
async fn show(admin: &tokio_postgres::Client, command: &str, dbname: &str, column: &str) -> String {
    let answer = admin.simple_query(command).await.unwrap();
    let row = rows(&answer)
        .find(|row| row.get("database") == Some(dbname))
        .unwrap_or_else(|| panic!("{command} has no row for {dbname}"));
    row.get(column).unwrap().to_owned()
}

fn rows(
    answer: &[tokio_postgres::SimpleQueryMessage],
) -> impl Iterator<Item = &tokio_postgres::SimpleQueryRow> {
    answer.iter().filter_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}

/// Why migrations must not go through transaction pooling: a session-level advisory lock (the
/// migration lock is one) stays on whichever server connection took it, and the unlock may run on
/// another, so the lock outlives the migration and the next run waits for it forever.
#[tokio::test]
async fn a_session_lock_taken_through_transaction_pooling_outlives_its_unlock() {
    const KEY: i64 = 0x7067_626f_756e_6365;
    let db = TestDatabase::create().await;
    let bouncer = PgBouncer::start(db.direct_url(), options(PoolMode::Transaction)).unwrap();
    let url = bouncer.url(db.name());
    let locker = sql(&url).await;
    // `query_typed` throughout: an unnamed statement, as core uses. (`query` prepares a named
    // statement and binds it after a Sync, which transaction pooling may send to another server.)
    let locked_on: i32 = locker
        .query_typed(
            "SELECT pg_backend_pid() FROM pg_advisory_lock($1)",
            &[(&KEY, Type::INT8)],
        )
        .await
        .unwrap()[0]
        .get(0);
    let _busy = keep_busy(&url, locked_on).await;

    let unlocked: bool = locker
        .query_typed("SELECT pg_advisory_unlock($1)", &[(&KEY, Type::INT8)])
        .await
        .unwrap()[0]
        .get(0);
    assert!(!unlocked, "the unlock ran on a connection without the lock");
    let holders = advisory_lock_holders(db.direct_url()).await;
    assert_eq!(
        holders,
        [locked_on],
        "the lock is still held by the first server connection"
    );
}

/// Why `DatabaseConfig::prepared_statements` is off behind transaction pooling: a statement
/// prepared in one transaction lives on that transaction's server connection, and the next
/// transaction of the same client may get another one, which never heard of it.
#[tokio::test]
async fn a_statement_prepared_through_transaction_pooling_is_lost_with_its_server_connection() {
    let db = TestDatabase::create().await;
    let bouncer = PgBouncer::start(db.direct_url(), options(PoolMode::Transaction)).unwrap();
    let url = bouncer.url(db.name());
    let client = sql(&url).await;
    let statement = client.prepare("SELECT pg_backend_pid()").await.unwrap();
    // This PgBouncer serves no one else yet, so its one idle server connection, the one the
    // statement was prepared on, runs it too.
    let prepared_on: i32 = client.query(&statement, &[]).await.unwrap()[0].get(0);
    let _busy = keep_busy(&url, prepared_on).await;

    let err = client.query(&statement, &[]).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_SQL_STATEMENT_NAME),
        "{err}"
    );
}

/// Session pooling keeps a client on one server connection, so core's migration (a session-level
/// lock around one transaction) may go through it.
#[tokio::test]
async fn migrations_run_through_pgbouncer_in_session_mode() {
    let db = TestDatabase::create().await;
    let (_bouncer, core) = through(&db, PoolMode::Session);
    let report = core.migrate().await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
    assert_eq!(
        advisory_lock_holders(db.direct_url()).await,
        Vec::<i32>::new(),
        "the migration lock was released"
    );
}

/// Keeps server connection `backend` of a two-connection transaction pool busy in another
/// client's open transaction, so the next transaction through `url` runs on the other one. Both
/// server connections are taken, then the other is given back; the returned client holds the
/// transaction until it is dropped.
async fn keep_busy(url: &str, backend: i32) -> tokio_postgres::Client {
    let (first, second) = (sql(url).await, sql(url).await);
    let mut holders = Vec::new();
    for client in [first, second] {
        client.batch_execute("BEGIN").await.unwrap();
        let pid: i32 = client
            .query_typed("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()[0]
            .get(0);
        holders.push((client, pid));
    }
    let (mut busy, mut free) = (None, None);
    for (client, pid) in holders {
        if pid == backend {
            busy = Some(client);
        } else {
            free = Some(client);
        }
    }
    free.expect("the pool's other server connection")
        .batch_execute("COMMIT")
        .await
        .unwrap();
    busy.expect("the pool's server connection to keep busy")
}

/// The server processes holding an advisory lock in the database `direct_url` names.
async fn advisory_lock_holders(direct_url: &str) -> Vec<i32> {
    sql(direct_url)
        .await
        .query_typed(
            "SELECT pid FROM pg_locks \
             WHERE locktype = 'advisory' AND granted \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// PgBouncer drops core's `options=-c statement_timeout=..` startup parameter (it cannot track
/// it), so the timeout is set on the database or role instead: every server connection starts
/// with it, and session mode's `DISCARD ALL` between clients restores it.
#[tokio::test]
async fn a_statement_timeout_set_on_the_database_holds_through_pgbouncer() {
    let db = TestDatabase::create().await;
    sql(db.direct_url())
        .await
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET statement_timeout = '1234ms'",
            db.name()
        ))
        .await
        .unwrap();
    for mode in [PoolMode::Session, PoolMode::Transaction] {
        // One server connection: every client below gets the same one.
        let bouncer =
            PgBouncer::start(db.direct_url(), PgBouncerOptions { mode, pool_size: 1 }).unwrap();
        let mut config: tokio_postgres::Config = bouncer.url(db.name()).parse().unwrap();
        config.options("-c statement_timeout=5000");
        let mut backends = Vec::new();
        for _ in 0..2 {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
            let connection = tokio::spawn(connection);
            let row = &client
                .query_typed(
                    "SELECT current_setting('statement_timeout'), pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap()[0];
            let timeout: String = row.get(0);
            assert_eq!(
                timeout, "1234ms",
                "{mode}: the database's setting, not the option"
            );
            backends.push(row.get::<_, i32>(1));
            if mode == PoolMode::Session {
                // Left for the next client, unless PgBouncer's reset query undoes it.
                client
                    .batch_execute("SET statement_timeout = 0")
                    .await
                    .unwrap();
            }
            drop(client);
            connection.await.unwrap().unwrap();
        }
        assert_eq!(backends[0], backends[1], "{mode}: one server connection");
    }
}
