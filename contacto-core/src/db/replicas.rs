//! Read replicas: lag-tolerant reads spread over streaming replicas, with the primary as the
//! fallback.
//!
//! A monitor task checks every replica each `check_interval`. It first samples the primary's WAL
//! position `L` at a local instant `t`, then reads each replica's replay position `R`. Replay is
//! monotonic, so once `R >= L` everything committed on the primary before `t` is visible on that
//! replica: `t` is the replica's *caught-up point*. Its lag is the time since that point (to within
//! one check interval, and zero when it has replayed everything), and it stays in rotation while it
//! answers, is still a standby, and lags no more than `max_lag`.
//!
//! Read-your-writes: core notes the instant each caller's writes were acknowledged (by user, in a
//! fixed table of slots; two users sharing a slot only cost an extra primary read). A read on a
//! caller's behalf goes to a replica only if the replica's caught-up point is later than that
//! caller's last write; otherwise it goes to the primary. Public reads (no caller) accept any
//! replica in rotation. This needs `synchronous_commit` at `local` or above on the primary: with
//! `off`, a commit is acknowledged before its WAL is written, so a sample taken after the
//! acknowledgement may not include it yet.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};

use crate::api::UserId;

/// Slots of the last-write table: 32 KiB, and collisions stay rare for thousands of active writers.
const WRITE_SLOTS: usize = 4096;

/// Primary WAL samples kept to find caught-up points: enough for a replica up to this many check
/// intervals behind to still be given one.
const SAMPLES_KEPT: usize = 256;

/// One configured replica and what the monitor last saw of it.
pub(crate) struct Replica {
    /// The URL without credentials: the `replica` label of the metrics.
    pub(crate) name: String,
    pool: Pool,
    /// In rotation.
    healthy: AtomicBool,
    /// Milliseconds since the epoch of the caught-up point, plus one; 0 before the first.
    caught_up: AtomicU64,
    /// The last measured lag, in milliseconds; `u64::MAX` when unknown.
    lag_ms: AtomicU64,
    /// Reads served.
    reads: AtomicU64,
}

/// What the monitor last saw of one replica, for readiness reports and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    /// The replica's URL without credentials.
    pub name: String,
    /// Whether reads are sent to it.
    pub healthy: bool,
    /// Its lag in seconds, to within one check interval; `None` until it has been reached.
    pub lag_seconds: Option<f64>,
    /// Reads it has served.
    pub reads: u64,
}

/// Why a read that could have gone to a replica went to the primary.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fallback {
    /// No replica was in rotation.
    NoneHealthy,
    /// The replicas in rotation had not yet replayed the caller's last write.
    OwnWrite,
    /// The chosen replica failed; it is out of rotation until the monitor sees it well again.
    ReplicaFailed,
}

impl Fallback {
    pub(crate) const ALL: [Fallback; 3] = [
        Fallback::NoneHealthy,
        Fallback::OwnWrite,
        Fallback::ReplicaFailed,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Fallback::NoneHealthy => "no_healthy_replica",
            Fallback::OwnWrite => "own_write",
            Fallback::ReplicaFailed => "replica_failed",
        }
    }
}

/// The replica set, shared by every clone of the handle.
pub(crate) struct Replicas {
    pub(crate) list: Vec<Replica>,
    epoch: Instant,
    max_lag_ms: u64,
    check_interval: Duration,
    /// Per slot of user ids: milliseconds since the epoch of the last acknowledged write, plus one.
    last_writes: Box<[AtomicU64]>,
    next: AtomicUsize,
    monitor: OnceLock<()>,
    /// `(instant in ms since the epoch, primary WAL position)`, oldest first.
    samples: Mutex<VecDeque<(u64, u64)>>,
    /// Reads served by the primary that a replica could have served, by [`Fallback`].
    pub(crate) fallbacks: [AtomicU64; 3],
}

