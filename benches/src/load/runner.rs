//! The two load models, as k6 offers them, driving a [`Workload`] through a [`Schedule`]:
//!
//! - **closed**: the schedule's target is a number of virtual users, each running iterations back
//!   to back (with optional think time). The server's speed sets the rate.
//! - **open**: the target is arrivals per second. Arrival `i` is due at a fixed moment
//!   ([`Schedule::arrival_time`]); a pool of workers takes arrivals in order, waits until each is
//!   due and runs it. The first request of an iteration is timed from when it was due, so a
//!   server (or a harness) that falls behind shows as latency, not as a quietly lower rate.
//!   Arrivals still waiting for a worker `graceful_stop` after the schedule's end are dropped and
//!   counted.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::schedule::Schedule;
use super::stats::{ErrorClass, Live, OpStats, Outcome, Recorder, count_live, merge_all};

/// How often an inactive virtual user looks whether the schedule wants it yet.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// What a virtual user does, over and over.
pub trait Workload: Send + Sync + 'static {
    /// One iteration: one or more requests, each made through [`Vu::call`].
    fn iteration<'a>(&'a self, vu: &'a mut Vu) -> impl Future<Output = ()> + Send + 'a;
}

/// A virtual user (closed model) or a worker (open model).
pub struct Vu {
    /// Its number, from 0.
    pub index: usize,
    /// Its own random numbers.
    pub rng: SmallRng,
    /// Iterations it has completed.
    pub iterations: u64,
    recorder: Recorder,
    due: Option<Instant>,
    alias: Option<&'static str>,
    live: Arc<Live>,
}

impl Vu {
    fn new(index: usize, run_start: Instant, live: Arc<Live>, seed: u64) -> Self {
        Self {
            index,
            rng: SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            iterations: 0,
            recorder: Recorder::new(run_start),
            due: None,
            alias: None,
            live,
        }
    }

    /// Records the next call under `op` too (a search as `search` and as its class).
    pub fn also_as(&mut self, op: &'static str) {
        self.alias = Some(op);
    }

    /// Sends `request` (a client call not yet polled) and records it as `op`.
    pub async fn call<T>(
        &mut self,
        op: &'static str,
        request: impl Future<Output = Result<T, contacto_client::Error>>,
    ) -> Option<T> {
        self.call_counting(op, request, |_| 1).await
    }

    /// As [`Vu::call`], counting `items(&answer)` units of work for a success.
    pub async fn call_counting<T>(
        &mut self,
        op: &'static str,
        request: impl Future<Output = Result<T, contacto_client::Error>>,
        items: impl FnOnce(&T) -> u64,
    ) -> Option<T> {
        let sent = Instant::now();
        // Only an iteration's first request can have waited for a worker; it carries the delay.
        let due = self.due.take().unwrap_or(sent);
        self.live.in_flight.fetch_add(1, Ordering::Relaxed);
        let result = request.await;
        self.live.in_flight.fetch_sub(1, Ordering::Relaxed);
        let (outcome, value) = match result {
            Ok(value) => (
                Outcome::Ok {
                    items: items(&value),
                },
                Some(value),
            ),
            Err(err) => {
                let (class, code) = ErrorClass::of(&err);
                (Outcome::Err(class, code), None)
            }
        };
        count_live(&self.live, &outcome);
        if let Some(alias) = self.alias.take() {
            self.recorder.record(alias, due, sent, outcome.clone());
        }
        self.recorder.record(op, due, sent, outcome);
        value
    }
}

/// The load model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Virtual users, each pausing between iterations for a uniformly random `0.5..1.5 × think`.
    Closed {
        /// Mean think time; none when zero.
        think: Duration,
    },
    /// Arrivals per second, served by at most `max_in_flight` workers at once.
    Open {
        /// Workers, so iterations in flight at most.
        max_in_flight: usize,
    },
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The stages.
    pub schedule: Schedule,
    /// Closed or open.
    pub model: Model,
    /// Open model: how long after the schedule's end arrivals still waiting for a worker may
    /// start (later ones are dropped). In-flight requests always finish, within the client's
    /// timeout.
    pub graceful_stop: Duration,
    /// Shown on the progress line.
    pub label: String,
    /// Print the progress line.
    pub progress: bool,
    /// Seed of the virtual users' random numbers.
    pub seed: u64,
}

