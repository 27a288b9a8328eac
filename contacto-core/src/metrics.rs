//! Core's Prometheus metrics, registered in a registry the embedding application may share.
//!
//! | series | labels | what it counts |
//! |---|---|---|
//! | `contacto_business_operations_total` | `kind`, `outcome` | business operations (`registration`, `login`, `api_key`, ...) by `ok`, `rejected` (the caller's fault) or `failed` (ours) |
//! | `contacto_db_query_duration_seconds` | `statement` | latency of each named statement |
//! | `contacto_db_errors_total` | `kind` | database failures: `unavailable`, `schema`, `internal` |
//! | `contacto_db_pool_*` | | pool size, open, idle connections and waiting requests, read at scrape time |
//! | `contacto_db_replica_up`, `contacto_db_replica_lag_seconds` | `replica` | whether each read replica is in rotation, and its lag (only with replicas) |
//! | `contacto_db_replica_reads_total` | `replica` | reads each replica served |
//! | `contacto_db_replica_fallbacks_total` | `reason` | lag-tolerant reads the primary served instead: `no_healthy_replica`, `own_write`, `replica_failed` |

use std::future::Future;
use std::time::Instant;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

use crate::db::Db;
use crate::error::{Error, ErrorKind, Result};

/// Buckets from 0.1 ms to 10 s: statements are mostly sub-millisecond, and p99 must stay readable
/// when they are not.
const QUERY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// The series core records.
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    operations: IntCounterVec,
    query_duration: HistogramVec,
    db_errors: IntCounterVec,
    amounts: IntCounterVec,
    batch_size: Histogram,
    commit_duration: Histogram,
    batch_phases: HistogramVec,
    batch_retries: IntCounter,
    batches_beside: IntCounter,
    ledger_queued: IntGauge,
    discrepancies: IntGauge,
    search_cache: IntCounterVec,
    search_cache_evicted: IntCounter,
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> Result<C> {
    registry
        .register(Box::new(collector.clone()))
        .map_err(|err| Error::internal("registering metrics", err))?;
    Ok(collector)
}

fn metric_error(err: prometheus::Error) -> Error {
    Error::internal("creating metrics", err)
}

