//! Baselines from `../shared/PERFORMANCE.md`, measured with PostgreSQL's own pgbench on the same
//! cluster: P (TPC-B-like transactions/s at 8 clients), L_P (its average latency) and L_1 (the
//! average latency of one client); S (select-only transactions/s at 8 clients) for read paths.

use std::process::Command;

use contacto_core::managed::ManagedPostgres;

/// One pgbench run's figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgbenchRun {
    /// Transactions per second, without connection time.
    pub tps: f64,
    /// Average latency in milliseconds.
    pub latency_ms: f64,
}

/// P, L_P and L_1 from one bracket.
#[derive(Debug, Clone, Copy, Default)]
pub struct Baseline {
    /// `pgbench -c 8 -j 2 -M prepared`.
    pub p: PgbenchRun,
    /// `pgbench -c 1 -j 1 -M prepared`.
    pub one: PgbenchRun,
}

/// Runs pgbench against the `pgbench` database of `cluster`.
pub struct Pgbench<'a> {
    cluster: &'a ManagedPostgres,
    seconds: u32,
}

impl<'a> Pgbench<'a> {
    /// Initialises `pgbench -i -s 10` in a database of its own.
    ///
    /// # Errors
    ///
    /// When pgbench fails; the message carries its output.
    pub async fn init(cluster: &'a ManagedPostgres, seconds: u32) -> Result<Self, String> {
        cluster
            .ensure_database("pgbench")
            .await
            .map_err(|e| e.to_string())?;
        let bench = Self { cluster, seconds };
        bench.run(&["-i", "-s", "10", "-q"])?;
        Ok(bench)
    }

    /// One bracket: P at 8 clients, then L_1 at one client.
    ///
    /// # Errors
    ///
    /// When pgbench fails.
    pub fn bracket(&self) -> Result<Baseline, String> {
        let seconds = self.seconds.to_string();
        let p = parse(&self.run(&["-c", "8", "-j", "2", "-T", &seconds, "-M", "prepared"])?)?;
        let one = parse(&self.run(&["-c", "1", "-j", "1", "-T", &seconds, "-M", "prepared"])?)?;
        Ok(Baseline { p, one })
    }

    /// S: `pgbench -S -c 8 -j 2 -M prepared`, one primary-key lookup per transaction.
    ///
    /// # Errors
    ///
    /// When pgbench fails.
    pub fn select_only(&self) -> Result<PgbenchRun, String> {
        let seconds = self.seconds.to_string();
        parse(&self.run(&["-S", "-c", "8", "-j", "2", "-T", &seconds, "-M", "prepared"])?)
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd: Command = self.cluster.pg_command("pgbench");
        cmd.arg("-h")
            .arg(self.cluster.socket_dir())
            .args(["-p", &self.cluster.port().to_string(), "-U", "contacto"])
            .args(args)
            .arg("pgbench");
        let out = cmd.output().map_err(|e| format!("running pgbench: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("pgbench {args:?} failed: {text}"))
        }
    }
}

fn parse(output: &str) -> Result<PgbenchRun, String> {
    let number_after = |label: &str| -> Option<f64> {
        output
            .lines()
            .find(|l| l.starts_with(label))?
            .trim_start_matches(label)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Ok(PgbenchRun {
        tps: number_after("tps = ").ok_or_else(|| format!("no tps in pgbench output: {output}"))?,
        latency_ms: number_after("latency average = ")
            .ok_or_else(|| format!("no latency in pgbench output: {output}"))?,
    })
}

/// The median of the values.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_is_parsed() {
        let out = "latency average = 2.345 ms\ninitial connection time = 3.1 ms\ntps = 3410.52 (without initial connection time)\n";
        let run = parse(out).unwrap();
        assert_eq!(run.tps, 3410.52);
        assert_eq!(run.latency_ms, 2.345);
        assert!(parse("garbage").is_err());
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
