//! What a run records: per operation, HDR histograms of latency, counts, errors by class and a
//! per-second timeline. Each worker records into its own [`Recorder`] (no lock on the hot path);
//! the recorders are merged at the end. A few shared atomics feed the live progress line.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// The longest latency a histogram holds, in microseconds (longer ones are clamped to it).
const MAX_LATENCY_US: u64 = 120_000_000;

/// Significant digits of the histograms: 0.1% precision at every magnitude.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The server refused it: 4xx.
    Client,
    /// The server failed: 5xx.
    Server,
    /// No answer: connection refused or reset, timeout, or an answer that is not HTTP.
    Transport,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 3] = [
        ErrorClass::Client,
        ErrorClass::Server,
        ErrorClass::Transport,
    ];

    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Client => "4xx",
            ErrorClass::Server => "5xx",
            ErrorClass::Transport => "transport",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The class of a client error, with the server's code (or the HTTP status) for the report.
    pub fn of(err: &contacto_client::Error) -> (ErrorClass, String) {
        match (err.status(), err.code()) {
            (Some(status), code) => {
                let class = if status >= 500 {
                    ErrorClass::Server
                } else {
                    ErrorClass::Client
                };
                (
                    class,
                    code.map_or_else(|| status.to_string(), str::to_owned),
                )
            }
            (None, _) => (ErrorClass::Transport, transport_kind(err)),
        }
    }
}

/// A short name for a failure without an answer: `timeout`, `connect`, or `transport`.
fn transport_kind(err: &contacto_client::Error) -> String {
    if err.is_timeout() {
        "timeout".to_owned()
    } else if err.is_connect() {
        "connect".to_owned()
    } else {
        "transport".to_owned()
    }
}

/// How one request ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Success, standing for `items` units of work (transfers of a bulk request; 1 otherwise).
    Ok {
        /// Units of work done.
        items: u64,
    },
    /// Failure of a class, with the server's code or a short reason.
    Err(ErrorClass, String),
}

/// One operation's figures.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Successful requests' latency in µs, measured from the intended start (open model) or the
    /// send (closed model).
    pub latency: Histogram<u64>,
    /// Successful requests' latency in µs from the moment they were actually sent.
    pub service: Histogram<u64>,
    /// Successful requests.
    pub ok: u64,
    /// Units of work of the successful requests.
    pub items: u64,
    /// Failed requests by class, indexed like [`ErrorClass::ALL`].
    pub errors: [u64; 3],
    /// Failed requests by code.
    pub codes: BTreeMap<String, u64>,
    /// Successful requests completed in each second of the run.
    pub ok_per_second: Vec<u64>,
    /// Units of work completed in each second of the run.
    pub items_per_second: Vec<u64>,
    /// Failed requests completed in each second of the run.
    pub errors_per_second: Vec<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)
        .unwrap_or_else(|_| unreachable!("constant, valid bounds"))
}

impl Default for OpStats {
    fn default() -> Self {
        Self {
            latency: histogram(),
            service: histogram(),
            ok: 0,
            items: 0,
            errors: [0; 3],
            codes: BTreeMap::new(),
            ok_per_second: Vec::new(),
            items_per_second: Vec::new(),
            errors_per_second: Vec::new(),
        }
    }
}

fn bump(series: &mut Vec<u64>, second: usize, by: u64) {
    if series.len() <= second {
        series.resize(second + 1, 0);
    }
    series[second] += by;
}