impl Metrics {
    pub(crate) fn new(registry: Registry, db: &Db) -> Result<Self> {
        let operations = IntCounterVec::new(
            Opts::new(
                "contacto_business_operations_total",
                "Business operations by kind and outcome (ok, rejected, failed).",
            ),
            &["kind", "outcome"],
        )
        .map_err(metric_error)?;
        let query_duration = HistogramVec::new(
            HistogramOpts::new(
                "contacto_db_query_duration_seconds",
                "Latency of database statements by name.",
            )
            .buckets(QUERY_BUCKETS.to_vec()),
            &["statement"],
        )
        .map_err(metric_error)?;
        let db_errors = IntCounterVec::new(
            Opts::new("contacto_db_errors_total", "Database failures by kind."),
            &["kind"],
        )
        .map_err(metric_error)?;
        let amounts = IntCounterVec::new(
            Opts::new(
                "contacto_business_amount_minor_total",
                "Money moved by kind and currency, in minor units.",
            ),
            &["kind", "currency"],
        )
        .map_err(metric_error)?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "contacto_ledger_batch_size",
                "Operations per ledger commit.",
            )
            .buckets(vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0, 8192.0,
            ]),
        )
        .map_err(metric_error)?;
        let commit_duration = Histogram::with_opts(
            HistogramOpts::new(
                "contacto_ledger_commit_duration_seconds",
                "Time to post one ledger batch, from taking a connection to the durable commit, \
                 retries after a key conflict included.",
            )
            .buckets(QUERY_BUCKETS.to_vec()),
        )
        .map_err(metric_error)?;
        let batch_phases = HistogramVec::new(
            HistogramOpts::new(
                "contacto_ledger_batch_phase_seconds",
                "Time a committed ledger batch spent in each phase: connect (a pooled connection, \
                 its statements prepared), read (the transaction begun, the wallets locked and \
                 the keys looked up: one round trip), post (the operations validated and \
                 applied: in memory for transfers and payments, with statements of their own \
                 for deposits, refunds, withdrawals and holds), write (the writes and the commit: \
                 one round trip). A retried batch records its committed attempt only.",
            )
            .buckets(QUERY_BUCKETS.to_vec()),
            &["phase"],
        )
        .map_err(metric_error)?;
        let batch_retries = IntCounter::new(
            "contacto_ledger_batch_retries_total",
            "Ledger batches rolled back and posted again because another batch had recorded one \
             of their idempotency keys (a replay, or the same key on two instances at once).",
        )
        .map_err(metric_error)?;
        let batches_beside = IntCounter::new(
            "contacto_ledger_batches_beside_total",
            "Ledger batches started beside another (while it was in flight, or together with \
             it, the waiting operations split between them), over wallets and idempotency keys \
             the other did not hold.",
        )
        .map_err(metric_error)?;
        let ledger_queued = IntGauge::new(
            "contacto_ledger_queued_operations",
            "Operations the ledger's worker holds waiting for a batch: arrived, not yet in a batch \
             in flight (held back by a batch's wallets or keys, or waiting for a batch to end); \
             at most 16,384, beyond which requests wait in the worker's channel.",
        )
        .map_err(metric_error)?;
        let discrepancies = IntGauge::new(
            "contacto_reconciliation_discrepancies",
            "Discrepancies found by the last reconciliation.",
        )
        .map_err(metric_error)?;
        let search_cache = IntCounterVec::new(
            Opts::new(
                "contacto_directory_search_cache_total",
                "Directory searches by what the result cache did: hit (a cached page served), \
                 stale (a cached page past its freshness served, and its recomputation started), \
                 shared (waited for an identical search in flight), miss (computed).",
            ),
            &["outcome"],
        )
        .map_err(metric_error)?;
        let search_cache_evicted = IntCounter::new(
            "contacto_directory_search_cache_evicted_total",
            "Cached search pages dropped to make room, before their time was up.",
        )
        .map_err(metric_error)?;
        let metrics = Self {
            operations: register(&registry, operations)?,
            query_duration: register(&registry, query_duration)?,
            db_errors: register(&registry, db_errors)?,
            amounts: register(&registry, amounts)?,
            batch_size: register(&registry, batch_size)?,
            commit_duration: register(&registry, commit_duration)?,
            batch_phases: register(&registry, batch_phases)?,
            batch_retries: register(&registry, batch_retries)?,
            batches_beside: register(&registry, batches_beside)?,
            ledger_queued: register(&registry, ledger_queued)?,
            discrepancies: register(&registry, discrepancies)?,
            search_cache: register(&registry, search_cache)?,
            search_cache_evicted: register(&registry, search_cache_evicted)?,
            registry,
        };
        metrics
            .registry
            .register(Box::new(PoolCollector::new(db.clone())?))
            .map_err(|err| Error::internal("registering metrics", err))?;
        metrics
            .registry
            .register(Box::new(ReplicaCollector::new(db.clone())?))
            .map_err(|err| Error::internal("registering metrics", err))?;
        Ok(metrics)
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one business operation by the outcome of its result.
    pub(crate) fn operation<T>(&self, kind: &str, result: &Result<T>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(err) if is_our_fault(err) => "failed",
            Err(_) => "rejected",
        };
        self.operations.with_label_values(&[kind, outcome]).inc();
    }

    /// Records a committed ledger batch.
    pub(crate) fn ledger_batch(&self, size: usize, seconds: f64) {
        self.batch_size.observe(size as f64);
        self.commit_duration.observe(seconds);
    }

    /// Records where a committed ledger batch spent its time, phase by phase.
    pub(crate) fn ledger_batch_phases(&self, phases: &[(&str, std::time::Duration)]) {
        for (phase, took) in phases {
            self.batch_phases
                .with_label_values(&[phase])
                .observe(took.as_secs_f64());
        }
    }

    /// Counts a ledger batch rolled back and posted again because another batch had recorded one
    /// of its idempotency keys.
    pub(crate) fn ledger_batch_retried(&self) {
        self.batch_retries.inc();
    }

    /// Counts a ledger batch started beside another.
    pub(crate) fn ledger_batch_beside(&self) {
        self.batches_beside.inc();
    }

    /// Sets how many operations wait for a ledger batch.
    pub(crate) fn ledger_queued(&self, operations: usize) {
        self.ledger_queued
            .set(i64::try_from(operations).unwrap_or(i64::MAX));
    }

    /// Counts money moved.
    pub(crate) fn amount_moved(&self, kind: &str, currency: &str, amount: i64) {
        self.amounts
            .with_label_values(&[kind, currency])
            .inc_by(u64::try_from(amount).unwrap_or(0));
    }

    /// Counts a directory search by what the result cache did for it.
    pub(crate) fn search_cache(&self, outcome: &str) {
        self.search_cache.with_label_values(&[outcome]).inc();
    }

    /// Counts cached search pages dropped to make room.
    pub(crate) fn search_cache_evicted(&self, pages: usize) {
        if pages > 0 {
            self.search_cache_evicted
                .inc_by(u64::try_from(pages).unwrap_or(u64::MAX));
        }
    }

    /// Publishes the discrepancies of the last reconciliation.
    pub(crate) fn reconciliation(&self, discrepancies: usize) {
        self.discrepancies
            .set(i64::try_from(discrepancies).unwrap_or(i64::MAX));
    }

    /// Runs a named statement, recording its latency and, when it fails, the kind of failure.
    pub(crate) async fn query<T>(
        &self,
        statement: &str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let started = Instant::now();
        let result = work.await;
        self.query_duration
            .with_label_values(&[statement])
            .observe(started.elapsed().as_secs_f64());
        if let Err(err) = &result {
            let kind = match err {
                Error::SchemaOutdated | Error::SchemaAhead(_) => Some("schema"),
                // Not a failure: the batch is posted again (`contacto_ledger_batch_retries_total`).
                _ if crate::wallet::store::is_key_taken(err) => None,
                _ if err.kind() == ErrorKind::Unavailable => Some("unavailable"),
                _ if err.kind() == ErrorKind::Internal => Some("internal"),
                _ => None,
            };
            if let Some(kind) = kind {
                self.db_errors.with_label_values(&[kind]).inc();
            }
        }
        result
    }
}

