//! Group commit: operations that arrive while a commit is in flight are posted together, in one
//! database transaction. Each touched wallet is locked once per batch, in id order; operations
//! are validated one by one in memory (`ledger::apply`); entries, balances and idempotency
//! records are written with set-based statements; one commit acknowledges them all. An operation
//! that fails validation is rejected alone. An idle ledger posts an operation as soon as it
//! arrives: nothing waits for a batch to fill. A group of operations (a bulk request) enters one
//! batch whole, each operation validated on its own, under one idempotency record.
//!
//! One worker owns the posting path. It has at most two batches in flight ([`LANES`]), and two
//! batches in flight together share no wallet and no idempotency key (`run`), so batches never
//! race each other: neither waits for the other's locks, and an idempotency key seen by one
//! batch is committed before another batch looks for it. On a busy ledger the second batch uses
//! the second core while the first batch's backend is busy with its own: it takes work the
//! batch in flight could not, or, when both start together, its share of a split. The worker
//! runs on a thread of its own with connections of its own (`Db::hot`), so neither the
//! application's busy runtime nor a pool held by slow reads delays a commit.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::ledger::{self, DailyLimits, Intent};
use super::store::{self, NewTransaction};
use crate::api::{DepositId, DepositStatus, TransactionId, TransactionView};
use crate::db::Db;
use crate::db::error::PgResultExt;
use crate::db::hot::Hot;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;

/// Most operations in one batch: bounds the statements' array sizes and a batch's lock set.
pub(crate) const MAX_BATCH: usize = 8192;

/// Batches in flight at once, each on a connection of its own, over disjoint wallets and keys.
pub(crate) const LANES: usize = 2;

/// Fewest operations a batch starts with while another is in flight, and each of two batches
/// split from the waiting operations to start together (`run`).
pub(crate) const SECOND_BATCH_MIN: usize = 64;

/// Most operations in a batch that runs prepared statements (when the configuration allows them)
/// and locks its wallets through the function that keeps its plan (V17). A small batch is what an
/// idle or lightly loaded ledger posts: planning its statements is a large share of its time, and
/// a plan made once serves any batch this small. A larger batch is planned for the size of its
/// arrays, which a plan made once cannot see: measured with
/// prepared statements for every batch, 512 callers posted about 20% fewer transfers per second
/// (docs/PERFORMANCE.md).
const PREPARED_BATCH_MAX: usize = 16;

/// Most operations in a batch that always looks its idempotency keys up before posting. A larger
/// batch posts without looking (a key is new nearly always, and the lookup was about a fifth of
/// PostgreSQL's time per transfer under load: docs/PERFORMANCE.md) and lets the keys' unique index
/// catch a replay: the batch is then rolled back and posted again, looking its keys up, and so
/// are all batches for [`LOOK_UP_AFTER_CONFLICT`]. A small batch looks them up in the same round
/// trip as its locks, at no cost in latency.
const ALWAYS_LOOK_UP_MAX: usize = 16;

/// How long batches look their keys up first after one found a key already recorded: replays
/// come in bursts (clients retrying after a timeout or an outage).
const LOOK_UP_AFTER_CONFLICT: std::time::Duration = std::time::Duration::from_secs(10);

/// Most times a batch is posted again because another batch recorded one of its keys meanwhile
/// (another instance posting the same key at the same moment).
const KEY_CONFLICT_RETRIES: u32 = 3;

/// Jobs the channel to the worker holds besides the worker's own queue (up to [`LANES`] ×
/// [`MAX_BATCH`] operations); senders wait (backpressure) beyond both.
const QUEUE_CAPACITY: usize = 65_536;

/// Africa/Algiers is UTC+1 all year (no daylight saving): daily limits roll over at its midnight.
const ALGIERS: time::UtcOffset = time::macros::offset!(+1);

/// The day, for daily limits, of a moment.
pub(crate) fn limit_day(at: time::OffsetDateTime) -> time::Date {
    at.to_offset(ALGIERS).date()
}

/// An idempotency key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub(crate) struct KeyedRequest {
    pub(crate) caller: Uuid,
    pub(crate) key: String,
    pub(crate) request_hash: [u8; 32],
}

/// Something to change in the same transaction as the posting. No effect writes a `wallets` row:
/// the batch writes its wallets once, at the addresses their lock returned
/// (`store::update_wallets`).
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    None,
    /// Record the posting as a merchant payment taking `fee`.
    RecordPayment {
        payer: crate::api::WalletId,
        merchant: crate::api::WalletId,
        fee: i64,
    },
    /// Record a new withdrawal, its amount held by the intent.
    CreateWithdrawal {
        id: crate::api::WithdrawalId,
        rib: String,
    },
    /// Complete (post to payouts in transit) or fail (release) a pending withdrawal.
    SettleWithdrawal {
        id: crate::api::WithdrawalId,
        completed: bool,
    },
    /// Record a new hold, its amount held by the intent.
    CreateHold(crate::api::HoldView),
    /// Capture (with the intent's postings), void or expire an authorised hold.
    SettleHold {
        id: crate::api::HoldId,
        status: &'static str,
        captured: i64,
    },
    /// Refund part of a payment: the fee given back is computed under the payment's lock, from
    /// what was refunded before, and the intent's postings are rewritten accordingly.
    Refund {
        payment: TransactionId,
        fee_revenue: crate::api::WalletId,
    },
    /// Mark a pending deposit succeeded with this posting.
    SettleDeposit {
        deposit: DepositId,
        provider_reference: String,
    },
}

/// What the worker posts: one operation, or a group of operations (a bulk request) that is
/// posted in one batch and recorded under one idempotency key.
#[expect(
    clippy::large_enum_variant,
    reason = "single operations are nearly every job: boxing them would allocate once per transfer"
)]
enum Job {
    One {
        intent: Intent,
        key: Option<KeyedRequest>,
        effect: Effect,
        reply: oneshot::Sender<Result<Single>>,
    },
    Group {
        /// Each operation, or why it was rejected before it reached the ledger.
        items: Vec<std::result::Result<Intent, Rejection>>,
        key: Option<KeyedRequest>,
        reply: oneshot::Sender<Result<GroupAnswer>>,
    },
}

impl Job {
    /// How many operations it brings to a batch.
    fn size(&self) -> usize {
        match self {
            Job::One { .. } => 1,
            Job::Group { items, .. } => items.len().max(1),
        }
    }

    fn key(&self) -> Option<&KeyedRequest> {
        match self {
            Job::One { key, .. } | Job::Group { key, .. } => key.as_ref(),
        }
    }

    /// Every intent it brings (a group's rejected items bring none).
    fn intents(&self) -> impl Iterator<Item = &Intent> {
        let (one, items): (Option<&Intent>, &[std::result::Result<Intent, Rejection>]) = match self
        {
            Job::One { intent, .. } => (Some(intent), &[]),
            Job::Group { items, .. } => (None, items),
        };
        one.into_iter()
            .chain(items.iter().filter_map(|item| item.as_ref().ok()))
    }