fn add_series(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

impl OpStats {
    /// Requests, successful or not.
    pub fn requests(&self) -> u64 {
        self.ok + self.failed()
    }

    /// Failed requests.
    pub fn failed(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Failed requests of `class`.
    pub fn errors_of(&self, class: ErrorClass) -> u64 {
        self.errors[class.index()]
    }

    fn record(&mut self, latency: Duration, service: Duration, second: usize, outcome: Outcome) {
        match outcome {
            Outcome::Ok { items } => {
                let micros = |d: Duration| (d.as_micros() as u64).clamp(1, MAX_LATENCY_US);
                let _ = self.latency.record(micros(latency));
                let _ = self.service.record(micros(service));
                self.ok += 1;
                self.items += items;
                bump(&mut self.ok_per_second, second, 1);
                bump(&mut self.items_per_second, second, items);
            }
            Outcome::Err(class, code) => {
                self.errors[class.index()] += 1;
                *self.codes.entry(code).or_default() += 1;
                bump(&mut self.errors_per_second, second, 1);
            }
        }
    }

    /// Adds `other`'s figures to these.
    pub fn merge(&mut self, other: &OpStats) {
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        self.ok += other.ok;
        self.items += other.items;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        for (code, n) in &other.codes {
            *self.codes.entry(code.clone()).or_default() += n;
        }
        add_series(&mut self.ok_per_second, &other.ok_per_second);
        add_series(&mut self.items_per_second, &other.items_per_second);
        add_series(&mut self.errors_per_second, &other.errors_per_second);
    }
}

/// Counters every worker bumps, read by the progress line.
#[derive(Debug, Default)]
pub struct Live {
    /// Requests completed.
    pub completed: AtomicU64,
    /// Requests failed.
    pub failed: AtomicU64,
    /// Requests sent and not yet answered.
    pub in_flight: AtomicU64,
}

/// One worker's recordings, by operation.
#[derive(Debug)]
pub struct Recorder {
    run_start: Instant,
    ops: Vec<(&'static str, OpStats)>,
}

impl Recorder {
    /// An empty recorder for a run that started at `run_start`.
    pub fn new(run_start: Instant) -> Self {
        Self {
            run_start,
            ops: Vec::new(),
        }
    }

    /// Records one request of `op` that was due at `due`, sent at `sent` and ended now.
    pub fn record(&mut self, op: &'static str, due: Instant, sent: Instant, outcome: Outcome) {
        let now = Instant::now();
        let second = now.saturating_duration_since(self.run_start).as_secs() as usize;
        // A handful of operations per scenario: a linear scan beats hashing.
        let stats = match self.ops.iter().position(|(name, _)| *name == op) {
            Some(i) => &mut self.ops[i].1,
            None => {
                self.ops.push((op, OpStats::default()));
                let last = self.ops.len() - 1;
                &mut self.ops[last].1
            }
        };
        stats.record(
            now.saturating_duration_since(due),
            now.saturating_duration_since(sent),
            second,
            outcome,
        );
    }

    /// The recordings, by operation name.
    pub fn into_ops(self) -> Vec<(&'static str, OpStats)> {
        self.ops
    }
}

/// Every worker's recordings merged, by operation name.
pub fn merge_all(recorders: Vec<Recorder>) -> BTreeMap<String, OpStats> {
    let mut merged: BTreeMap<String, OpStats> = BTreeMap::new();
    for recorder in recorders {
        for (name, stats) in recorder.into_ops() {
            merged.entry(name.to_owned()).or_default().merge(&stats);
        }
    }
    merged
}

/// Adds the counters of one request to the live totals.
pub fn count_live(live: &Live, outcome: &Outcome) {
    live.completed.fetch_add(1, Ordering::Relaxed);
    if matches!(outcome, Outcome::Err(..)) {
        live.failed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_split_by_operation_and_merged_across_workers() {
        let start = Instant::now();
        let mut one = Recorder::new(start);
        let mut two = Recorder::new(start);
        let due = Instant::now();
        one.record("transfers", due, due, Outcome::Ok { items: 1 });
        one.record(
            "transfers",
            due,
            due,
            Outcome::Err(ErrorClass::Client, "INSUFFICIENT_FUNDS".into()),
        );
        two.record("transfers", due, due, Outcome::Ok { items: 1 });
        two.record("bulk", due, due, Outcome::Ok { items: 500 });
        two.record(
            "bulk",
            due,
            due,
            Outcome::Err(ErrorClass::Transport, "timeout".into()),
        );
        let merged = merge_all(vec![one, two]);
        let transfers = &merged["transfers"];
        assert_eq!((transfers.ok, transfers.requests()), (2, 3));
        assert_eq!(transfers.errors_of(ErrorClass::Client), 1);
        assert_eq!(transfers.codes["INSUFFICIENT_FUNDS"], 1);
        assert_eq!(
            transfers.latency.len(),
            2,
            "only successes are in the histogram"
        );
        assert_eq!(transfers.ok_per_second.iter().sum::<u64>(), 2);
        let bulk = &merged["bulk"];
        assert_eq!(
            (bulk.items, bulk.errors_of(ErrorClass::Transport)),
            (500, 1)
        );
    }

    #[test]
    fn latency_runs_from_the_intended_start_and_service_time_from_the_send() {
        let start = Instant::now();
        let mut recorder = Recorder::new(start);
        let due = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let sent = Instant::now();
        recorder.record("health", due, sent, Outcome::Ok { items: 1 });
        let ops = merge_all(vec![recorder]);
        let health = &ops["health"];
        assert!(health.latency.max() >= 20_000, "{}", health.latency.max());
        assert!(health.service.max() < health.latency.max());
    }
}
