//! CPU use over a measurement, from Linux's `/proc`: how busy the whole machine was and how much
//! of it this process took (the rest, in a benchmark, is mostly PostgreSQL). Both counters are in
//! the same clock ticks, so their ratio needs no tick rate.

/// Jiffies from `/proc`: the machine's busy and total time, and this process's.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    /// Time any CPU was busy (not idle, not waiting for I/O).
    pub busy: u64,
    /// Time of all CPUs.
    pub total: u64,
    /// Time this process ran, user and system.
    pub own: u64,
}

impl CpuTicks {
    /// The counters now; zeros where `/proc` cannot be read.
    pub fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        let total: u64 = fields.iter().take(8).sum();
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        let own_stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
        let own: u64 = own_stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|f| f.parse::<u64>().ok())
            .sum();
        Self {
            busy: total.saturating_sub(idle),
            total,
            own,
        }
    }

    /// The time between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTicks) -> CpuTicks {
        CpuTicks {
            busy: self.busy.saturating_sub(earlier.busy),
            total: self.total.saturating_sub(earlier.total),
            own: self.own.saturating_sub(earlier.own),
        }
    }

    /// The share of the machine that was busy.
    pub fn busy_share(&self) -> f64 {
        self.busy as f64 / self.total.max(1) as f64
    }

    /// The share of the machine this process used.
    pub fn own_share(&self) -> f64 {
        self.own as f64 / self.total.max(1) as f64
    }
}