    /// Every wallet the batch must lock for it, and which a batch beside it must not touch: its
    /// intents' wallets, a new hold's payee and both wallets of a payment, which their rows name
    /// (their foreign keys lock those wallets' rows in passing, outside the batch's order: since
    /// V21 no batch's lock waits for that, but a build before it, locking `FOR UPDATE`, does);
    /// a hold's payee's state is also checked under that lock.
    fn wallets(&self) -> impl Iterator<Item = crate::api::WalletId> + '_ {
        let named: [Option<crate::api::WalletId>; 2] = match self {
            Job::One {
                effect: Effect::CreateHold(hold),
                ..
            } => [Some(hold.payee_wallet_id), None],
            // A payment's row names both wallets, and a fee of all of it leaves the merchant's
            // wallet out of the postings: its foreign key would lock the row in passing.
            Job::One {
                effect:
                    Effect::RecordPayment {
                        payer, merchant, ..
                    },
                ..
            } => [Some(*payer), Some(*merchant)],
            _ => [None, None],
        };
        self.intents()
            .flat_map(Intent::wallets)
            .chain(named.into_iter().flatten())
    }

    /// Sends the job its answer; an answer of the other shape (a bug) becomes an internal error.
    fn answer(self, answer: Answer) {
        match (self, answer) {
            (Job::One { reply, .. }, Answer::One(result)) => {
                let _ = reply.send(result);
            }
            (Job::Group { reply, .. }, Answer::Group(result)) => {
                let _ = reply.send(result);
            }
            (job, _) => job.fail(Error::internal("posting", "an answer of the wrong shape")),
        }
    }

    fn fail(self, err: Error) {
        match self {
            Job::One { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Job::Group { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }
}

/// A job's answer.
enum Answer {
    One(Result<Single>),
    Group(Result<GroupAnswer>),
}

/// A single operation's answer from its batch.
#[derive(Debug, Clone)]
pub(crate) enum Single {
    /// Posted now, or replayed from a record holding the answer itself.
    Outcome(Outcome),
    /// Replayed from a record naming its transaction: read back from the ledger after the batch
    /// ([`Ledger::transactions`]), not while the batch holds its locks.
    Recorded(TransactionId),
}

/// What a posted operation produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// A ledger transaction.
    Transaction(TransactionView),
    /// A withdrawal held or settled.
    Withdrawal(crate::api::WithdrawalView),
    /// A hold authorised or settled.
    Hold(crate::api::HoldView),
}

/// A rejection as its caller was told it: what a replay tells again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rejection {
    kind: ErrorKind,
    code: String,
    message: String,
}

impl Rejection {
    pub(crate) fn of(err: &Error) -> Self {
        Self {
            kind: err.kind(),
            code: err.code().to_owned(),
            message: err.public_message(),
        }
    }

    pub(crate) fn into_error(self) -> Error {
        Error::Replayed {
            kind: self.kind,
            code: self.code,
            message: self.message,
        }
    }
}

/// One operation of a group, as its idempotency record remembers it: the transaction it posted
/// (which the ledger keeps) or why it was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum GroupItem {
    Posted(TransactionId),
    Rejected(Rejection),
}

impl GroupItem {
    fn of(result: &Result<TransactionView>) -> Self {
        match result {
            Ok(view) => GroupItem::Posted(view.id),
            Err(err) => GroupItem::Rejected(Rejection::of(err)),
        }
    }
}

/// A group's answer.
#[derive(Debug)]
pub(crate) enum GroupAnswer {
    /// Posted now: each operation's transaction, or why it was rejected.
    Posted(Vec<Result<TransactionView>>),
    /// Posted before, under the same key and request: what each operation did then.
    Replayed(Vec<GroupItem>),
}

/// What a record read by [`Ledger::recorded`] answers.
pub(crate) enum Replay {
    /// A single operation's answer.
    One(Result<Outcome>),
    /// A group's operations, in order.
    Group(Vec<GroupItem>),
}

/// What an idempotency record remembers: the answer first given. (A rejection is stored as it
/// always was: `{"Rejected": {"kind", "code", "message"}}`.)
#[derive(Serialize, Deserialize)]
enum Recorded {
    /// The answer itself: what the ledger cannot give back as it was (a withdrawal, a hold, a
    /// transaction whose entries the ledger reads in another order), and records written before
    /// [`Recorded::Transaction`] existed.
    Posted(Outcome),
    Rejected(Rejection),
    /// A group's operations, in order.
    Group(Vec<GroupItem>),
    /// A transaction the ledger gives back exactly as it was answered
    /// (`store::reads_back_whole`): a replay reads it again. 54 bytes where
    /// [`Recorded::Posted`] takes about 400, on one of the heaviest writes of every batch.
    Transaction(TransactionId),
}

/// The handle operations are submitted through.
#[derive(Clone)]
pub(crate) struct Ledger {
    sender: mpsc::Sender<Job>,
    /// For reading recorded transactions back ([`Ledger::transactions`]).
    db: Db,
    metrics: Metrics,
}