impl Replicas {
    pub(crate) fn new(pools: Vec<(String, Pool)>, max_lag: Duration, interval: Duration) -> Self {
        Self {
            list: pools
                .into_iter()
                .map(|(name, pool)| Replica {
                    name,
                    pool,
                    healthy: AtomicBool::new(false),
                    caught_up: AtomicU64::new(0),
                    lag_ms: AtomicU64::new(u64::MAX),
                    reads: AtomicU64::new(0),
                })
                .collect(),
            epoch: Instant::now(),
            max_lag_ms: u64::try_from(max_lag.as_millis()).unwrap_or(u64::MAX),
            check_interval: interval,
            last_writes: (0..WRITE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicUsize::new(0),
            monitor: OnceLock::new(),
            samples: Mutex::new(VecDeque::with_capacity(SAMPLES_KEPT)),
            fallbacks: Default::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn slot(&self, user: UserId) -> &AtomicU64 {
        let bits = user.0.as_u128();
        let folded = (bits as u64) ^ ((bits >> 64) as u64);
        &self.last_writes[(folded as usize) % WRITE_SLOTS]
    }

    /// Notes that `user`'s write has been acknowledged.
    pub(crate) fn wrote(&self, user: UserId) {
        self.slot(user)
            .fetch_max(self.now_ms() + 1, Ordering::Relaxed);
    }

    /// Starts the monitor on the caller's runtime, once.
    pub(crate) fn ensure_monitor(self: &Arc<Self>, primary: &Pool) {
        self.monitor.get_or_init(|| {
            tokio::spawn(monitor(Arc::downgrade(self), primary.clone()));
        });
    }

    /// The replicas, in round-robin order from the next one, that may serve a read for `caller`,
    /// or why none may.
    pub(crate) fn candidates(&self, caller: Option<UserId>) -> Result<Vec<&Replica>, Fallback> {
        let written = caller.map_or(0, |user| self.slot(user).load(Ordering::Relaxed));
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut any_healthy = false;
        let mut chosen = Vec::new();
        for i in 0..self.list.len() {
            let replica = &self.list[(start + i) % self.list.len()];
            if !replica.healthy.load(Ordering::Relaxed) {
                continue;
            }
            any_healthy = true;
            // Both values are whole milliseconds plus one: strictly later means the write was
            // acknowledged before the sample that the replica has replayed was taken.
            if written < replica.caught_up.load(Ordering::Relaxed) {
                chosen.push(replica);
            }
        }
        match (chosen.is_empty(), any_healthy) {
            (false, _) => Ok(chosen),
            (true, true) => Err(Fallback::OwnWrite),
            (true, false) => Err(Fallback::NoneHealthy),
        }
    }

    pub(crate) fn fell_back(&self, why: Fallback) {
        self.fallbacks[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// What the monitor last saw of each replica.
    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        self.list
            .iter()
            .map(|replica| {
                let lag = replica.lag_ms.load(Ordering::Relaxed);
                ReplicaStatus {
                    name: replica.name.clone(),
                    healthy: replica.healthy.load(Ordering::Relaxed),
                    lag_seconds: (lag != u64::MAX).then(|| lag as f64 / 1000.0),
                    reads: replica.reads.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// One round of checks.
    async fn check(&self, primary: &Pool) {
        let taken = self.now_ms() + 1;
        // The instant is taken before the position is read: whatever was acknowledged before the
        // instant is at or below the position.
        match primary_position(primary, self.check_interval).await {
            Some(position) => {
                let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
                if samples.len() == SAMPLES_KEPT {
                    samples.pop_front();
                }
                samples.push_back((taken, position));
            }
            // With the primary down nothing new is written: the replicas keep what they had.
            None => tracing::debug!("replica check: the primary did not answer"),
        }
        for replica in &self.list {
            self.check_one(replica).await;
        }
    }

    async fn check_one(&self, replica: &Replica) {
        let seen = replay_position(&replica.pool, self.check_interval).await;
        let now = self.now_ms() + 1;
        let Some(Some(replayed)) = seen else {
            // Unreachable (`None`) or no longer a standby (`Some(None)`): out of rotation.
            if replica.healthy.swap(false, Ordering::Relaxed) {
                tracing::warn!(replica = %replica.name, standby = seen.is_some(), "replica taken out of rotation");
            }
            replica.lag_ms.store(u64::MAX, Ordering::Relaxed);
            return;
        };
        let (caught_up, newest) = {
            let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
            let caught_up = samples
                .iter()
                .rev()
                .find(|(_, position)| *position <= replayed)
                .map(|(at, _)| *at);
            (caught_up, samples.back().copied())
        };
        if let Some(at) = caught_up {
            replica.caught_up.fetch_max(at, Ordering::Relaxed);
        }
        let point = replica.caught_up.load(Ordering::Relaxed);
        let lag = match newest {
            Some((_, position)) if replayed >= position => 0,
            _ if point == 0 => u64::MAX,
            _ => now.saturating_sub(point),
        };
        replica.lag_ms.store(lag, Ordering::Relaxed);
        let healthy = lag <= self.max_lag_ms;
        let was = replica.healthy.swap(healthy, Ordering::Relaxed);
        if was != healthy {
            if healthy {
                tracing::info!(replica = %replica.name, lag_ms = lag, "replica in rotation");
            } else {
                tracing::warn!(replica = %replica.name, lag_ms = lag, max_lag_ms = self.max_lag_ms, "replica lags too far: taken out of rotation");
            }
        }
    }
}

impl Replica {
    pub(crate) async fn connection(&self) -> Option<Object> {
        self.pool.get().await.ok()
    }

    pub(crate) fn served(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the replica out of rotation after a failure; the monitor puts it back.
    pub(crate) fn failed(&self) {
        if self.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(replica = %self.name, "replica failed a read: taken out of rotation");
        }
    }
}

async fn monitor(replicas: Weak<Replicas>, primary: Pool) {
    let interval = match replicas.upgrade() {
        Some(replicas) => replicas.check_interval,
        None => return,
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // The handle is gone once every clone of core is dropped: so is the monitor.
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        replicas.check(&primary).await;
    }
}

/// The primary's current WAL position, or `None` when it does not answer in time.
async fn primary_position(primary: &Pool, within: Duration) -> Option<u64> {
    let read = async {
        let client = primary.get().await.ok()?;
        let row = client
            .query_typed_one("SELECT pg_current_wal_lsn()::text", &[])
            .await
            .ok()?;
        parse_lsn(row.get(0))
    };
    tokio::time::timeout(within.max(Duration::from_secs(1)), read)
        .await
        .ok()
        .flatten()
}

/// `None` when the replica does not answer in time; `Some(None)` when it answers but is not a
/// standby (it was promoted, or is misconfigured); else its replay position.
async fn replay_position(pool: &Pool, within: Duration) -> Option<Option<u64>> {
    let read = async {
        let client = pool.get().await.ok()?;
        let row = client
            .query_typed_one(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text",
                &[],
            )
            .await
            .ok()?;
        let standby: bool = row.get(0);
        let replayed: Option<&str> = row.get(1);
        Some(replayed.filter(|_| standby).and_then(parse_lsn))
    };
    tokio::time::timeout(within.max(Duration::from_secs(1)), read)
        .await
        .ok()
        .flatten()
}

/// `16/B374D848` as a 64-bit position.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some((high << 32) | low)
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn wal_positions_are_read_as_64_bit_numbers() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1FFFFFFFF/0"), None);
    }
}
