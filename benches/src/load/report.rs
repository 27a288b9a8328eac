//! The run's report: figures per operation (count, rates, latency percentiles from the HDR
//! histograms, errors by class and code), the baselines and the ratios against them, CPU use,
//! thresholds. Serialised as JSON for machines ([`Report`]); printed as tables for people
//! (`table`).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::runner::{Model, RunResult};
use super::schedule::Schedule;
use super::stats::{ErrorClass, OpStats};
use super::threshold::{Figures, Statistic, Verdict};

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    #[serde(rename = "p99.9")]
    pub p99_9: f64,
    /// Slowest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        Self {
            p50: ms(0.50),
            p90: ms(0.90),
            p95: ms(0.95),
            p99: ms(0.99),
            p99_9: ms(0.999),
            max: histogram.max() as f64 / 1000.0,
            mean: histogram.mean() / 1000.0,
        }
    }
}

/// Failed requests by class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Errors {
    /// 4xx answers.
    #[serde(rename = "4xx")]
    pub client: u64,
    /// 5xx answers.
    #[serde(rename = "5xx")]
    pub server: u64,
    /// No answer.
    pub transport: u64,
    /// Failed over all requests.
    pub rate: f64,
    /// By the server's code (or status, or a transport reason).
    pub codes: BTreeMap<String, u64>,
}

/// One operation's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationReport {
    /// The phase it ran in.
    pub phase: String,
    /// Requests sent (and answered or failed).
    pub requests: u64,
    /// Successful requests.
    pub ok: u64,
    /// Units of work of the successful requests (transfers of a bulk request; else `ok`).
    pub items: u64,
    /// Successful requests per second over the whole phase.
    pub rate: f64,
    /// Successful requests per second over the hold.
    pub steady_rate: f64,
    /// Units of work per second over the hold.
    pub steady_item_rate: f64,
    /// Latency of successful requests, from the intended start (open model) or the send.
    pub latency_ms: Latency,
    /// Latency of successful requests from the send (equal to `latency_ms` in the closed model).
    pub service_ms: Latency,
    /// Failures.
    pub errors: Errors,
    /// Successful requests completed in each second of the phase.
    pub per_second: Vec<u64>,
}

/// A phase of the run (most scenarios have one; `payments-hot` runs uniform then hot).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseReport {
    /// Its name.
    pub name: String,
    /// From its start to its last iteration's end, in seconds.
    pub elapsed_s: f64,
    /// The hold window steady rates are measured over, in seconds from the phase's start.
    pub steady_window_s: (f64, f64),
    /// Open model: arrivals started.
    pub started: u64,
    /// Open model: arrivals dropped (not started within the grace period).
    pub dropped: u64,
}

/// The load model and stages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    /// `closed` or `open`.
    pub model: &'static str,
    /// Closed: mean think time in ms.
    pub think_ms: Option<f64>,
    /// Open: most iterations in flight.
    pub max_in_flight: Option<usize>,
    /// `(seconds, target)` per stage: virtual users (closed) or arrivals per second (open).
    pub stages: Vec<(f64, f64)>,
}

impl LoadReport {
    /// The report of `model` over `schedule`.
    pub fn new(model: Model, schedule: &Schedule) -> Self {
        let stages = schedule
            .stages()
            .iter()
            .map(|s| (s.duration.as_secs_f64(), s.target))
            .collect();
        match model {
            Model::Closed { think } => Self {
                model: "closed",
                think_ms: Some(think.as_secs_f64() * 1000.0),
                max_in_flight: None,
                stages,
            },
            Model::Open { max_in_flight } => Self {
                model: "open",
                think_ms: None,
                max_in_flight: Some(max_in_flight),
                stages,
            },
        }
    }
}

/// One pgbench bracket's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bracket {
    /// P: TPC-B-like transactions/s at 8 clients.
    pub p_tps: f64,
    /// L_P: its average latency.
    pub l_p_ms: f64,
    /// L_1: average latency at one client.
    pub l_1_ms: f64,
    /// S: select-only transactions/s at 8 clients, when measured.
    pub s_tps: Option<f64>,
}