impl Ledger {
    /// Starts the worker on a thread of its own ([`own_thread`]), or on the current runtime
    /// when the system refuses a thread.
    pub(crate) fn spawn(db: Db, metrics: Metrics, limits: DailyLimits) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let worker = run(receiver, db.clone(), metrics.clone(), limits);
        if let Err((worker, err)) = own_thread(worker) {
            tracing::warn!(error = %err, "the ledger worker runs on the caller's runtime");
            tokio::spawn(worker);
        }
        Self {
            sender,
            db,
            metrics,
        }
    }

    /// Posts an intent that writes a transaction, and returns it.
    pub(crate) async fn post(
        &self,
        intent: Intent,
        key: Option<KeyedRequest>,
        effect: Effect,
    ) -> Result<TransactionView> {
        match self.submit(intent, key, effect).await? {
            Outcome::Transaction(view) => Ok(view),
            Outcome::Withdrawal(_) | Outcome::Hold(_) => {
                Err(Error::internal("posting", "expected a transaction"))
            }
        }
    }

    /// Posts `intent` (exactly once per key) and answers once its commit is durable.
    pub(crate) async fn submit(
        &self,
        intent: Intent,
        key: Option<KeyedRequest>,
        effect: Effect,
    ) -> Result<Outcome> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::One {
            intent,
            key,
            effect,
            reply,
        })
        .await?;
        let single = answer
            .await
            .map_err(|_| Error::Unavailable("the ledger worker dropped an operation".into()))??;
        match single {
            Single::Outcome(outcome) => Ok(outcome),
            Single::Recorded(id) => Ok(Outcome::Transaction(self.read_back(id).await?)),
        }
    }

    /// Recorded transactions, read back from the ledger (which never changes them) for a
    /// replay: on the primary, outside any batch.
    pub(crate) async fn transactions(
        &self,
        ids: &[TransactionId],
    ) -> Result<BTreeMap<TransactionId, TransactionView>> {
        let db = self.db.primary().await?;
        self.metrics
            .query(
                "wallet.transactions_by_ids",
                store::transactions_by_ids(&**db, ids),
            )
            .await
    }

    /// A transaction an idempotency record names, read back from the ledger to answer a replay.
    async fn read_back(&self, id: TransactionId) -> Result<TransactionView> {
        self.transactions(&[id]).await?.remove(&id).ok_or_else(|| {
            Error::internal(
                "replaying an idempotency record",
                format!("transaction {} is not in the ledger", id.0),
            )
        })
    }

    /// The answer `key`'s record gives again, read before the operation is even built: `None`
    /// when the key has no record (yet). For operations whose building can fail where their
    /// first call succeeded (a receiver found by email, whose look-ups may since be locked).
    ///
    /// # Errors
    ///
    /// [`Error::IdempotencyKeyReused`] for a record of another request.
    pub(crate) async fn recorded(&self, key: &KeyedRequest) -> Result<Option<Replay>> {
        let db = self.db.primary().await?;
        let stored = self
            .metrics
            .query(
                "wallet.idempotency_record",
                store::idempotency_record(&**db, key.caller, &key.key),
            )
            .await?;
        drop(db);
        let Some(record) = stored else {
            return Ok(None);
        };
        if record.request_hash != key.request_hash {
            return Err(Error::IdempotencyKeyReused);
        }
        let recorded = serde_json::from_slice::<Recorded>(&record.outcome)
            .map_err(|e| Error::internal("reading an idempotency record", e))?;
        Ok(Some(match recorded {
            Recorded::Posted(outcome) => Replay::One(Ok(outcome)),
            Recorded::Rejected(rejection) => Replay::One(Err(rejection.into_error())),
            Recorded::Transaction(id) => {
                Replay::One(Ok(Outcome::Transaction(self.read_back(id).await?)))
            }
            Recorded::Group(items) => Replay::Group(items),
        }))
    }

    /// Posts a group of transactions in one batch, each validated on its own, under one key:
    /// the group's record names each operation's transaction or rejection, so a replay costs one
    /// record, not one per operation. Answers once the commit is durable.
    pub(crate) async fn post_group(
        &self,
        items: Vec<std::result::Result<Intent, Rejection>>,
        key: Option<KeyedRequest>,
    ) -> Result<GroupAnswer> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Group { items, key, reply }).await?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the ledger worker dropped an operation".into()))?
    }

    async fn send(&self, job: Job) -> Result<()> {
        self.sender
            .send(job)
            .await
            .map_err(|_| Error::Unavailable("the ledger worker has stopped".into()))
    }
}

/// Runs `worker` on a thread of its own, in a single-threaded runtime that only drives it and
/// its connections to PostgreSQL (`Db::hot`), until every [`Ledger`] handle is gone. Gives the
/// worker back when the runtime or the thread cannot be made.
///
/// The worker is the one path every write waits for, and it spends its time between two round
/// trips. On the application's runtime, PostgreSQL's replies waited behind the hundreds of
/// request tasks ready before the worker's (`idle in transaction` 18% of the batch's backend's
/// time under an open loop of 3,850 transfers/s); here the reply wakes the worker's own thread.
/// Measured in docs/PERFORMANCE.md ("The ledger on its own thread").
fn own_thread<F>(worker: F) -> std::result::Result<(), (F, std::io::Error)>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return Err((worker, err)),
    };
    // The worker is handed over once the thread exists, so that a refused thread gives it back.
    let (hand_over, handed) = std::sync::mpsc::sync_channel::<F>(1);
    let started = std::thread::Builder::new()
        .name("contacto-ledger".into())
        .spawn(move || {
            if let Ok(worker) = handed.recv() {
                runtime.block_on(worker);
            }
        });
    match started {
        Ok(_) => hand_over.send(worker).map_err(|refused| {
            (
                refused.0,
                std::io::Error::other("the ledger thread ended before its worker was handed over"),
            )
        }),
        Err(err) => Err((worker, err)),
    }
}

/// What a batch in flight holds: the wallets it locks and the idempotency keys it records (by
/// hash: two keys that share one only wait for each other).
#[derive(Default)]
struct Claims {
    wallets: HashSet<crate::api::WalletId>,
    keys: HashSet<u64>,
}

impl Claims {
    fn of<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> Self {
        let mut claims = Self::default();
        for job in jobs {
            claims.add(job);
        }
        claims
    }

    fn add(&mut self, job: &Job) {
        self.wallets.extend(job.wallets());
        self.keys.extend(job.key().map(key_hash));
    }

    fn conflicts(&self, job: &Job) -> bool {
        job.wallets().any(|wallet| self.wallets.contains(&wallet))
            || job
                .key()
                .is_some_and(|key| self.keys.contains(&key_hash(key)))
    }
}

fn key_hash(key: &KeyedRequest) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    // One hasher for the process: the worker may run on any thread of a runtime.
    static HASHER: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    HASHER.hash_one((key.caller, key.key.as_str()))
}

/// Takes from `queue`, in order, the jobs a batch may post while the batches `busy` claim are in
/// flight: those that share no wallet and no key with them, up to [`MAX_BATCH`] operations, if
/// they make at least `min` operations (else nothing). A job left behind also holds back every
/// later job that shares a wallet or a key with it, so that operations on one wallet are posted
/// in the order they came.
fn take_batch(queue: &mut VecDeque<Job>, busy: &[&Claims], min: usize) -> Vec<Job> {
    let mut take = vec![false; queue.len()];
    let mut size = 0;
    let mut held_back = Claims::default();
    for (job, take) in queue.iter().zip(&mut take) {
        if size > 0 && size + job.size() > MAX_BATCH {
            break;
        }
        if busy.iter().any(|claims| claims.conflicts(job)) || held_back.conflicts(job) {
            held_back.add(job);
        } else {
            size += job.size();
            *take = true;
        }
    }
    if size < min.max(1) {
        return Vec::new();
    }
    let mut taken = Vec::new();
    let mut left = VecDeque::new();
    for (job, take) in queue.drain(..).zip(take) {
        if take {
            taken.push(job);
        } else {
            left.push_back(job);
        }
    }
    *queue = left;
    taken
}