fn is_our_fault(err: &Error) -> bool {
    matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Internal)
}

/// Reads the pool's state when Prometheus scrapes, so the gauges are never stale.
struct PoolCollector {
    db: Db,
    max: IntGauge,
    open: IntGauge,
    idle: IntGauge,
    waiting: IntGauge,
    descs: Vec<Desc>,
}

impl PoolCollector {
    fn new(db: Db) -> Result<Self> {
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).map_err(metric_error);
        let max = gauge(
            "contacto_db_pool_max_connections",
            "Most connections the pool may open.",
        )?;
        let open = gauge(
            "contacto_db_pool_connections",
            "Connections the pool holds open.",
        )?;
        let idle = gauge(
            "contacto_db_pool_idle_connections",
            "Open connections not in use.",
        )?;
        let waiting = gauge(
            "contacto_db_pool_waiting_requests",
            "Requests waiting for a pooled connection.",
        )?;
        let descs = [&max, &open, &idle, &waiting]
            .iter()
            .flat_map(|g| g.desc().into_iter().cloned())
            .collect();
        Ok(Self {
            db,
            max,
            open,
            idle,
            waiting,
            descs,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let status = self.db.pool_status();
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.max.set(as_i64(status.max_size));
        self.open.set(as_i64(status.size));
        self.idle.set(as_i64(status.available));
        self.waiting.set(as_i64(status.waiting));
        [&self.max, &self.open, &self.idle, &self.waiting]
            .iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}

/// Reads the replicas' state when Prometheus scrapes: whether each is in rotation, its lag, the
/// reads it served, and the reads that fell back to the primary. Nothing without replicas.
struct ReplicaCollector {
    db: Db,
    up: prometheus::IntGaugeVec,
    lag: prometheus::GaugeVec,
    reads: IntCounterVec,
    fallbacks: IntCounterVec,
    descs: Vec<Desc>,
    /// Counters are rebuilt from core's own counts at each scrape; one scrape at a time.
    scrape: std::sync::Mutex<()>,
}

impl ReplicaCollector {
    fn new(db: Db) -> Result<Self> {
        let up = prometheus::IntGaugeVec::new(
            Opts::new(
                "contacto_db_replica_up",
                "1 when the read replica is in rotation, 0 when it is down or lags too far.",
            ),
            &["replica"],
        )
        .map_err(metric_error)?;
        let lag = prometheus::GaugeVec::new(
            Opts::new(
                "contacto_db_replica_lag_seconds",
                "Replica lag behind the primary, to within one check interval; absent until reached.",
            ),
            &["replica"],
        )
        .map_err(metric_error)?;
        let reads = IntCounterVec::new(
            Opts::new(
                "contacto_db_replica_reads_total",
                "Reads served by each replica.",
            ),
            &["replica"],
        )
        .map_err(metric_error)?;
        let fallbacks = IntCounterVec::new(
            Opts::new(
                "contacto_db_replica_fallbacks_total",
                "Lag-tolerant reads served by the primary instead, by reason.",
            ),
            &["reason"],
        )
        .map_err(metric_error)?;
        let descs = up
            .desc()
            .into_iter()
            .chain(lag.desc())
            .chain(reads.desc())
            .chain(fallbacks.desc())
            .cloned()
            .collect();
        Ok(Self {
            db,
            up,
            lag,
            reads,
            fallbacks,
            descs,
            scrape: std::sync::Mutex::new(()),
        })
    }
}

impl Collector for ReplicaCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let status = self.db.replica_status();
        if status.is_empty() {
            return Vec::new();
        }
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        self.lag.reset();
        self.reads.reset();
        self.fallbacks.reset();
        for replica in &status {
            let name = [replica.name.as_str()];
            self.up
                .with_label_values(&name)
                .set(i64::from(replica.healthy));
            if let Some(lag) = replica.lag_seconds {
                self.lag.with_label_values(&name).set(lag);
            }
            self.reads.with_label_values(&name).inc_by(replica.reads);
        }
        for (reason, count) in self.db.fallbacks() {
            self.fallbacks.with_label_values(&[reason]).inc_by(count);
        }
        [
            self.up.collect(),
            self.lag.collect(),
            self.reads.collect(),
            self.fallbacks.collect(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
