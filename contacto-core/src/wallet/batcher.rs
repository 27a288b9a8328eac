//! Group commit: operations that arrive while a commit is in flight are posted together, in one
//! database transaction. Each touched wallet is locked once per batch, in id order; operations
//! are validated one by one in memory (`ledger::apply`); entries, balances and idempotency
//! records are written with set-based statements; one commit acknowledges them all. An operation
//! that fails validation is rejected alone. An idle ledger posts an operation as soon as it
//! arrives: nothing waits for a batch to fill.
//!
//! One worker owns the posting path, so batches never race each other: an idempotency key seen
//! by one batch is committed before the next batch looks for it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::ledger::{self, DailyLimits, Intent};
use super::store::{self, NewTransaction};
use crate::api::{DepositId, DepositStatus, TransactionId, TransactionView};
use crate::db::Db;
use crate::db::error::PgResultExt;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;

/// Most operations in one batch: bounds the statements' array sizes and a batch's lock set.
pub(crate) const MAX_BATCH: usize = 8192;

/// Most operations in a batch that runs prepared statements (when the configuration allows them).
/// A small batch is what an idle or lightly loaded ledger posts: planning its statements is a
/// large share of its time, and their generic plans are the plans it would get anyway. A larger
/// batch is planned for the size of its arrays, which a generic plan cannot see: measured with
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

/// Operations waiting for the worker; senders wait (backpressure) beyond it.
const QUEUE_CAPACITY: usize = 65_536;

/// Africa/Algiers is UTC+1 all year (no daylight saving): daily limits roll over at its midnight.
const ALGIERS: time::UtcOffset = time::macros::offset!(+1);

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

struct Job {
    intent: Intent,
    key: Option<KeyedRequest>,
    effect: Effect,
    reply: oneshot::Sender<Result<Outcome>>,
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

/// What an idempotency record remembers: the answer first given.
#[derive(Serialize, Deserialize)]
enum Recorded {
    Posted(Outcome),
    Rejected {
        kind: ErrorKind,
        code: String,
        message: String,
    },
}

impl Recorded {
    fn into_result(self) -> Result<Outcome> {
        match self {
            Recorded::Posted(view) => Ok(view),
            Recorded::Rejected {
                kind,
                code,
                message,
            } => Err(Error::Replayed {
                kind,
                code,
                message,
            }),
        }
    }
}

/// The handle operations are submitted through.
#[derive(Clone)]
pub(crate) struct Ledger {
    sender: mpsc::Sender<Job>,
}

impl Ledger {
    /// Starts the worker on the current runtime.
    pub(crate) fn spawn(db: Db, metrics: Metrics, limits: DailyLimits) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(receiver, db, metrics, limits));
        Self { sender }
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
        self.sender
            .send(Job {
                intent,
                key,
                effect,
                reply,
            })
            .await
            .map_err(|_| Error::Unavailable("the ledger worker has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the ledger worker dropped an operation".into()))?
    }
}

async fn run(mut receiver: mpsc::Receiver<Job>, db: Db, metrics: Metrics, limits: DailyLimits) {
    let mut look_up_until = Instant::now();
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let size = jobs.len();
        let mut retries = 0;
        let posted = loop {
            let look_up = size <= ALWAYS_LOOK_UP_MAX || retries > 0 || started < look_up_until;
            match post_batch(&db, &metrics, limits, &jobs, look_up).await {
                Err(err) if store::is_key_taken(&err) && retries < KEY_CONFLICT_RETRIES => {
                    retries += 1;
                    look_up_until = Instant::now() + LOOK_UP_AFTER_CONFLICT;
                    metrics.ledger_batch_retried();
                }
                posted => break posted,
            }
        };
        match posted {
            Ok(results) => {
                metrics.ledger_batch(size, started.elapsed().as_secs_f64());
                for (job, result) in jobs.into_iter().zip(results) {
                    if let Ok(Outcome::Transaction(view)) = &result {
                        metrics.amount_moved(view.kind.as_str(), &view.currency, view.amount);
                    }
                    let _ = job.reply.send(result);
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
                    let _ = job.reply.send(Err(err));
                }
            }
        }
    }
}

/// How one job of a batch ended before the commit.
enum Slot {
    Done(Result<Outcome>),
    /// Same key and request as an earlier job of the batch: answered like it.
    SameAs(usize),
}