/// With no batch in flight, splits the waiting jobs into two batches that share no wallet and no
/// key, to post side by side, if each makes at least `min` operations; else leaves `queue` as it
/// was and returns `None`. In order, a job goes to the batch it shares a wallet or a key with
/// (so operations on one wallet stay in one batch, in the order they came), or, sharing with
/// neither, to the smaller one. A job that shares with both, or finds its batch full, stays
/// queued and holds back every later job sharing a wallet or a key with it, as in
/// [`take_batch`].
///
/// Over a few busy wallets (a skewed load), one batch takes every operation touching them and
/// the other the rest, which would otherwise wait for the first batch to start beside it.
fn split_batches(queue: &mut VecDeque<Job>, min: usize) -> Option<[Vec<Job>; 2]> {
    // For each job: which batch takes it, if any.
    let mut lane: Vec<Option<usize>> = Vec::with_capacity(queue.len());
    let mut claims: [Claims; 2] = Default::default();
    let mut sizes = [0; 2];
    let mut held_back = Claims::default();
    for job in queue.iter() {
        let fits = |batch: usize| sizes[batch] == 0 || sizes[batch] + job.size() <= MAX_BATCH;
        let chosen = if held_back.conflicts(job) {
            None
        } else {
            match (claims[0].conflicts(job), claims[1].conflicts(job)) {
                (true, true) => None,
                (true, false) => Some(0).filter(|&batch| fits(batch)),
                (false, true) => Some(1).filter(|&batch| fits(batch)),
                (false, false) => {
                    let smaller = usize::from(sizes[1] < sizes[0]);
                    [smaller, 1 - smaller]
                        .into_iter()
                        .find(|&batch| fits(batch))
                }
            }
        };
        match chosen {
            Some(batch) => {
                claims[batch].add(job);
                sizes[batch] += job.size();
            }
            None => held_back.add(job),
        }
        lane.push(chosen);
    }
    if sizes.iter().any(|&size| size < min.max(1)) {
        return None;
    }
    let (mut first, mut second, mut left) = (Vec::new(), Vec::new(), VecDeque::new());
    for (job, lane) in queue.drain(..).zip(lane) {
        match lane {
            Some(0) => first.push(job),
            Some(_) => second.push(job),
            None => left.push_back(job),
        }
    }
    *queue = left;
    Some([first, second])
}

/// The dispatcher: takes the jobs that have arrived and posts them in batches on up to [`LANES`]
/// connections at once. With no batch in flight, a lane takes every waiting job (an idle ledger
/// posts a job as soon as it arrives). With one in flight, a second lane takes the waiting jobs
/// that share no wallet and no idempotency key with it, so two batches never wait for each
/// other's locks and never record the same key, but only once they make
/// [`SECOND_BATCH_MIN`] operations: a smaller batch costs more per operation than waiting for
/// the batch in flight. So a job that waited for one batch's wallets may also wait for the batch
/// beside it, when too few jobs are free of that one to start another. With no batch in flight
/// and enough jobs waiting for two, they are split into two batches started together
/// ([`split_batches`]) when each gets [`SECOND_BATCH_MIN`].
async fn run(mut receiver: mpsc::Receiver<Job>, db: Db, metrics: Metrics, limits: DailyLimits) {
    let look_up_until = Mutex::new(Instant::now());
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut queued = 0;
    // With a batch in flight, the waiting operations at which to look for a second batch again.
    let mut look_at = SECOND_BATCH_MIN;
    let mut claims: [Option<Claims>; LANES] = Default::default();
    let mut lanes = FuturesUnordered::new();
    let mut open = true;
    loop {
        // What has arrived, up to a batch's worth per lane; the rest stays in the channel.
        while queued < LANES * MAX_BATCH {
            let Ok(job) = receiver.try_recv() else { break };
            queued += job.size();
            queue.push_back(job);
        }
        // Batches to start now: their lanes, their jobs, and whether each starts beside another.
        // A lane's claims are set as it takes its jobs, so that the next lane leaves them alone.
        let mut starting: Vec<(usize, Vec<Job>, bool)> = Vec::new();
        if claims.iter().all(Option::is_none)
            && queued >= LANES * SECOND_BATCH_MIN
            && let Some(batches) = split_batches(&mut queue, SECOND_BATCH_MIN)
        {
            for (lane, jobs) in batches.into_iter().enumerate() {
                queued -= jobs.iter().map(Job::size).sum::<usize>();
                claims[lane] = Some(Claims::of(&jobs));
                starting.push((lane, jobs, lane > 0));
            }
        }
        for lane in 0..LANES {
            if claims[lane].is_some() || queue.is_empty() {
                continue;
            }
            let busy: Vec<&Claims> = claims.iter().flatten().collect();
            if !busy.is_empty() && queued < look_at {
                continue;
            }
            let min = if busy.is_empty() { 1 } else { SECOND_BATCH_MIN };
            let jobs = take_batch(&mut queue, &busy, min);
            if jobs.is_empty() {
                // Scanning the queue costs: look again when it has grown by half a batch.
                look_at = queued + SECOND_BATCH_MIN / 2;
                continue;
            }
            look_at = SECOND_BATCH_MIN;
            let beside = !busy.is_empty();
            queued -= jobs.iter().map(Job::size).sum::<usize>();
            claims[lane] = Some(Claims::of(&jobs));
            starting.push((lane, jobs, beside));
        }
        for (lane, jobs, beside) in starting {
            if beside {
                metrics.ledger_batch_beside();
            }
            let (db, metrics, look_up_until) = (&db, &metrics, &look_up_until);
            lanes.push(async move {
                post_and_answer(db, metrics, limits, jobs, look_up_until).await;
                lane
            });
        }
        metrics.ledger_queued(queued);
        if lanes.is_empty() {
            if !open {
                break;
            }
            match receiver.recv().await {
                Some(job) => {
                    queued += job.size();
                    queue.push_back(job);
                }
                None => open = false,
            }
            continue;
        }
        tokio::select! {
            Some(lane) = lanes.next() => {
                claims[lane] = None;
                look_at = SECOND_BATCH_MIN;
            }
            job = receiver.recv(), if open && queued < LANES * MAX_BATCH => match job {
                Some(job) => {
                    queued += job.size();
                    queue.push_back(job);
                }
                None => open = false,
            },
        }
    }
}