/// What a run recorded.
#[derive(Debug)]
pub struct RunResult {
    /// Per operation.
    pub ops: BTreeMap<String, OpStats>,
    /// From the start to the last iteration's end.
    pub elapsed: Duration,
    /// The steady (hold) window, in seconds from the start.
    pub steady_window: (f64, f64),
    /// Open model: arrivals that never started (none in the closed model).
    pub dropped: u64,
    /// Open model: arrivals started.
    pub started: u64,
}

/// Runs `workload` under `options`.
pub async fn run<W: Workload>(workload: Arc<W>, options: &RunOptions) -> RunResult {
    let live = Arc::new(Live::default());
    let start = Instant::now();
    let counters = Arc::new(ArrivalCounters::default());
    let workers = match options.model {
        Model::Closed { .. } => options.schedule.max_target().round().max(1.0) as usize,
        Model::Open { max_in_flight } => max_in_flight.max(1),
    };
    let mut tasks = Vec::with_capacity(workers);
    for index in 0..workers {
        let vu = Vu::new(index, start, Arc::clone(&live), options.seed);
        let (workload, options) = (Arc::clone(&workload), options.clone());
        let counters = Arc::clone(&counters);
        tasks.push(tokio::spawn(async move {
            match options.model {
                Model::Closed { think } => closed_user(workload, vu, &options, start, think).await,
                Model::Open { .. } => open_worker(workload, vu, &options, start, &counters).await,
            }
        }));
    }
    let progress = options
        .progress
        .then(|| tokio::spawn(progress(options.clone(), start, Arc::clone(&live))));
    let mut recorders = Vec::with_capacity(workers);
    for task in tasks {
        if let Ok(recorder) = task.await {
            recorders.push(recorder);
        }
    }
    let elapsed = start.elapsed();
    if let Some(progress) = progress {
        progress.abort();
        eprintln!();
    }
    RunResult {
        ops: merge_all(recorders),
        elapsed,
        steady_window: options.schedule.steady_window(),
        dropped: counters.dropped.load(Ordering::Relaxed),
        started: counters.started.load(Ordering::Relaxed),
    }
}

/// The open model's arrivals: the next to take, those started and those dropped.
#[derive(Debug, Default)]
struct ArrivalCounters {
    next: AtomicU64,
    started: AtomicU64,
    dropped: AtomicU64,
}

async fn closed_user<W: Workload>(
    workload: Arc<W>,
    mut vu: Vu,
    options: &RunOptions,
    start: Instant,
    think: Duration,
) -> Recorder {
    let total = options.schedule.total();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= total {
            break;
        }
        if vu.index as f64 >= options.schedule.target_at(elapsed).round() {
            tokio::time::sleep(IDLE_POLL.min(total - elapsed)).await;
            continue;
        }
        // No timer around the iteration: the client's timeout bounds each request, and a timer
        // per iteration would cost the harness more than the requests it measures.
        workload.iteration(&mut vu).await;
        vu.iterations += 1;
        if !think.is_zero() {
            let pause = think.mul_f64(vu.rng.random_range(0.5..1.5));
            let left = total.saturating_sub(start.elapsed());
            tokio::time::sleep(pause.min(left)).await;
        }
    }
    vu.recorder
}

