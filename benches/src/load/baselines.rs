//! The baselines the figures are divided by (`../shared/PERFORMANCE.md`): pgbench brackets on the
//! PostgreSQL the server uses (P, L_P, L_1 and, for read scenarios, S), and `wrk` on the same
//! endpoint as the harness (H, for the `health` scenario).
//!
//! On a cluster the harness manages, pgbench runs through [`crate::baseline::Pgbench`]. Against
//! an external server, pgbench needs a database of its own on the same PostgreSQL
//! (`--pgbench-url`): `pgbench -i` fills it with its tables, which do not belong in the
//! application's database.

use std::path::PathBuf;
use std::process::Command;

use contacto_core::managed::{ManagedPostgres, PgBinaries};

use super::report::Bracket;
use crate::baseline::{Pgbench, PgbenchRun};

/// Where pgbench runs.
pub enum PgbenchTarget<'a> {
    /// The harness's own cluster.
    Managed(Pgbench<'a>),
    /// Any PostgreSQL, by URL.
    Url {
        /// The `pgbench` program.
        program: PathBuf,
        /// The database pgbench owns.
        url: String,
        /// Seconds per run.
        seconds: u32,
    },
}

impl<'a> PgbenchTarget<'a> {
    /// Initialises `pgbench -s 10` on the managed cluster.
    ///
    /// # Errors
    ///
    /// When pgbench fails.
    pub async fn managed(cluster: &'a ManagedPostgres, seconds: u32) -> Result<Self, String> {
        Ok(Self::Managed(Pgbench::init(cluster, seconds).await?))
    }

    /// Initialises `pgbench -s 10` in the database at `url`.
    ///
    /// # Errors
    ///
    /// When pgbench cannot be found or fails.
    pub fn url(url: &str, seconds: u32) -> Result<Self, String> {
        let program = PgBinaries::locate(None)
            .map(|bins| bins.program("pgbench"))
            .unwrap_or_else(|_| PathBuf::from("pgbench"));
        let target = Self::Url {
            program,
            url: url.to_owned(),
            seconds,
        };
        if let Self::Url { .. } = &target {
            target.run_url(&["-i", "-s", "10", "-q"])?;
        }
        Ok(target)
    }

    /// One bracket: P and L_P at 8 clients, L_1 at one, and S when `select_only`.
    ///
    /// # Errors
    ///
    /// When pgbench fails.
    pub fn bracket(&self, select_only: bool) -> Result<Bracket, String> {
        let (p, one, s) = match self {
            Self::Managed(pgbench) => {
                let both = pgbench.bracket()?;
                let s = select_only.then(|| pgbench.select_only()).transpose()?;
                (both.p, both.one, s)
            }
            Self::Url { seconds, .. } => {
                let t = seconds.to_string();
                let p = self.run_url(&["-c", "8", "-j", "2", "-T", &t, "-M", "prepared"])?;
                let one = self.run_url(&["-c", "1", "-j", "1", "-T", &t, "-M", "prepared"])?;
                let s = select_only
                    .then(|| {
                        self.run_url(&["-S", "-c", "8", "-j", "2", "-T", &t, "-M", "prepared"])
                    })
                    .transpose()?;
                (p, one, s)
            }
        };
        Ok(Bracket {
            p_tps: p.tps,
            l_p_ms: p.latency_ms,
            l_1_ms: one.latency_ms,
            s_tps: s.map(|s| s.tps),
        })
    }

    fn run_url(&self, args: &[&str]) -> Result<PgbenchRun, String> {
        let Self::Url { program, url, .. } = self else {
            return Err("not a pgbench URL target".to_owned());
        };
        let out = Command::new(program)
            .args(args)
            .arg(url)
            .output()
            .map_err(|e| format!("running {}: {e}", program.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return Err(format!("pgbench {args:?} failed: {text}"));
        }
        if args.contains(&"-i") {
            return Ok(PgbenchRun::default());
        }
        let number_after = |label: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(label))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
        };
        match (number_after("tps = "), number_after("latency average = ")) {
            (Some(tps), Some(latency_ms)) => Ok(PgbenchRun { tps, latency_ms }),
            _ => Err(format!("no tps or latency in pgbench's output: {text}")),
        }
    }
}

/// One wrk run.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkRun {
    /// The command.
    pub command: String,
    /// Requests per second.
    pub rate: f64,
    /// Requests completed.
    pub requests: u64,
    /// CPU ticks wrk used (user and system), from this process's waited-for children.
    pub cpu_ticks: u64,
}

/// `wrk -t THREADS -c CONNECTIONS -d SECONDS URL`.
///
/// # Errors
///
/// When wrk is missing (`apt-get install wrk`) or prints no rate.
pub fn wrk(url: &str, threads: usize, connections: usize, seconds: u64) -> Result<WrkRun, String> {
    let args = [
        "-t".to_owned(),
        threads.to_string(),
        "-c".to_owned(),
        connections.to_string(),
        "-d".to_owned(),
        format!("{seconds}s"),
        url.to_owned(),
    ];
    let command = format!("wrk {}", args.join(" "));
    let children_before = children_ticks();
    let out = Command::new("wrk")
        .args(&args)
        .output()
        .map_err(|e| format!("running wrk (apt-get install wrk): {e}"))?;
    let cpu_ticks = children_ticks().saturating_sub(children_before);
    let text = String::from_utf8_lossy(&out.stdout);
    match parse_wrk(&text) {
        Some((rate, requests)) => Ok(WrkRun {
            command,
            rate,
            requests,
            cpu_ticks,
        }),
        None => Err(format!("no rate in wrk's output: {text}")),
    }
}

/// CPU ticks of this process's waited-for children (`cutime` + `cstime` of `/proc/self/stat`).
fn children_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the parenthesised name: cutime and cstime are the 14th and 15th fields.
    stat.rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(13)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

/// The rate and the number of requests of wrk's output.
fn parse_wrk(output: &str) -> Option<(f64, u64)> {
    let rate = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.trim().parse().ok())?;
    let requests = output
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())?;
    Some((rate, requests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_read_from_wrks_output() {
        let out = "Running 10s test @ http://127.0.0.1:8080/health\n  2 threads and 64 connections\n\
                   412346 requests in 10.00s, 72.1MB read\n\
                   Requests/sec:  41234.56\nTransfer/sec:      7.21MB\n";
        assert_eq!(parse_wrk(out), Some((41234.56, 412_346)));
        assert_eq!(parse_wrk("garbage"), None);
    }
}