/// The baselines: brackets before and after, and their medians.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BaselineReport {
    /// Each bracket, in order.
    pub brackets: Vec<Bracket>,
    /// Median P.
    pub p_tps: f64,
    /// Median L_P.
    pub l_p_ms: f64,
    /// Median L_1.
    pub l_1_ms: f64,
    /// Median S, when measured.
    pub s_tps: Option<f64>,
    /// Largest difference of P between brackets, over the median.
    pub spread: f64,
}

impl BaselineReport {
    /// The medians of `brackets`.
    pub fn of(brackets: Vec<Bracket>) -> Self {
        use crate::baseline::median;
        let p_tps = median(brackets.iter().map(|b| b.p_tps).collect());
        let s: Vec<f64> = brackets.iter().filter_map(|b| b.s_tps).collect();
        let (low, high) = brackets.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), b| {
            (lo.min(b.p_tps), hi.max(b.p_tps))
        });
        Self {
            l_p_ms: median(brackets.iter().map(|b| b.l_p_ms).collect()),
            l_1_ms: median(brackets.iter().map(|b| b.l_1_ms).collect()),
            s_tps: (!s.is_empty()).then(|| median(s)),
            spread: if brackets.len() > 1 {
                (high - low) / p_tps
            } else {
                0.0
            },
            p_tps,
            brackets,
        }
    }

    /// Whether the brackets disagree by more than the protocol's 15%.
    pub fn is_noisy(&self) -> bool {
        self.spread > 0.15
    }
}

/// `wrk` on the same endpoint (the `health` scenario's baseline H).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WrkReport {
    /// The command.
    pub command: String,
    /// Requests per second of each run.
    pub runs: Vec<f64>,
    /// Their median.
    pub requests_per_s: f64,
    /// wrk's CPU per 1,000 requests, in clock ticks (median of the runs).
    pub cpu_ticks_per_1000: f64,
    /// The harness's CPU per 1,000 requests over its load, in clock ticks.
    pub harness_cpu_ticks_per_1000: f64,
}

/// CPU time per 1,000 requests: `ticks` over `requests` (none counts as one).
pub fn per_1000(ticks: u64, requests: u64) -> f64 {
    ticks as f64 * 1000.0 / requests.max(1) as f64
}

/// CPU use over the load, as shares of the whole machine (1.0 = every core busy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuReport {
    /// The machine.
    pub machine: f64,
    /// The harness's threads.
    pub harness: f64,
    /// The in-process server's threads, when the harness started it.
    pub server: Option<f64>,
    /// The harness's CPU time, in clock ticks.
    pub harness_ticks: u64,
    /// The in-process server's CPU time, in clock ticks.
    pub server_ticks: Option<u64>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The scenario.
    pub scenario: String,
    /// The scenario's settings, as given.
    pub settings: BTreeMap<String, String>,
    /// `git rev-parse --short HEAD` of the working tree.
    pub git: String,
    /// Cores of the machine.
    pub cores: usize,
    /// The server's base URL.
    pub target: String,
    /// Who runs the server and on what database.
    pub server: String,
    /// The load model and stages.
    pub load: Option<LoadReport>,
    /// The phases.
    pub phases: Vec<PhaseReport>,
    /// Per operation.
    pub operations: BTreeMap<String, OperationReport>,
    /// pgbench brackets on the same PostgreSQL, with `--baseline`.
    pub baseline: Option<BaselineReport>,
    /// wrk on the same endpoint, with `--wrk`.
    pub wrk: Option<WrkReport>,
    /// CPU use.
    pub cpu: Option<CpuReport>,
    /// Derived figures: ratios against baselines and between phases.
    pub ratios: BTreeMap<String, f64>,
    /// The books after the run (wallet scenarios on a server the harness started).
    pub reconciliation_balanced: Option<bool>,
    /// Each threshold's verdict.
    pub thresholds: Vec<Verdict>,
    /// Every threshold held.
    pub passed: bool,
}

/// Raw recordings of every phase, kept for thresholds over several operations.
#[derive(Debug, Default)]
pub struct Recordings {
    phases: Vec<(String, RunResult)>,
}