async fn open_worker<W: Workload>(
    workload: Arc<W>,
    mut vu: Vu,
    options: &RunOptions,
    start: Instant,
    counters: &ArrivalCounters,
) -> Recorder {
    let deadline = start + options.schedule.total() + options.graceful_stop;
    loop {
        let index = counters.next.fetch_add(1, Ordering::Relaxed);
        let Some(offset) = options.schedule.arrival_time(index) else {
            break;
        };
        if Instant::now() >= deadline {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let due = start + offset;
        tokio::time::sleep_until(due.into()).await;
        counters.started.fetch_add(1, Ordering::Relaxed);
        vu.due = Some(due);
        workload.iteration(&mut vu).await;
        vu.iterations += 1;
    }
    vu.recorder
}

async fn progress(options: RunOptions, start: Instant, live: Arc<Live>) {
    let terminal = std::io::stderr().is_terminal();
    // A terminal gets one line rewritten every second; a log file a line every five seconds.
    let every = if terminal { 1 } else { 5 };
    let total = options.schedule.total().as_secs_f64();
    let mut previous = (0u64, Instant::now());
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    tick.tick().await;
    loop {
        tick.tick().await;
        let elapsed = start.elapsed();
        let completed = live.completed.load(Ordering::Relaxed);
        let failed = live.failed.load(Ordering::Relaxed);
        let rate = (completed - previous.0) as f64 / previous.1.elapsed().as_secs_f64();
        previous = (completed, Instant::now());
        let target = options.schedule.target_at(elapsed);
        let load = match options.model {
            Model::Closed { .. } => format!("vus {:>4.0}", target.round()),
            Model::Open { .. } => format!("target {target:>6.0}/s"),
        };
        let line = format!(
            "[{} {:>4.0}s/{total:.0}s {:<9}] {load} | {rate:>8.0} req/s | {completed:>9} done | {failed} failed ({:.2}%) | {} in flight",
            options.label,
            elapsed.as_secs_f64(),
            options.schedule.phase_at(elapsed).name(),
            failed as f64 * 100.0 / completed.max(1) as f64,
            live.in_flight.load(Ordering::Relaxed),
        );
        let mut err = std::io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r{line:<150}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every iteration is one request taking 50 ms.
    struct Slow;

    impl Workload for Slow {
        async fn iteration(&self, vu: &mut Vu) {
            let request = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<(), contacto_client::Error>(())
            };
            vu.call("op", request).await;
        }
    }

    fn options(stages: &str, model: Model, graceful_stop: Duration) -> RunOptions {
        RunOptions {
            schedule: Schedule::parse(stages).unwrap(),
            model,
            graceful_stop,
            label: "test".into(),
            progress: false,
            seed: 1,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_open_model_that_falls_behind_counts_the_wait_from_the_due_moment() {
        // 20 arrivals 10 ms apart, one worker taking 50 ms each: arrival k is due at 10k ms but
        // starts near 50k ms, so the last one's latency is near 1 s while its service is 50 ms.
        let open = Model::Open { max_in_flight: 1 };
        let result = run(
            Arc::new(Slow),
            &options("0s:100,200ms:100", open, Duration::from_secs(5)),
        )
        .await;
        let op = &result.ops["op"];
        assert_eq!((op.ok, result.started, result.dropped), (20, 20, 0));
        assert!(op.latency.max() >= 700_000, "{} µs", op.latency.max());
        assert!(op.service.max() < 200_000, "{} µs", op.service.max());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn arrivals_still_waiting_after_the_grace_period_are_dropped() {
        let open = Model::Open { max_in_flight: 1 };
        let result = run(
            Arc::new(Slow),
            &options("0s:100,200ms:100", open, Duration::ZERO),
        )
        .await;
        assert_eq!(result.started + result.dropped, 20);
        assert!(result.dropped >= 10, "{} dropped", result.dropped);
        assert_eq!(result.ops["op"].ok, result.started);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_users_run_back_to_back_for_the_schedule() {
        let closed = Model::Closed {
            think: Duration::ZERO,
        };
        let result = run(
            Arc::new(Slow),
            &options("0s:4,500ms:4", closed, Duration::ZERO),
        )
        .await;
        let op = &result.ops["op"];
        // 4 users, 500 ms, 50 ms each: about 40 requests, the last ones ending after the end.
        assert!((30..=44).contains(&op.ok), "{}", op.ok);
        assert!(op.latency.max() < 200_000);
        assert_eq!(result.dropped, 0);
    }
}