async fn post_batch(
    db: &Db,
    metrics: &Metrics,
    limits: DailyLimits,
    jobs: &[Job],
    look_up_keys: bool,
) -> Result<Vec<Result<Outcome>>> {
    let mut tx = db.hot(jobs.len() <= PREPARED_BATCH_MAX).await?;
    tx.prepare(store::BATCH_STATEMENTS)
        .await
        .db("preparing the ledger's statements")?;
    let tx = &tx;
    let ids: Vec<Uuid> = jobs
        .iter()
        .flat_map(|job| job.intent.wallets().map(|w| w.0))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: Vec<(Uuid, &str)> = if look_up_keys {
        jobs.iter()
            .filter_map(|job| job.key.as_ref().map(|k| (k.caller, k.key.as_str())))
            .collect()
    } else {
        Vec::new()
    };
    // Pipelined: the transaction starts and the three reads leave in one round trip, and the
    // server runs them in this order (`crate::db::hot`).
    let ((), locked, now, stored) = tokio::try_join!(
        async { tx.begin().await.db("starting a ledger batch") },
        metrics.query("wallet.lock_wallets", store::lock_wallets(tx, &ids)),
        store::transaction_time(tx),
        metrics.query(
            "wallet.idempotency_records",
            store::idempotency_records(tx, &keys),
        ),
    )?;
    let store::LockedWallets { mut states, rows } = locked;
    let before = states.clone();
    let today = now.to_offset(ALGIERS).date();

    let mut slots: Vec<Slot> = Vec::with_capacity(jobs.len());
    let mut first_with_key: BTreeMap<(Uuid, &str), usize> = BTreeMap::new();
    let mut transaction_ids: Vec<Option<Uuid>> = Vec::with_capacity(jobs.len());
    let mut all_entries = Vec::with_capacity(jobs.len());
    let mut currencies: Vec<String> = vec![String::new(); jobs.len()];
    let mut payments: Vec<store::NewPayment> = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        transaction_ids.push(None);
        all_entries.push(Vec::new());
        if let Some(key) = &job.key {
            if let Some(record) = stored.get(&(key.caller, key.key.clone())) {
                let slot = if record.request_hash == key.request_hash {
                    serde_json::from_slice::<Recorded>(&record.outcome)
                        .map_err(|e| Error::internal("reading an idempotency record", e))
                        .and_then(Recorded::into_result)
                } else {
                    Err(Error::IdempotencyKeyReused)
                };
                slots.push(Slot::Done(slot));
                continue;
            }
            if let Some(&earlier) = first_with_key.get(&(key.caller, key.key.as_str())) {
                let same = jobs[earlier]
                    .key
                    .as_ref()
                    .is_some_and(|k| k.request_hash == key.request_hash);
                slots.push(if same {
                    Slot::SameAs(earlier)
                } else {
                    Slot::Done(Err(Error::IdempotencyKeyReused))
                });
                continue;
            }
            first_with_key.insert((key.caller, key.key.as_str()), index);
        }
        if let Effect::SettleWithdrawal { id, .. } = &job.effect {
            let pending = store::withdrawal_by_id(tx.client(), *id, true)
                .await?
                .is_some_and(|(w, _)| w.status == crate::api::WithdrawalStatus::Pending);
            if !pending {
                slots.push(Slot::Done(Err(Error::WithdrawalSettled)));
                continue;
            }
        }
        if let Effect::SettleHold { id, status, .. } = &job.effect {
            // A hold past its deadline can no longer be captured, even before the sweep.
            let live = store::hold_by_id(tx.client(), *id, true)
                .await?
                .is_some_and(|h| {
                    h.status == crate::api::HoldStatus::Authorized
                        && (*status != "captured" || h.expires_at > now)
                });
            if !live {
                slots.push(Slot::Done(Err(Error::HoldSettled)));
                continue;
            }
        }
        if let Effect::SettleDeposit { deposit, .. } = &job.effect {
            let pending = store::deposit_by_id(tx.client(), *deposit, true)
                .await?
                .is_some_and(|(d, _)| d.status == DepositStatus::Pending);
            if !pending {
                slots.push(Slot::Done(Err(Error::DepositSettled("settled"))));
                continue;
            }
        }
        let mut refund_fee = None;
        let rewritten;
        let intent = if let Effect::Refund {
            payment,
            fee_revenue,
        } = &job.effect
        {
            let Some(locked) = store::payment_by_id(tx.client(), *payment, true).await? else {
                slots.push(Slot::Done(Err(Error::NotFound {
                    resource: "payment",
                })));
                continue;
            };
            let paid = locked.view;
            let refundable = paid.amount - paid.refunded;
            if job.intent.amount > refundable {
                slots.push(Slot::Done(Err(Error::RefundExceedsPayment { refundable })));
                continue;
            }
            let fee_back =
                super::fees::fee_refund(paid.fee, paid.amount, paid.refunded, job.intent.amount);
            let postings = [
                (paid.payer_wallet_id, job.intent.amount),
                (paid.merchant_wallet_id, -(job.intent.amount - fee_back)),
                (*fee_revenue, -fee_back),
            ];
            rewritten = Intent {
                postings: postings.into_iter().filter(|(_, a)| *a != 0).collect(),
                ..job.intent.clone()
            };
            refund_fee = Some((*payment, fee_back));
            &rewritten
        } else {
            &job.intent
        };
        match ledger::apply(&mut states, intent, limits, today) {
            Ok(ledger::Posted { entries, currency }) => {
                let id = Uuid::now_v7();
                if let Some((payment, fee_back)) = refund_fee {
                    store::record_refund(tx.client(), id, payment, job.intent.amount, fee_back)
                        .await?;
                }
                if let Effect::RecordPayment {
                    payer,
                    merchant,
                    fee,
                } = &job.effect
                {
                    payments.push(store::NewPayment {
                        id,
                        payer: payer.0,
                        merchant: merchant.0,
                        currency: currency.clone(),
                        amount: job.intent.amount,
                        fee: *fee,
                    });
                }
                if let Effect::SettleDeposit {
                    deposit,
                    provider_reference,
                } = &job.effect
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
                let outcome = match &job.effect {
                    Effect::CreateWithdrawal {
                        id: withdrawal,
                        rib,
                    } => {
                        let wallet = job.intent.holds.first().map(|(w, _)| *w);
                        let Some(wallet) = wallet else {
                            return Err(Error::internal("posting", "a withdrawal without a hold"));
                        };
                        store::insert_withdrawal(
                            tx.client(),
                            *withdrawal,
                            wallet,
                            job.intent.amount,
                            &currency,
                            rib,
                        )
                        .await?;
                        Outcome::Withdrawal(crate::api::WithdrawalView {
                            id: *withdrawal,
                            wallet_id: wallet,
                            amount: job.intent.amount,
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
                        let transaction = (!entries.is_empty()).then_some(TransactionId(id));
                        let view = store::settle_withdrawal(
                            tx.client(),
                            *withdrawal,
                            *completed,
                            transaction,
                        )
                        .await?
                        .ok_or_else(|| {
                            Error::internal("posting", "a locked withdrawal vanished")
                        })?;
                        Outcome::Withdrawal(view)
                    }
                    Effect::CreateHold(hold) => {
                        store::insert_hold(tx.client(), hold).await?;
                        Outcome::Hold(hold.clone())
                    }
                    Effect::SettleHold {
                        id: hold,
                        status,
                        captured,
                    } => {
                        let transaction = (!entries.is_empty()).then_some(TransactionId(id));
                        let view =
                            store::settle_hold(tx.client(), *hold, status, *captured, transaction)
                                .await?
                                .ok_or_else(|| {
                                    Error::internal("posting", "a locked hold vanished")
                                })?;
                        Outcome::Hold(view)
                    }
                    _ => Outcome::Transaction(TransactionView {
                        id: TransactionId(id),
                        kind: job.intent.kind,
                        currency: currency.clone(),
                        amount: job.intent.amount,
                        description: job.intent.description.clone(),
                        entries: entries.iter().map(ledger::Entry::view).collect(),
                        created_at: now,
                    }),
                };
                // A pure hold writes no transaction.
                if !entries.is_empty() {
                    transaction_ids[index] = Some(id);
                }
                all_entries[index] = entries;
                currencies[index] = currency;
                slots.push(Slot::Done(Ok(outcome)));
            }
            // Even a malformed operation (a bug) fails alone: the rest of the batch goes on.
            Err(err) => slots.push(Slot::Done(Err(err))),
        }
    }

    let new_transactions: Vec<NewTransaction<'_>> = jobs
        .iter()
        .enumerate()
        .filter_map(|(index, job)| {
            transaction_ids[index].map(|id| NewTransaction {
                id,
                kind: job.intent.kind,
                currency: &currencies[index],
                amount: job.intent.amount,
                description: job.intent.description.as_deref(),
                entries: &all_entries[index],
            })
        })
        .collect();
    let changed: Vec<_> = states
        .iter()
        .filter(|(id, state)| before.get(id) != Some(state))
        .map(|(id, state)| (*id, state))
        .collect();

    let mut records: Vec<(Uuid, &str, &[u8], Vec<u8>)> = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let (Some(key), Some(&first)) = (
            &job.key,
            job.key
                .as_ref()
                .and_then(|k| first_with_key.get(&(k.caller, k.key.as_str()))),
        ) else {
            continue;
        };
        if first != index {
            continue;
        }
        let Slot::Done(result) = &slots[index] else {
            continue;
        };
        let recorded = match result {
            Ok(outcome) => Recorded::Posted(outcome.clone()),
            // Rejections by the ledger's rules are part of the answer; failures are not.
            Err(err) if matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Internal) => {
                continue;
            }
            Err(err) => Recorded::Rejected {
                kind: err.kind(),
                code: err.code().to_owned(),
                message: err.public_message(),
            },
        };
        let bytes = serde_json::to_vec(&recorded)
            .map_err(|e| Error::internal("recording an idempotency key", e))?;
        records.push((key.caller, key.key.as_str(), &key.request_hash[..], bytes));
    }
    let records: Vec<(Uuid, &str, &[u8], &[u8])> = records
        .iter()
        .map(|(c, k, h, o)| (*c, *k, *h, o.as_slice()))
        .collect();
    // Pipelined: the writes and the commit leave together and the server runs them in order. If
    // a write fails, the server rolls the commit back and the write's error is returned.
    tokio::try_join!(
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
    )?;

    let mut results: Vec<Result<Outcome>> = Vec::with_capacity(slots.len());
    for slot in slots {
        let result = match slot {
            Slot::Done(result) => result,
            Slot::SameAs(earlier) => match &results[earlier] {
                Ok(outcome) => Ok(outcome.clone()),
                Err(err) => Err(Error::Replayed {
                    kind: err.kind(),
                    code: err.code().to_owned(),
                    message: err.public_message(),
                }),
            },
        };
        results.push(result);
    }
    Ok(results)
}