/// Posts `jobs` as one batch and answers each of them. A batch the database refuses for another
/// reason than being unreachable (a write it would not take: a bug, or data no check caught)
/// committed nothing; its halves are posted again apart, down to single jobs, so that the
/// operation at fault fails alone and the others go through, as they do when an operation fails
/// validation. That costs a few more batches, only when a batch fails.
async fn post_and_answer(
    db: &Db,
    metrics: &Metrics,
    limits: DailyLimits,
    jobs: Vec<Job>,
    look_up_until: &Mutex<Instant>,
) {
    // Splits allowed: enough to isolate one operation at fault (two batches per halving), not
    // to post every job alone when the failure is not one operation's (a bug in the batch's own
    // statements fails every half): then what is left fails with it.
    let mut splits = 2 * (usize::BITS - jobs.len().leading_zeros()) as usize;
    // Last in, first out, the first half pushed last: jobs are posted in the order they came.
    let mut pending = vec![jobs];
    while let Some(mut jobs) = pending.pop() {
        let size: usize = jobs.iter().map(Job::size).sum();
        let started = Instant::now();
        let mut retries = 0;
        let posted = loop {
            let look_up = size <= ALWAYS_LOOK_UP_MAX
                || retries > 0
                || started < *look_up_until.lock().unwrap_or_else(PoisonError::into_inner);
            match post_batch(db, metrics, limits, &jobs, size, look_up).await {
                Err(err) if store::is_key_taken(&err) && retries < KEY_CONFLICT_RETRIES => {
                    retries += 1;
                    *look_up_until.lock().unwrap_or_else(PoisonError::into_inner) =
                        Instant::now() + LOOK_UP_AFTER_CONFLICT;
                    metrics.ledger_batch_retried();
                }
                posted => break posted,
            }
        };
        match posted {
            Ok((answers, moved)) => {
                metrics.ledger_batch(size, started.elapsed().as_secs_f64());
                for (kind, currency, amount) in moved {
                    metrics.amount_moved(kind.as_str(), &currency, amount);
                }
                for (job, answer) in jobs.into_iter().zip(answers) {
                    job.answer(answer);
                }
            }
            Err(err) if err.kind() != ErrorKind::Unavailable && jobs.len() > 1 && splits > 0 => {
                splits -= 1;
                tracing::warn!(error = %err, size, "ledger batch failed: posting its halves apart");
                let second = jobs.split_off(jobs.len() / 2);
                pending.push(second);
                pending.push(jobs);
            }
            Err(err) if err.kind() == ErrorKind::Invalid && jobs.len() == 1 => {
                // The one operation's own data was refused (a value PostgreSQL cannot store): the
                // caller's error, answered as such.
                tracing::warn!(error = %err, size, "ledger batch failed");
                if let Some(job) = jobs.into_iter().next() {
                    job.fail(err);
                }
            }
            Err(err) => {
                // Nothing of the batch was committed: every operation gets the failure.
                let kind = err.kind();
                let message = err.to_string();
                tracing::warn!(error = %message, size, "ledger batch failed");
                for job in jobs {
                    let err = if kind == ErrorKind::Unavailable {
                        Error::Unavailable(message.clone().into())
                    } else {
                        Error::internal("posting a batch", message.clone())
                    };
                    job.fail(err);
                }
            }
        }
    }
}

/// How one job of a batch ended before the commit.
enum Slot {
    One(Result<Single>),
    /// A group posted now.
    Group(Vec<Result<TransactionView>>),
    /// A group posted before, under the same key and request.
    Replayed(Vec<GroupItem>),
    /// A group refused as a whole (its key was used for another request).
    Refused(Error),
    /// Same key and request as an earlier job of the batch: answered like it.
    SameAs(usize),
}

/// A transaction's kind, currency and amount, for the metric of amounts moved.
type Moved = (crate::api::TransactionKind, String, i64);

/// A transaction the batch writes.
struct Written<'a> {
    id: Uuid,
    intent: &'a Intent,
    currency: String,
    entries: Vec<ledger::Entry>,
}

/// The batch's state while its operations are validated one by one.
struct Posting<'a> {
    tx: &'a Hot,
    limits: DailyLimits,
    now: time::OffsetDateTime,
    today: time::Date,
    states: BTreeMap<crate::api::WalletId, ledger::WalletState>,
    written: Vec<Written<'a>>,
    payments: Vec<store::NewPayment>,
}

impl<'a> Posting<'a> {
    /// Validates one operation against the balances so far and queues its writes. The outer
    /// error fails the whole batch (the database failed); the inner one rejects this operation.
    async fn post(&mut self, intent: &'a Intent, effect: &Effect) -> Result<Result<Outcome>> {
        let (tx, now) = (self.tx, self.now);
        if let Effect::CreateHold(hold) = effect {
            // The payee, locked with the batch ([`Job::wallets`]): a hold to a frozen wallet
            // or a system account could never be captured, and would only tie the payer's money.
            let payee = hold.payee_wallet_id;
            match self.states.get(&payee) {
                Some(state) if state.owner.is_none() => {
                    return Ok(Err(Error::NotFound { resource: "wallet" }));
                }
                Some(state) if state.currency != hold.currency => {
                    return Ok(Err(Error::CurrencyMismatch(format!(
                        "wallet {payee} holds {}, the hold is in {}",
                        state.currency, hold.currency
                    ))));
                }
                Some(state) if state.frozen => return Ok(Err(Error::WalletFrozen(payee))),
                Some(_) => {}
                None => return Ok(Err(Error::NotFound { resource: "wallet" })),
            }
        }
        if let Effect::SettleWithdrawal { id, .. } = effect {
            let pending = store::withdrawal_by_id(tx.client(), *id, true)
                .await?
                .is_some_and(|(w, _)| w.status == crate::api::WithdrawalStatus::Pending);
            if !pending {
                return Ok(Err(Error::WithdrawalSettled));
            }
        }
        if let Effect::SettleHold { id, status, .. } = effect {
            // A hold past its deadline can no longer be captured, even before the sweep.
            let live = store::hold_by_id(tx.client(), *id, true)
                .await?
                .is_some_and(|h| {
                    h.status == crate::api::HoldStatus::Authorized
                        && (*status != "captured" || h.expires_at > now)
                });
            if !live {
                return Ok(Err(Error::HoldSettled));
            }
        }
        if let Effect::SettleDeposit { deposit, .. } = effect {
            let pending = store::deposit_by_id(tx.client(), *deposit, true)
                .await?
                .is_some_and(|(d, _)| d.status == DepositStatus::Pending);
            if !pending {
                return Ok(Err(Error::DepositSettled("settled")));
            }
        }
        let mut refund_fee = None;
        let rewritten;
        let applied = if let Effect::Refund {
            payment,
            fee_revenue,
        } = effect
        {
            let Some(locked) = store::payment_by_id(tx.client(), *payment, true).await? else {
                return Ok(Err(Error::NotFound {
                    resource: "payment",
                }));
            };
            let paid = locked.view;
            let refundable = paid.amount - paid.refunded;
            if intent.amount > refundable {
                return Ok(Err(Error::RefundExceedsPayment { refundable }));
            }
            let fee_back =
                super::fees::fee_refund(paid.fee, paid.amount, paid.refunded, intent.amount);
            let postings = [
                (paid.payer_wallet_id, intent.amount),
                (paid.merchant_wallet_id, -(intent.amount - fee_back)),
                (*fee_revenue, -fee_back),
            ];
            rewritten = Intent {
                postings: postings.into_iter().filter(|(_, a)| *a != 0).collect(),
                ..intent.clone()
            };
            refund_fee = Some((*payment, fee_back));
            &rewritten
        } else {
            intent
        };
        // Even a malformed operation (a bug) fails alone: the rest of the batch goes on.
        let ledger::Posted { entries, currency } =
            match ledger::apply(&mut self.states, applied, self.limits, self.today) {
                Ok(posted) => posted,
                Err(err) => return Ok(Err(err)),
            };
        let id = Uuid::now_v7();
        if let Some((payment, fee_back)) = refund_fee {
            store::record_refund(tx.client(), id, payment, intent.amount, fee_back).await?;
        }
        if let Effect::RecordPayment {
            payer,
            merchant,
            fee,
        } = effect
        {
            self.payments.push(store::NewPayment {
                id,
                payer: payer.0,
                merchant: merchant.0,
                currency: currency.clone(),
                amount: intent.amount,
                fee: *fee,
            });
        }
        if let Effect::SettleDeposit {
            deposit,
            provider_reference,
        } = effect
        {
            store::settle_deposit(
                tx.client(),
                *deposit,
                DepositStatus::Succeeded,
                provider_reference,
                Some(TransactionId(id)),
            )
            .await?;
        }
        let transaction = (!entries.is_empty()).then_some(TransactionId(id));
        let outcome = match effect {
            Effect::CreateWithdrawal {
                id: withdrawal,
                rib,
            } => {
                let wallet = intent.holds.first().map(|(w, _)| *w);
                let Some(wallet) = wallet else {
                    return Err(Error::internal("posting", "a withdrawal without a hold"));
                };
                // Made, and counted against the daily limit, at the batch's time.
                store::insert_withdrawal(
                    tx.client(),
                    *withdrawal,
                    wallet,
                    intent.amount,
                    &currency,
                    rib,
                    now,
                )
                .await?;
                Outcome::Withdrawal(crate::api::WithdrawalView {
                    id: *withdrawal,
                    wallet_id: wallet,
                    amount: intent.amount,
                    currency: currency.clone(),
                    rib: super::rib::mask(rib),
                    status: crate::api::WithdrawalStatus::Pending,
                    transaction_id: None,
                    created_at: now,
                })
            }
            Effect::SettleWithdrawal {
                id: withdrawal,
                completed,
            } => {
                let view =
                    store::settle_withdrawal(tx.client(), *withdrawal, *completed, transaction)
                        .await?
                        .ok_or_else(|| {
                            Error::internal("posting", "a locked withdrawal vanished")
                        })?;
                Outcome::Withdrawal(view)
            }
            Effect::CreateHold(hold) => {
                // Authorised, and counted against the daily limit, at the batch's time.
                let hold = crate::api::HoldView {
                    created_at: now,
                    ..hold.clone()
                };
                store::insert_hold(tx.client(), &hold).await?;
                Outcome::Hold(hold)
            }
            Effect::SettleHold {
                id: hold,
                status,
                captured,
            } => {
                let view = store::settle_hold(tx.client(), *hold, status, *captured, transaction)
                    .await?
                    .ok_or_else(|| Error::internal("posting", "a locked hold vanished"))?;
                Outcome::Hold(view)
            }
            _ => Outcome::Transaction(TransactionView {
                id: TransactionId(id),
                kind: intent.kind,
                currency: currency.clone(),
                amount: intent.amount,
                description: intent.description.clone(),
                entries: entries.iter().map(ledger::Entry::view).collect(),
                created_at: now,
            }),
        };
        // A pure hold writes no transaction.
        if !entries.is_empty() {
            self.written.push(Written {
                id,
                intent,
                currency,
                entries,
            });
        }
        Ok(Ok(outcome))
    }
}