impl Recordings {
    /// Adds a phase's recordings.
    pub fn push(&mut self, phase: &str, result: RunResult) {
        self.phases.push((phase.to_owned(), result));
    }

    /// The phases and operations for the report.
    pub fn summarise(&self) -> (Vec<PhaseReport>, BTreeMap<String, OperationReport>) {
        let mut phases = Vec::new();
        let mut operations = BTreeMap::new();
        for (name, result) in &self.phases {
            phases.push(PhaseReport {
                name: name.clone(),
                elapsed_s: result.elapsed.as_secs_f64(),
                steady_window_s: result.steady_window,
                started: result.started,
                dropped: result.dropped,
            });
            for (op, stats) in &result.ops {
                operations.insert(op.clone(), operation(name, stats, result));
            }
        }
        (phases, operations)
    }

    fn find(&self, op: &str) -> Option<(&OpStats, &RunResult)> {
        self.phases
            .iter()
            .find_map(|(_, result)| result.ops.get(op).map(|stats| (stats, result)))
    }

    /// Every operation's recordings merged (breakdowns left out: they are counted already).
    fn all(&self) -> Option<OpStats> {
        let mut all: Option<OpStats> = None;
        for (_, result) in &self.phases {
            for (_, stats) in result.ops.iter().filter(|(name, _)| !is_breakdown(name)) {
                all.get_or_insert_with(OpStats::default).merge(stats);
            }
        }
        all
    }

    fn dropped(&self) -> u64 {
        self.phases.iter().map(|(_, r)| r.dropped).sum()
    }
}

/// Whether an operation is a breakdown of another (`search/geo` of `search`), left out of totals.
pub fn is_breakdown(operation: &str) -> bool {
    operation.contains('/')
}

/// Sum of `series` over the whole seconds inside `window`, per second; `None` when the window
/// holds no whole second.
fn steady(series: &[u64], window: (f64, f64)) -> Option<f64> {
    let first = window.0.ceil() as usize;
    let end = window.1.floor() as usize;
    (end > first).then(|| {
        let sum: u64 = (first..end)
            .map(|i| series.get(i).copied().unwrap_or(0))
            .sum();
        sum as f64 / (end - first) as f64
    })
}

fn operation(phase: &str, stats: &OpStats, result: &RunResult) -> OperationReport {
    let elapsed = result.elapsed.as_secs_f64().max(1e-9);
    let requests = stats.requests();
    let rate = stats.ok as f64 / elapsed;
    OperationReport {
        phase: phase.to_owned(),
        requests,
        ok: stats.ok,
        items: stats.items,
        rate,
        steady_rate: steady(&stats.ok_per_second, result.steady_window).unwrap_or(rate),
        steady_item_rate: steady(&stats.items_per_second, result.steady_window)
            .unwrap_or(stats.items as f64 / elapsed),
        latency_ms: Latency::of(&stats.latency),
        service_ms: Latency::of(&stats.service),
        errors: Errors {
            client: stats.errors_of(ErrorClass::Client),
            server: stats.errors_of(ErrorClass::Server),
            transport: stats.errors_of(ErrorClass::Transport),
            rate: stats.failed() as f64 / requests.max(1) as f64,
            codes: stats.codes.clone(),
        },
        per_second: stats.ok_per_second.clone(),
    }
}

impl Figures for Recordings {
    fn latency_ms(&self, op: Option<&str>, statistic: Statistic) -> Option<f64> {
        let stats = match op {
            Some(op) => self.find(op)?.0.clone(),
            None => self.all()?,
        };
        if stats.latency.is_empty() {
            return None;
        }
        let latency = &stats.latency;
        let micros = match statistic {
            Statistic::Percentile(p) => latency.value_at_quantile(p / 100.0) as f64,
            Statistic::Max => latency.max() as f64,
            Statistic::Mean => latency.mean(),
        };
        Some(micros / 1000.0)
    }

    fn error_rate(&self, op: Option<&str>) -> Option<f64> {
        match op {
            Some(op) => {
                let (stats, _) = self.find(op)?;
                Some(stats.failed() as f64 / stats.requests().max(1) as f64)
            }
            None => {
                let all = self.all()?;
                let dropped = self.dropped();
                Some((all.failed() + dropped) as f64 / (all.requests() + dropped).max(1) as f64)
            }
        }
    }

