//! Direct connections against PgBouncer in the same run (`--compare-direct`): load windows in
//! ABBA order on the same cluster and data.

use std::sync::Arc;

use contacto_benches::baseline::median;
use contacto_core::Contacto;
use contacto_core::api::{UserId, WalletId};

use super::{Args, LedgerSize, Load, idle_latency, load};

impl Load {
    /// Two windows as one.
    fn merged(mut self, other: Load) -> Result<Load, hdrhistogram::AdditionError> {
        self.latency.add(&other.latency)?;
        self.pgbouncer_cpu = match (self.pgbouncer_cpu, other.pgbouncer_cpu) {
            (Some(a), Some(b)) => {
                Some((a * self.seconds + b * other.seconds) / (self.seconds + other.seconds))
            }
            (a, b) => a.or(b),
        };
        self.transfers += other.transfers;
        self.failures += other.failures;
        self.seconds += other.seconds;
        Ok(self)
    }
}

/// Direct connections and PgBouncer measured in the same run.
pub(super) struct Comparison {
    pub(super) direct: Load,
    pub(super) through: Load,
    pub(super) direct_idle: Vec<f64>,
    pub(super) through_idle: Vec<f64>,
    /// Each window's transfers/s, in order, and whether it went through PgBouncer.
    pub(super) windows: Vec<(bool, f64)>,
    /// The ledger after the warm-up, before the measured windows.
    pub(super) ledger_before: LedgerSize,
}

/// Load windows in ABBA order, each after 150 idle transfers the same way: drift in the machine's
/// background load or in the ledger's size weighs on both sides alike. A first window is not
/// measured: right after the bulk setup, whatever ran first was slower (the first direct window
/// of two runs reached 64% and 51% of the last), which ABBA does not cancel.
pub(super) async fn compare(
    url: &str,
    direct: &Contacto,
    through: &Contacto,
    owners: &Arc<Vec<(UserId, WalletId)>>,
    args: &Args,
    pgbouncer_pid: Option<u32>,
) -> Result<Comparison, Box<dyn std::error::Error + Send + Sync>> {
    let mut sides: [(Option<Load>, Vec<f64>); 2] = [(None, Vec::new()), (None, Vec::new())];
    let mut windows = Vec::new();
    eprintln!("warming up, not measured: {} s ...", args.seconds);
    load(direct, owners, args, None).await?;
    let ledger_before = LedgerSize::of(url).await?;
    for via_pgbouncer in [false, true, true, false] {
        let (core, pid) = if via_pgbouncer {
            (through, pgbouncer_pid)
        } else {
            (direct, None)
        };
        let way = if via_pgbouncer { "PgBouncer" } else { "direct" };
        eprintln!(
            "{way}: one idle client, then {} callers for {} s ...",
            args.concurrency, args.seconds
        );
        let (sum, idle) = &mut sides[usize::from(via_pgbouncer)];
        idle.extend(idle_latency(core, owners, 150).await?);
        let window = load(core, owners, args, pid).await?;
        windows.push((via_pgbouncer, window.rate()));
        *sum = Some(match sum.take() {
            Some(sum) => sum.merged(window)?,
            None => window,
        });
    }
    let [(Some(direct), direct_idle), (Some(through), through_idle)] = sides else {
        unreachable!("both sides ran twice");
    };
    Ok(Comparison {
        direct,
        through,
        direct_idle,
        through_idle,
        windows,
        ledger_before,
    })
}

pub(super) fn report_comparison(args: &Args, ab: &Comparison) {
    let ms = |load: &Load, q: f64| load.latency.value_at_quantile(q) as f64 / 1000.0;
    let windows: Vec<String> = ab
        .windows
        .iter()
        .map(|(via, rate)| format!("{} {rate:.0}", if *via { "PgBouncer" } else { "direct" }))
        .collect();
    let (direct_idle, through_idle) = (
        median(ab.direct_idle.clone()),
        median(ab.through_idle.clone()),
    );
    println!();
    println!(
        "A/B, {} s windows in ABBA order: {}",
        args.seconds,
        windows.join(", ")
    );
    for (name, load, idle) in [
        ("direct", &ab.direct, direct_idle),
        ("PgBouncer", &ab.through, through_idle),
    ] {
        println!(
            "{name:<10} {:>7.0} transfers/s ({} failed)  p50 {:.2}  p99 {:.2}  p99.9 {:.2} ms  idle p50 {idle:.2} ms",
            load.rate(),
            load.failures,
            ms(load, 0.5),
            ms(load, 0.99),
            ms(load, 0.999)
        );
    }
    println!(
        "PgBouncer / direct: transfers/s {:.2} x, p50 {:.2} x, p99 {:.2} x, idle p50 {:.2} x",
        ab.through.rate() / ab.direct.rate(),
        ms(&ab.through, 0.5) / ms(&ab.direct, 0.5),
        ms(&ab.through, 0.99) / ms(&ab.direct, 0.99),
        through_idle / direct_idle
    );
}