/// The answer an idempotency record gives `job` again.
fn replay(job: &Job, record: &store::StoredKey) -> Slot {
    let recorded = serde_json::from_slice::<Recorded>(&record.outcome)
        .map_err(|e| Error::internal("reading an idempotency record", e));
    match (job, recorded) {
        (Job::One { .. }, Ok(Recorded::Posted(outcome))) => Slot::One(Ok(Single::Outcome(outcome))),
        (Job::One { .. }, Ok(Recorded::Transaction(id))) => Slot::One(Ok(Single::Recorded(id))),
        (Job::One { .. }, Ok(Recorded::Rejected(rejection))) => {
            Slot::One(Err(rejection.into_error()))
        }
        (Job::Group { .. }, Ok(Recorded::Group(items))) => Slot::Replayed(items),
        // The same request hash under another shape of record cannot happen; refuse the key.
        (_, Ok(_)) => refuse(job, Error::IdempotencyKeyReused),
        (_, Err(err)) => refuse(job, err),
    }
}

fn refuse(job: &Job, err: Error) -> Slot {
    match job {
        Job::One { .. } => Slot::One(Err(err)),
        Job::Group { .. } => Slot::Refused(err),
    }
}

/// What a job's idempotency key records, if anything: rejections by the ledger's rules are part
/// of the answer; failures of a single operation are not, so that its retry tries again.
fn recorded(slot: &Slot) -> Option<Recorded> {
    match slot {
        Slot::One(Ok(Single::Outcome(Outcome::Transaction(view))))
            if store::reads_back_whole(view) =>
        {
            Some(Recorded::Transaction(view.id))
        }
        Slot::One(Ok(Single::Outcome(outcome))) => Some(Recorded::Posted(outcome.clone())),
        // A replay is recorded already.
        Slot::One(Ok(Single::Recorded(_))) => None,
        Slot::One(Err(err))
            if matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Internal) =>
        {
            None
        }
        Slot::One(Err(err)) => Some(Recorded::Rejected(Rejection::of(err))),
        // A group records every operation, failures included: the others were posted, and a
        // retry must not post them again.
        Slot::Group(results) => Some(Recorded::Group(results.iter().map(GroupItem::of).collect())),
        Slot::Replayed(_) | Slot::Refused(_) | Slot::SameAs(_) => None,
    }
}

/// The answer of a job with the same key and request as an earlier job of the batch.
fn same_as(earlier: &Answer) -> Answer {
    let again = |err: &Error| Rejection::of(err).into_error();
    match earlier {
        Answer::One(Ok(outcome)) => Answer::One(Ok(outcome.clone())),
        Answer::One(Err(err)) => Answer::One(Err(again(err))),
        Answer::Group(Ok(GroupAnswer::Posted(results))) => Answer::Group(Ok(
            GroupAnswer::Replayed(results.iter().map(GroupItem::of).collect()),
        )),
        Answer::Group(Ok(GroupAnswer::Replayed(items))) => {
            Answer::Group(Ok(GroupAnswer::Replayed(items.clone())))
        }
        Answer::Group(Err(err)) => Answer::Group(Err(again(err))),
    }
}