    fn rate(&self, op: Option<&str>) -> Option<f64> {
        self.sum_over(op, |report| report.steady_rate)
    }

    fn item_rate(&self, op: Option<&str>) -> Option<f64> {
        self.sum_over(op, |report| report.steady_item_rate)
    }

    fn count(&self, op: Option<&str>) -> Option<f64> {
        self.sum_over(op, |report| report.ok as f64)
    }
}

impl Recordings {
    fn sum_over(&self, op: Option<&str>, figure: impl Fn(&OperationReport) -> f64) -> Option<f64> {
        let (_, operations) = self.summarise();
        match op {
            Some(op) => operations.get(op).map(figure),
            None => (!operations.is_empty()).then(|| {
                operations
                    .iter()
                    .filter(|(name, _)| !is_breakdown(name))
                    .map(|(_, report)| figure(report))
                    .sum()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::load::stats::{Outcome, Recorder, merge_all};

    fn recordings() -> Recordings {
        let start = Instant::now();
        let mut recorder = Recorder::new(start);
        for _ in 0..9 {
            recorder.record("transfers", start, start, Outcome::Ok { items: 1 });
        }
        recorder.record(
            "transfers",
            start,
            start,
            Outcome::Err(ErrorClass::Server, "INTERNAL".into()),
        );
        let mut recordings = Recordings::default();
        recordings.push(
            "main",
            RunResult {
                ops: merge_all(vec![recorder]),
                elapsed: Duration::from_secs(2),
                steady_window: (0.0, 1.0),
                dropped: 0,
                started: 0,
            },
        );
        recordings
    }

    #[test]
    fn the_json_report_has_the_documented_shape() {
        let recordings = recordings();
        let (phases, operations) = recordings.summarise();
        let report = Report {
            scenario: "transfers".into(),
            phases,
            operations,
            baseline: Some(BaselineReport::of(vec![
                Bracket {
                    p_tps: 3000.0,
                    l_p_ms: 2.5,
                    l_1_ms: 1.2,
                    s_tps: None,
                },
                Bracket {
                    p_tps: 3300.0,
                    l_p_ms: 2.3,
                    l_1_ms: 1.4,
                    s_tps: None,
                },
            ])),
            passed: true,
            ..Report::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        let transfers = &json["operations"]["transfers"];
        assert_eq!(transfers["requests"], 10);
        assert_eq!(transfers["ok"], 9);
        assert_eq!(transfers["errors"]["5xx"], 1);
        assert_eq!(transfers["errors"]["4xx"], 0);
        assert_eq!(transfers["errors"]["codes"]["INTERNAL"], 1);
        assert_eq!(transfers["steady_rate"], 9.0, "nine in the first second");
        assert_eq!(transfers["rate"], 4.5, "nine over two seconds");
        for key in ["p50", "p90", "p95", "p99", "p99.9", "max", "mean"] {
            assert!(transfers["latency_ms"][key].is_number(), "{key}");
        }
        assert_eq!(json["phases"][0]["name"], "main");
        assert_eq!(json["baseline"]["p_tps"], 3150.0);
        assert_eq!(json["baseline"]["brackets"].as_array().unwrap().len(), 2);
        assert!((json["baseline"]["spread"].as_f64().unwrap() - 300.0 / 3150.0).abs() < 1e-9);
        assert_eq!(json["passed"], true);
    }

    #[test]
    fn recordings_answer_thresholds() {
        let recordings = recordings();
        assert_eq!(recordings.error_rate(None), Some(0.1));
        assert_eq!(recordings.error_rate(Some("transfers")), Some(0.1));
        assert_eq!(recordings.count(Some("transfers")), Some(9.0));
        assert_eq!(recordings.rate(None), Some(9.0));
        assert!(
            recordings
                .latency_ms(Some("transfers"), Statistic::Max)
                .is_some()
        );
        assert_eq!(
            recordings.latency_ms(Some("payments"), Statistic::Max),
            None
        );
    }
}
