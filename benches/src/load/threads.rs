//! CPU use over a phase, split between the harness and the in-process server by thread name
//! (`/proc/self/task/*/stat`); the machine's total from [`crate::cpu`]. What is left of the
//! machine's busy time is PostgreSQL and any other process.

use std::collections::HashMap;

use super::report::CpuReport;
use crate::cpu::CpuTicks;

/// CPU counters at the start of a phase.
pub struct CpuSampler {
    server_threads: Option<&'static [&'static str]>,
    machine: CpuTicks,
    /// The server's threads' ticks, by thread id: threads come and go (the blocking pool's idle
    /// threads exit after a few seconds), so a phase counts each thread's own difference.
    server: HashMap<u64, u64>,
}

impl CpuSampler {
    /// Samples now; `server_threads` names the server's threads (the start of each name) when it
    /// runs in this process.
    pub fn start(server_threads: Option<&'static [&'static str]>) -> Self {
        Self {
            server_threads,
            machine: CpuTicks::now(),
            server: server_threads.map(threads_ticks).unwrap_or_default(),
        }
    }

    /// The shares of the machine used since the start.
    pub fn finish(self) -> CpuReport {
        let machine = CpuTicks::now().since(&self.machine);
        let total = machine.total.max(1) as f64;
        let server_ticks: Option<u64> = self.server_threads.map(|names| {
            threads_ticks(names)
                .into_iter()
                .map(|(tid, now)| now.saturating_sub(self.server.get(&tid).copied().unwrap_or(0)))
                .sum()
        });
        let harness_ticks = machine.own.saturating_sub(server_ticks.unwrap_or(0));
        CpuReport {
            machine: machine.busy_share(),
            harness: harness_ticks as f64 / total,
            server: server_ticks.map(|ticks| ticks as f64 / total),
            harness_ticks,
            server_ticks,
        }
    }
}

/// User and system ticks of this process's threads whose name starts with one of `prefixes`, by
/// id.
fn threads_ticks(prefixes: &[&str]) -> HashMap<u64, u64> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return HashMap::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| {
            let tid: u64 = task.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let (head, tail) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1;
            // After the name: state is field 3; utime and stime are fields 14 and 15.
            let ticks = tail
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|f| f.parse::<u64>().ok())
                .sum::<u64>();
            prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix))
                .then_some((tid, ticks))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_threads_cpu_is_found_by_its_name() {
        let handle = std::thread::Builder::new()
            .name("load-cpu-probe".into())
            .spawn(|| {
                let started = std::time::Instant::now();
                let mut x = 0u64;
                while started.elapsed() < std::time::Duration::from_millis(150) {
                    x = x.wrapping_mul(31).wrapping_add(1);
                }
                let ticks: u64 = threads_ticks(&["no-such-thread", "load-cpu-probe"])
                    .values()
                    .sum();
                (x, ticks)
            })
            .unwrap();
        let (_, ticks) = handle.join().unwrap();
        assert!(ticks > 0, "150 ms of CPU is at least one tick");
        assert!(threads_ticks(&["no-such-thread-name"]).is_empty());
    }
}