async fn post_batch(
    db: &Db,
    metrics: &Metrics,
    limits: DailyLimits,
    jobs: &[Job],
    size: usize,
    look_up_keys: bool,
) -> Result<(Vec<Answer>, Vec<Moved>)> {
    let started = Instant::now();
    let small = size <= PREPARED_BATCH_MAX;
    let mut tx = db.hot(small).await?;
    tx.prepare(store::BATCH_STATEMENTS)
        .await
        .db("preparing the ledger's statements")?;
    let tx = &tx;
    let connected = Instant::now();
    let ids: Vec<Uuid> = jobs
        .iter()
        .flat_map(Job::wallets)
        .map(|w| w.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: Vec<(Uuid, &str)> = if look_up_keys {
        jobs.iter()
            .filter_map(|job| job.key().map(|k| (k.caller, k.key.as_str())))
            .collect()
    } else {
        Vec::new()
    };
    // Pipelined: the transaction starts and the three reads leave in one round trip, and the
    // server runs them in this order (`crate::db::hot`).
    let ((), locked, now, stored) = tokio::try_join!(
        async { tx.begin().await.db("starting a ledger batch") },
        metrics.query("wallet.lock_wallets", store::lock_wallets(tx, &ids, small)),
        store::transaction_time(tx),
        metrics.query(
            "wallet.idempotency_records",
            store::idempotency_records(tx, &keys),
        ),
    )?;
    let read = Instant::now();
    let store::LockedWallets { states, rows } = locked;
    let before = states.clone();
    let mut posting = Posting {
        tx,
        limits,
        now,
        today: limit_day(now),
        states,
        written: Vec::with_capacity(size),
        payments: Vec::new(),
    };

    let mut slots: Vec<Slot> = Vec::with_capacity(jobs.len());
    let mut first_with_key: BTreeMap<(Uuid, &str), usize> = BTreeMap::new();
    for (index, job) in jobs.iter().enumerate() {
        if let Some(key) = job.key() {
            if let Some(record) = stored.get(&(key.caller, key.key.clone())) {
                slots.push(if record.request_hash == key.request_hash {
                    replay(job, record)
                } else {
                    refuse(job, Error::IdempotencyKeyReused)
                });
                continue;
            }
            if let Some(&earlier) = first_with_key.get(&(key.caller, key.key.as_str())) {
                let same = jobs[earlier]
                    .key()
                    .is_some_and(|k| k.request_hash == key.request_hash);
                slots.push(if same {
                    Slot::SameAs(earlier)
                } else {
                    refuse(job, Error::IdempotencyKeyReused)
                });
                continue;
            }
            first_with_key.insert((key.caller, key.key.as_str()), index);
        }
        let slot = match job {
            Job::One { intent, effect, .. } => {
                Slot::One(posting.post(intent, effect).await?.map(Single::Outcome))
            }
            Job::Group { items, .. } => {
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    results.push(match item {
                        Ok(intent) => match posting.post(intent, &Effect::None).await? {
                            Ok(Outcome::Transaction(view)) => Ok(view),
                            Ok(Outcome::Withdrawal(_) | Outcome::Hold(_)) => {
                                Err(Error::internal("posting", "expected a transaction"))
                            }
                            Err(err) => Err(err),
                        },
                        Err(rejection) => Err(rejection.clone().into_error()),
                    });
                }
                Slot::Group(results)
            }
        };
        slots.push(slot);
    }
    let Posting {
        states,
        written,
        payments,
        ..
    } = posting;

    let new_transactions: Vec<NewTransaction<'_>> = written
        .iter()
        .map(|w| NewTransaction {
            id: w.id,
            kind: w.intent.kind,
            currency: &w.currency,
            amount: w.intent.amount,
            description: w.intent.description.as_deref(),
            entries: &w.entries,
        })
        .collect();
    let changed: Vec<_> = states
        .iter()
        .filter(|(id, state)| before.get(id) != Some(state))
        .map(|(id, state)| (*id, state))
        .collect();

    let mut records: Vec<(Uuid, &str, &[u8], Vec<u8>)> = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let Some(key) = job.key() else {
            continue;
        };
        if first_with_key.get(&(key.caller, key.key.as_str())) != Some(&index) {
            continue;
        }
        let Some(recorded) = recorded(&slots[index]) else {
            continue;
        };
        let bytes = serde_json::to_vec(&recorded)
            .map_err(|e| Error::internal("recording an idempotency key", e))?;
        records.push((key.caller, key.key.as_str(), &key.request_hash[..], bytes));
    }
    let records: Vec<(Uuid, &str, &[u8], &[u8])> = records
        .iter()
        .map(|(c, k, h, o)| (*c, *k, *h, o.as_slice()))
        .collect();
    let validated = Instant::now();
    // Pipelined: the writes and the commit leave together and the server runs them in order. If
    // a write fails, the server rolls the commit back, the statements after it fail as the
    // transaction is aborted, and the first failure in that order is returned: the cause.
    let (postings, wallets, records, payments, committed) = tokio::join!(
        metrics.query(
            "wallet.insert_postings",
            store::insert_postings(tx, &new_transactions, &rows, now)
        ),
        metrics.query(
            "wallet.update_wallets",
            store::update_wallets(tx, &rows, &changed)
        ),
        metrics.query(
            "wallet.insert_idempotency_records",
            store::insert_idempotency_records(tx, &records),
        ),
        metrics.query(
            "wallet.insert_payments",
            store::insert_payments(tx, &payments)
        ),
        async { tx.commit().await.db("committing a ledger batch") },
    );
    postings?;
    wallets?;
    records?;
    payments?;
    committed?;
    metrics.ledger_batch_phases(&[
        ("connect", connected - started),
        ("read", read - connected),
        ("post", validated - read),
        ("write", validated.elapsed()),
    ]);

    let mut answers: Vec<Answer> = Vec::with_capacity(slots.len());
    for slot in slots {
        let answer = match slot {
            Slot::One(result) => Answer::One(result),
            Slot::Group(results) => Answer::Group(Ok(GroupAnswer::Posted(results))),
            Slot::Replayed(items) => Answer::Group(Ok(GroupAnswer::Replayed(items))),
            Slot::Refused(err) => Answer::Group(Err(err)),
            Slot::SameAs(earlier) => same_as(&answers[earlier]),
        };
        answers.push(answer);
    }
    // What the batch moved: its written transactions (replays moved nothing).
    let moved = written
        .into_iter()
        .map(|w| (w.intent.kind, w.currency, w.intent.amount))
        .collect();
    Ok((answers, moved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{TransactionKind, WalletId};

    fn wallet(n: u128) -> WalletId {
        WalletId(Uuid::from_u128(n))
    }

    /// A transfer of 1 from wallet `from` to wallet `to`, under `key` if given.
    fn transfer(from: u128, to: u128, key: Option<&str>) -> Job {
        let (reply, _) = oneshot::channel();
        Job::One {
            intent: Intent {
                kind: TransactionKind::Transfer,
                currency: None,
                payer_owner: None,
                amount: 1,
                description: None,
                postings: vec![(wallet(from), -1), (wallet(to), 1)],
                outgoing_from: Some(wallet(from)),
                gives_back: None,
                holds: Vec::new(),
                settlement: false,
            },
            key: key.map(|key| KeyedRequest {
                caller: Uuid::from_u128(7),
                key: key.into(),
                request_hash: [0; 32],
            }),
            effect: Effect::None,
            reply,
        }
    }

    /// Each job's first two wallets, as `(from, to)` numbers.
    fn pairs(jobs: impl IntoIterator<Item = Job>) -> Vec<(u128, u128)> {
        jobs.into_iter()
            .map(|job| {
                let mut wallets = job.wallets().map(|w| w.0.as_u128());
                (wallets.next().unwrap_or(0), wallets.next().unwrap_or(0))
            })
            .collect()
    }

    #[test]
    fn with_nothing_in_flight_a_batch_takes_every_job_in_order() {
        let mut queue: VecDeque<Job> = [(1, 2), (2, 3), (1, 3)]
            .into_iter()
            .map(|(from, to)| transfer(from, to, None))
            .collect();
        let taken = take_batch(&mut queue, &[], 1);
        assert_eq!(pairs(taken), [(1, 2), (2, 3), (1, 3)]);
        assert!(queue.is_empty());
    }

    #[test]
    fn beside_a_batch_in_flight_only_jobs_sharing_nothing_with_it_are_taken() {
        let busy = Claims::of(&[transfer(1, 2, Some("k"))]);
        let mut queue: VecDeque<Job> = VecDeque::from([
            transfer(2, 3, None),      // wallet 2 is in flight
            transfer(4, 5, None),      // free
            transfer(3, 6, None),      // free, but wallet 3 waits behind the first job
            transfer(7, 8, Some("k")), // its key is in flight
            transfer(9, 10, None),     // free
        ]);
        let taken = take_batch(&mut queue, &[&busy], 1);
        assert_eq!(pairs(taken), [(4, 5), (9, 10)]);
        assert_eq!(pairs(queue), [(2, 3), (3, 6), (7, 8)], "left in order");
    }

    #[test]
    fn a_job_held_back_by_its_key_holds_back_later_jobs_on_its_wallets() {
        let busy = Claims::of(&[transfer(1, 2, Some("k"))]);
        let mut queue: VecDeque<Job> = VecDeque::from([
            transfer(3, 4, Some("k")),
            transfer(4, 5, None),
            transfer(6, 7, None),
        ]);
        let taken = take_batch(&mut queue, &[&busy], 1);
        assert_eq!(pairs(taken), [(6, 7)]);
        assert_eq!(pairs(queue), [(3, 4), (4, 5)]);
    }

    #[test]
    fn a_job_sharing_nothing_with_one_batch_in_flight_waits_for_another_it_shares_with() {
        let (first, second) = (
            Claims::of(&[transfer(1, 2, None)]),
            Claims::of(&[transfer(3, 4, None)]),
        );
        let mut queue: VecDeque<Job> = VecDeque::from([transfer(4, 5, None), transfer(6, 7, None)]);
        let taken = take_batch(&mut queue, &[&first, &second], 1);
        assert_eq!(pairs(taken), [(6, 7)]);
    }

    #[test]
    fn a_payment_claims_the_merchant_wallet_its_postings_leave_out() {
        // A fee of the whole amount: the merchant's wallet (3) gets no entry, but the payment's
        // row names it.
        let Job::One { intent, reply, .. } = transfer(1, 2, None) else {
            unreachable!("a transfer is one job")
        };
        let payment = Job::One {
            intent,
            key: None,
            effect: Effect::RecordPayment {
                payer: wallet(1),
                merchant: wallet(3),
                fee: 1,
            },
            reply,
        };
        let claims = Claims::of(&[payment]);
        assert!(claims.conflicts(&transfer(3, 9, None)));
    }

    #[test]
    fn too_few_free_jobs_start_no_batch_and_stay_queued() {
        let busy = Claims::of(&[transfer(1, 2, None)]);
        let mut queue: VecDeque<Job> = VecDeque::from([transfer(1, 3, None), transfer(4, 5, None)]);
        assert!(take_batch(&mut queue, &[&busy], 2).is_empty());
        assert_eq!(pairs(queue), [(1, 3), (4, 5)]);
    }

    #[test]
    fn with_nothing_in_flight_the_waiting_jobs_split_into_two_batches_sharing_nothing() {
        let mut queue: VecDeque<Job> = VecDeque::from([
            transfer(1, 2, None),      // the first batch
            transfer(3, 4, None),      // sharing nothing: the smaller batch, the second
            transfer(2, 5, None),      // shares wallet 2 with the first
            transfer(6, 7, Some("k")), // the second is smaller again
            transfer(8, 9, Some("k")), // shares its key with the second
            transfer(10, 11, None),    // the first is smaller
            transfer(4, 12, None),     // shares wallet 4 with the second
        ]);
        let [first, second] = split_batches(&mut queue, 2).expect("both batches are large enough");
        assert_eq!(pairs(first), [(1, 2), (2, 5), (10, 11)]);
        assert_eq!(pairs(second), [(3, 4), (6, 7), (8, 9), (4, 12)]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_job_sharing_with_both_batches_stays_queued_and_holds_back_later_jobs_on_its_wallets() {
        let mut queue: VecDeque<Job> = VecDeque::from([
            transfer(1, 2, None),
            transfer(3, 4, None),
            transfer(2, 3, None),   // shares with both: stays
            transfer(5, 6, None),   // the first batch
            transfer(2, 7, None),   // wallet 2 waits behind the job that stayed
            transfer(8, 9, None),   // the second batch
            transfer(7, 10, None),  // wallet 7 waits behind the job held back
            transfer(11, 12, None), // the first batch
        ]);
        let [first, second] = split_batches(&mut queue, 1).expect("both batches have jobs");
        assert_eq!(pairs(first), [(1, 2), (5, 6), (11, 12)]);
        assert_eq!(pairs(second), [(3, 4), (8, 9)]);
        assert_eq!(pairs(queue), [(2, 3), (2, 7), (7, 10)], "left in order");
    }

    #[test]
    fn a_split_leaving_a_batch_too_small_takes_nothing() {
        // Every job shares wallet 1: one batch would hold them all.
        let mut queue: VecDeque<Job> = (2..6).map(|to| transfer(1, to, None)).collect();
        assert!(split_batches(&mut queue, 1).is_none());
        assert_eq!(
            pairs(queue),
            [(1, 2), (1, 3), (1, 4), (1, 5)],
            "left as it was"
        );
        let mut queue: VecDeque<Job> = VecDeque::from([
            transfer(1, 2, None),
            transfer(3, 4, None),
            transfer(1, 5, None),
        ]);
        assert!(split_batches(&mut queue, 2).is_none());
        assert_eq!(queue.len(), 3);
    }

    #[test]
    fn a_split_batch_stops_at_the_most_operations_it_may_hold() {
        // Every job shares wallet 1 except the last: the first batch fills, and the jobs over
        // its limit stay queued, ahead of the free one that the second batch takes.
        let mut queue: VecDeque<Job> = (0..MAX_BATCH as u128 + 2)
            .map(|n| transfer(1, n + 100, None))
            .chain([transfer(2, 3, None)])
            .collect();
        let [first, second] = split_batches(&mut queue, 1).expect("both batches have jobs");
        assert_eq!(first.len(), MAX_BATCH);
        assert_eq!(pairs(second), [(2, 3)]);
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_batch_stops_at_the_most_operations_it_may_hold() {
        let mut queue: VecDeque<Job> = (0..MAX_BATCH as u128 + 3)
            .map(|n| transfer(2 * n + 100, 2 * n + 101, None))
            .collect();
        assert_eq!(take_batch(&mut queue, &[], 1).len(), MAX_BATCH);
        assert_eq!(queue.len(), 3);
    }
}
