//! The wallet's SQL: the only place it appears.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::ledger::{Entry, WalletState};
use crate::api::{
    DepositId, DepositMethod, DepositStatus, DepositView, EntryView, HistoryItem, TransactionId,
    TransactionKind, TransactionStatus, TransactionView, UserId, WalletId, WalletMismatch,
    WalletType, WalletView,
};
use crate::db::error::PgResultExt;
use crate::db::hot::{Hot, HotStatement};
use crate::error::{Error, Result};

/// The statements of a ledger batch, prepared once per connection when prepared statements are on
/// (`crate::db::hot`).
///
/// The lookup of idempotency keys calls a function (V14) that probes the primary key once per key
/// whatever the table's statistics: prepared as a plain join, it settled on a generic plan costed
/// with the table's size at the time, and on a young table that plan read every key (5,262
/// buffers per lookup of a few keys, measured while the table grew to 169,000 keys); planned
/// with its keys every time, it paid its planning on every batch.
pub(crate) const BATCH_STATEMENTS: &[HotStatement] = &[
    LOCK_WALLETS_OF_SMALL_BATCH,
    IDEMPOTENCY_RECORDS,
    CLOCK,
    INSERT_TRANSACTIONS,
    INSERT_ENTRIES,
    UPDATE_WALLETS,
    INSERT_IDEMPOTENCY_RECORDS,
    INSERT_PAYMENTS,
];

/// Locks a large batch's wallets, planned with its ids: how to read a few hundred wallets
/// depends on how many there are. `FOR NO KEY UPDATE`, as `ledger_lock_wallets()` (V21): the
/// batch updates balance columns only, so other batches over the wallet wait for it, and a
/// foreign-key check on the wallet (a deposit being opened) does not.
const LOCK_WALLETS: HotStatement = (
    "SELECT id, currency, posted, pending, may_go_negative, frozen, verification_level, \
            entry_count, outgoing_day, outgoing_minor, owner_id, ctid::text, number \
     FROM wallets WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    &[Type::UUID_ARRAY],
);

/// Locks a small batch's wallets through a function that keeps one plan per connection (V17), so
/// that a batch of a few operations is not planned again every time; the same columns as
/// [`LOCK_WALLETS`].
const LOCK_WALLETS_OF_SMALL_BATCH: HotStatement =
    ("SELECT * FROM ledger_lock_wallets($1)", &[Type::UUID_ARRAY]);

const CLOCK: HotStatement = ("SELECT clock_timestamp()", &[]);

const IDEMPOTENCY_RECORDS: HotStatement = (
    "SELECT * FROM idempotency_records($1, $2)",
    &[Type::UUID_ARRAY, Type::TEXT_ARRAY],
);

const INSERT_TRANSACTIONS: HotStatement = (
    "INSERT INTO ledger_transactions (id, kind, currency, amount, description, created_at) \
     SELECT u.id, u.kind::ledger_transaction_kind, u.currency, u.amount, u.description, $6 \
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[]) \
       AS u(id, kind, currency, amount, description)",
    &[
        Type::UUID_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
        Type::TIMESTAMPTZ,
    ],
);

const INSERT_ENTRIES: HotStatement = (
    "INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after) \
     SELECT * FROM unnest($1::int8[], $2::int8[], $3::uuid[], $4::int8[], $5::int8[])",
    &[
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::UUID_ARRAY,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
    ],
);

/// Writes the changed wallets where their lock found them (V15), checking that every one was
/// written.
const UPDATE_WALLETS: HotStatement = (
    "SELECT ledger_update_wallets($1, $2, $3, $4, $5, $6, $7)",
    &[
        Type::TEXT_ARRAY,
        Type::UUID_ARRAY,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::DATE_ARRAY,
        Type::INT8_ARRAY,
    ],
);

const INSERT_IDEMPOTENCY_RECORDS: HotStatement = (
    "INSERT INTO idempotency_keys (caller_id, key, request_hash, outcome) \
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[])",
    &[
        Type::UUID_ARRAY,
        Type::TEXT_ARRAY,
        Type::BYTEA_ARRAY,
        Type::BYTEA_ARRAY,
    ],
);

const INSERT_PAYMENTS: HotStatement = (
    "INSERT INTO payments (id, payer_wallet_id, merchant_wallet_id, currency, amount, fee) \
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int8[], $6::int8[])",
    &[
        Type::UUID_ARRAY,
        Type::UUID_ARRAY,
        Type::UUID_ARRAY,
        Type::TEXT_ARRAY,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
    ],
);

const WALLET_COLUMNS: &str =
    "id, owner_id, kind, currency, posted, pending, frozen, verification_level, created_at";

fn decode<T>(result: std::result::Result<T, tokio_postgres::Error>) -> Result<T> {
    result.map_err(|e| Error::internal("decoding a wallet row", e))
}

fn wallet_type(name: &str) -> Result<WalletType> {
    match name {
        "personal" => Ok(WalletType::Personal),
        "business" => Ok(WalletType::Business),
        "system" => Ok(WalletType::System),
        other => Err(Error::internal(
            "decoding a wallet row",
            format!("kind {other}"),
        )),
    }
}

fn wallet_from_row(row: &Row) -> Result<WalletView> {
    let posted: i64 = decode(row.try_get("posted"))?;
    let pending: i64 = decode(row.try_get("pending"))?;
    let owner: Option<Uuid> = decode(row.try_get("owner_id"))?;
    Ok(WalletView {
        id: WalletId(decode(row.try_get("id"))?),
        owner_id: owner.map(UserId),
        wallet_type: wallet_type(decode(row.try_get("kind"))?)?,
        currency: decode(row.try_get("currency"))?,
        posted,
        pending,
        available: posted - pending,
        frozen: decode(row.try_get("frozen"))?,
        verification_level: decode(row.try_get("verification_level"))?,
        created_at: decode(row.try_get("created_at"))?,
    })
}

pub(crate) async fn insert_wallet(
    client: &impl GenericClient,
    owner: UserId,
    kind: WalletType,
    currency: &str,
) -> Result<WalletView> {
    let id = Uuid::now_v7();
    let kind = match kind {
        WalletType::Personal => "personal",
        WalletType::Business => "business",
        WalletType::System => "system",
    };
    let row = client
        .query_typed_one(
            &format!(
                "INSERT INTO wallets (id, owner_id, kind, currency) VALUES ($1, $2, $3, $4) \
                 RETURNING {WALLET_COLUMNS}"
            ),
            &[
                (&id, Type::UUID),
                (&owner.0, Type::UUID),
                (&kind, Type::TEXT),
                (&currency, Type::TEXT),
            ],
        )
        .await
        .db("opening a wallet")?;
    wallet_from_row(&row)
}

pub(crate) async fn wallet_by_id(
    client: &impl GenericClient,
    id: WalletId,
) -> Result<Option<WalletView>> {
    let row = client
        .query_typed_opt(
            &format!("SELECT {WALLET_COLUMNS} FROM wallets WHERE id = $1"),
            &[(&id.0, Type::UUID)],
        )
        .await
        .db("reading a wallet")?;
    row.as_ref().map(wallet_from_row).transpose()
}

/// A payment's two wallets and the merchant's fee, in one statement: the payer's and the merchant's
/// wallet (`None` when unknown), and the fee configured for the merchant wallet's owner (`None`
/// when that owner has none of their own). Prepared once per connection when `prepared`: every
/// payment runs it, and before it was prepared a quarter of PostgreSQL's time under payments went
/// to parsing and planning (docs/PERFORMANCE.md, "The server's CPU per request, and payments'
/// reads").
pub(crate) async fn payment_parties(
    client: &deadpool_postgres::ClientWrapper,
    prepared: bool,
    payer: WalletId,
    merchant: WalletId,
) -> Result<(Option<WalletView>, Option<WalletView>, Option<i32>)> {
    // The fees as a subquery of two columns: a column `merchant_fees` may gain cannot clash with
    // the wallet's.
    let sql = format!(
        "SELECT {WALLET_COLUMNS}, f.fee_bps FROM wallets w \
         LEFT JOIN (SELECT merchant_id, fee_bps FROM merchant_fees) f ON f.merchant_id = w.owner_id \
         WHERE w.id IN ($1, $2)"
    );
    let params: [(&(dyn ToSql + Sync), Type); 2] =
        [(&payer.0, Type::UUID), (&merchant.0, Type::UUID)];
    let rows = crate::db::query_prepared(client, prepared, &sql, &params)
        .await
        .db("reading a payment's wallets")?;
    let (mut payer_wallet, mut merchant_wallet, mut fee) = (None, None, None);
    for row in &rows {
        let wallet = wallet_from_row(row)?;
        if wallet.id == merchant {
            fee = decode(row.try_get("fee_bps"))?;
            merchant_wallet = Some(wallet);
        } else if wallet.id == payer {
            payer_wallet = Some(wallet);
        }
    }
    Ok((payer_wallet, merchant_wallet, fee))
}

pub(crate) async fn wallets_of_owner(
    client: &impl GenericClient,
    owner: UserId,
) -> Result<Vec<WalletView>> {
    let rows = client
        .query_typed(
            &format!(
                "SELECT {WALLET_COLUMNS} FROM wallets WHERE owner_id = $1 ORDER BY created_at"
            ),
            &[(&owner.0, Type::UUID)],
        )
        .await
        .db("listing wallets")?;
    rows.iter().map(wallet_from_row).collect()
}

/// The system account with `role` in `currency`.
pub(crate) async fn system_wallet(
    client: &impl GenericClient,
    role: &str,
    currency: &str,
) -> Result<Option<WalletId>> {
    let row = client
        .query_typed_opt(
            "SELECT id FROM wallets WHERE kind = 'system' AND system_role = $1 AND currency = $2",
            &[(&role, Type::TEXT), (&currency, Type::TEXT)],
        )
        .await
        .db("finding a system account")?;
    Ok(row.map(|r| WalletId(r.get(0))))
}

/// The wallets a batch locked: their states, and each one's row.
pub(crate) struct LockedWallets {
    pub(crate) states: BTreeMap<WalletId, WalletState>,
    pub(crate) rows: BTreeMap<WalletId, LockedRow>,
}

/// Where a locked wallet is, for the batch's writes.
pub(crate) struct LockedRow {
    /// The row's address (`ctid`, as text), where [`update_wallets`] writes the wallet back
    /// without looking it up again.
    pub(crate) address: String,
    /// The wallet's number (`wallets.number`), which its entries carry instead of its id (V16).
    pub(crate) number: i64,
}

fn locked_row<'a>(
    rows: &'a BTreeMap<WalletId, LockedRow>,
    wallet: WalletId,
    context: &'static str,
) -> Result<&'a LockedRow> {
    rows.get(&wallet)
        .ok_or_else(|| Error::internal(context, format!("wallet {} was not locked", wallet.0)))
}

/// Locks `ids` (sorted, so concurrent batches always lock in the same order and cannot deadlock)
/// and returns their states; unknown ids are simply absent. `small` says the batch is small
/// enough for the plan kept per connection.
pub(crate) async fn lock_wallets(client: &Hot, ids: &[Uuid], small: bool) -> Result<LockedWallets> {
    let statement = if small {
        LOCK_WALLETS_OF_SMALL_BATCH
    } else {
        LOCK_WALLETS
    };
    let rows = client
        .query(statement.0, &[(&ids, Type::UUID_ARRAY)])
        .await
        .db("locking wallets")?;
    let mut locked = LockedWallets {
        states: BTreeMap::new(),
        rows: BTreeMap::new(),
    };
    for row in &rows {
        let id = WalletId(decode(row.try_get(0))?);
        let state = WalletState {
            owner: decode(row.try_get(10))?,
            currency: decode(row.try_get(1))?,
            posted: decode(row.try_get(2))?,
            pending: decode(row.try_get(3))?,
            may_go_negative: decode(row.try_get(4))?,
            frozen: decode(row.try_get(5))?,
            verification_level: decode(row.try_get(6))?,
            entry_count: decode(row.try_get(7))?,
            outgoing_day: decode(row.try_get::<_, Option<Date>>(8))?,
            outgoing_minor: decode(row.try_get(9))?,
        };
        locked.states.insert(id, state);
        let row = LockedRow {
            address: decode(row.try_get(11))?,
            number: decode(row.try_get(12))?,
        };
        locked.rows.insert(id, row);
    }
    Ok(locked)
}

/// The batch's posting time: every row of a batch carries it. Read after [`lock_wallets`] on the
/// same connection (the server runs pipelined statements in order), so it is taken while the batch
/// holds its wallets' locks: within a wallet, a later entry never has an earlier time, which the
/// binary search of `ledger_seq_before` (migration V8) relies on.
pub(crate) async fn transaction_time(client: &Hot) -> Result<OffsetDateTime> {
    let rows = client.query(CLOCK.0, &[]).await.db("reading the clock")?;
    let row = rows
        .first()
        .ok_or_else(|| Error::internal("reading the clock", "no row"))?;
    decode(row.try_get(0))
}

/// A posted transaction, ready to write.
pub(crate) struct NewTransaction<'a> {
    pub(crate) id: Uuid,
    pub(crate) kind: TransactionKind,
    pub(crate) currency: &'a str,
    pub(crate) amount: i64,
    pub(crate) description: Option<&'a str>,
    pub(crate) entries: &'a [Entry],
}

/// Writes transactions and their entries with two set-based statements, whatever their number.
/// Every entry's wallet is one of `rows` (from [`lock_wallets`] in the same transaction).
pub(crate) async fn insert_postings(
    client: &Hot,
    transactions: &[NewTransaction<'_>],
    rows: &BTreeMap<WalletId, LockedRow>,
    posted_at: OffsetDateTime,
) -> Result<()> {
    if transactions.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = transactions.iter().map(|t| t.id).collect();
    let kinds: Vec<&str> = transactions.iter().map(|t| t.kind.as_str()).collect();
    let currencies: Vec<&str> = transactions.iter().map(|t| t.currency).collect();
    let amounts: Vec<i64> = transactions.iter().map(|t| t.amount).collect();
    let descriptions: Vec<Option<&str>> = transactions.iter().map(|t| t.description).collect();
    let transaction_params: [(&(dyn ToSql + Sync), Type); 6] = [
        (&ids, Type::UUID_ARRAY),
        (&kinds, Type::TEXT_ARRAY),
        (&currencies, Type::TEXT_ARRAY),
        (&amounts, Type::INT8_ARRAY),
        (&descriptions, Type::TEXT_ARRAY),
        (&posted_at, Type::TIMESTAMPTZ),
    ];
    let transactions_written = client.query(INSERT_TRANSACTIONS.0, &transaction_params);
    let entries = transactions
        .iter()
        .flat_map(|t| t.entries.iter().map(move |e| (t.id, e)));
    let (mut wallets, mut seqs, mut txns, mut entry_amounts, mut balances) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (txn, entry) in entries {
        wallets.push(locked_row(rows, entry.wallet_id, "writing entries")?.number);
        seqs.push(entry.seq);
        txns.push(txn);
        entry_amounts.push(entry.amount);
        balances.push(entry.balance_after);
    }
    let entry_params: [(&(dyn ToSql + Sync), Type); 5] = [
        (&wallets, Type::INT8_ARRAY),
        (&seqs, Type::INT8_ARRAY),
        (&txns, Type::UUID_ARRAY),
        (&entry_amounts, Type::INT8_ARRAY),
        (&balances, Type::INT8_ARRAY),
    ];
    let entries_written = client.query(INSERT_ENTRIES.0, &entry_params);
    // Pipelined: both statements leave in one round trip, and the server runs them in order, so
    // the check of the entries (migration V13) finds their transactions.
    let (transactions, entries) = tokio::join!(transactions_written, entries_written);
    transactions.db("writing transactions")?;
    entries.db("writing entries")?;
    Ok(())
}

/// Writes the new states of the wallets a batch changed, in one statement, at the addresses their
/// lock returned (`rows`, from [`lock_wallets`] in the same transaction).
///
/// The addresses hold only because nothing else in a batch writes a wallet row: an effect that
/// did would move the row, and this statement would then fail the whole batch (V15 raises rather
/// than leave a balance unwritten). Such a change belongs in the wallet's state, written here.
pub(crate) async fn update_wallets(
    client: &Hot,
    rows: &BTreeMap<WalletId, LockedRow>,
    states: &[(WalletId, &WalletState)],
) -> Result<()> {
    if states.is_empty() {
        return Ok(());
    }
    let addresses = states
        .iter()
        .map(|(id, _)| Ok(locked_row(rows, *id, "updating balances")?.address.as_str()))
        .collect::<Result<Vec<&str>>>()?;
    let ids: Vec<Uuid> = states.iter().map(|(id, _)| id.0).collect();
    let posted: Vec<i64> = states.iter().map(|(_, s)| s.posted).collect();
    let pending: Vec<i64> = states.iter().map(|(_, s)| s.pending).collect();
    let counts: Vec<i64> = states.iter().map(|(_, s)| s.entry_count).collect();
    let days: Vec<Option<Date>> = states.iter().map(|(_, s)| s.outgoing_day).collect();
    let outgoing: Vec<i64> = states.iter().map(|(_, s)| s.outgoing_minor).collect();
    client
        .query(
            UPDATE_WALLETS.0,
            &[
                (&addresses, Type::TEXT_ARRAY),
                (&ids, Type::UUID_ARRAY),
                (&posted, Type::INT8_ARRAY),
                (&pending, Type::INT8_ARRAY),
                (&counts, Type::INT8_ARRAY),
                (&days, Type::DATE_ARRAY),
                (&outgoing, Type::INT8_ARRAY),
            ],
        )
        .await
        .db("updating balances")?;
    Ok(())
}

/// A stored idempotency record.
pub(crate) struct StoredKey {
    pub(crate) request_hash: Vec<u8>,
    pub(crate) outcome: Vec<u8>,
}

/// The records of `(caller, key)` pairs that exist.
pub(crate) async fn idempotency_records(
    client: &Hot,
    keys: &[(Uuid, &str)],
) -> Result<BTreeMap<(Uuid, String), StoredKey>> {
    if keys.is_empty() {
        return Ok(BTreeMap::new());
    }
    let callers: Vec<Uuid> = keys.iter().map(|(c, _)| *c).collect();
    let names: Vec<&str> = keys.iter().map(|(_, k)| *k).collect();
    let rows = client
        .query(
            IDEMPOTENCY_RECORDS.0,
            &[(&callers, Type::UUID_ARRAY), (&names, Type::TEXT_ARRAY)],
        )
        .await
        .db("reading idempotency keys")?;
    Ok(rows
        .iter()
        .map(|row| {
            (
                (row.get(0), row.get::<_, String>(1)),
                StoredKey {
                    request_hash: row.get(2),
                    outcome: row.get(3),
                },
            )
        })
        .collect())
}

/// The record of one `(caller, key)`, read outside any batch, by the batches' own function.
pub(crate) async fn idempotency_record(
    client: &impl GenericClient,
    caller: Uuid,
    key: &str,
) -> Result<Option<StoredKey>> {
    let row = client
        .query_typed_opt(
            "SELECT request_hash, outcome FROM idempotency_records(ARRAY[$1], ARRAY[$2])",
            &[(&caller, Type::UUID), (&key, Type::TEXT)],
        )
        .await
        .db("reading an idempotency key")?;
    Ok(row.map(|row| StoredKey {
        request_hash: row.get(0),
        outcome: row.get(1),
    }))
}

/// An idempotency key the batch was about to record had been recorded by another batch (of another
/// instance, or committed after this batch looked its keys up, or not looked up at all): the
/// statement failed and the transaction is aborted; the batch is to be posted again, looking its
/// keys up. Carried as the source of an [`Error::Unavailable`], so that if it ever reached a
/// caller it would say "retry", which is safe with the same key.
#[derive(Debug, thiserror::Error)]
#[error("an idempotency key was recorded by another batch meanwhile")]
pub(crate) struct KeyTaken;

/// Whether `err` is [`KeyTaken`].
pub(crate) fn is_key_taken(err: &Error) -> bool {
    matches!(err, Error::Unavailable(source) if source.is::<KeyTaken>())
}

/// Whether any of `keys` is recorded for `caller`.
pub(crate) async fn idempotency_keys_exist(
    client: &impl GenericClient,
    caller: Uuid,
    keys: &[String],
) -> Result<bool> {
    let rows = client
        .query_typed(
            "SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE caller_id = $1 AND key = ANY($2))",
            &[(&caller, Type::UUID), (&keys, Type::TEXT_ARRAY)],
        )
        .await
        .db("looking idempotency keys up")?;
    Ok(rows.first().is_some_and(|row| row.get(0)))
}

/// Records outcomes under their keys, in one statement, in (caller, key) order (so that two
/// batches recording the same keys wait for each other in the same order, never in a cycle; the
/// order the builds before V20 used too, so that two builds side by side agree on it).
///
/// # Errors
///
/// [`KeyTaken`] (see [`is_key_taken`]) when one of the keys is already recorded.
pub(crate) async fn insert_idempotency_records(
    client: &Hot,
    records: &[(Uuid, &str, &[u8], &[u8])],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_unstable_by_key(|&i| (records[i].0, records[i].1));
    let callers: Vec<Uuid> = order.iter().map(|&i| records[i].0).collect();
    let keys: Vec<&str> = order.iter().map(|&i| records[i].1).collect();
    let hashes: Vec<&[u8]> = order.iter().map(|&i| records[i].2).collect();
    let outcomes: Vec<&[u8]> = order.iter().map(|&i| records[i].3).collect();
    let inserted = client
        .query(
            INSERT_IDEMPOTENCY_RECORDS.0,
            &[
                (&callers, Type::UUID_ARRAY),
                (&keys, Type::TEXT_ARRAY),
                (&hashes, Type::BYTEA_ARRAY),
                (&outcomes, Type::BYTEA_ARRAY),
            ],
        )
        .await;
    match inserted {
        Err(err)
            if err
                .as_db_error()
                .is_some_and(|db| db.constraint() == Some("idempotency_keys_pkey")) =>
        {
            Err(Error::Unavailable(Box::new(KeyTaken)))
        }
        other => other.map(drop).db("recording idempotency keys"),
    }
}

/// Deletes idempotency records older than `keep_secs`.
pub(crate) async fn purge_idempotency(client: &impl GenericClient, keep_secs: f64) -> Result<u64> {
    let rows = client
        .query_typed(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) RETURNING 1",
            &[(&keep_secs, Type::FLOAT8)],
        )
        .await
        .db("purging idempotency keys")?;
    Ok(rows.len() as u64)
}

fn transaction_kind(name: &str) -> Result<TransactionKind> {
    TransactionKind::from_name(name)
        .ok_or_else(|| Error::internal("decoding a transaction", format!("kind {name}")))
}

/// One transaction with its entries.
pub(crate) async fn transaction_by_id(
    client: &impl GenericClient,
    id: TransactionId,
) -> Result<Option<TransactionView>> {
    Ok(transactions_by_ids(client, &[id]).await?.remove(&id))
}

/// Whether [`transactions_by_ids`] reads `view` back exactly as it is: it has entries, and they
/// are in the order that read gives them (by amount, then wallet id). A transfer's are (payer
/// first); a merchant payment's, with its fee after the merchant's credit, are not.
pub(crate) fn reads_back_whole(view: &TransactionView) -> bool {
    !view.entries.is_empty()
        && view.entries.iter().all(|e| e.balance_after.is_some())
        && view.entries.is_sorted_by_key(|e| (e.amount, e.wallet_id))
}

/// Transactions with their entries (debits first, as they are posted), by id; unknown ids are
/// left out. The entries are found through their BRIN index on the transaction id, within the
/// range of the ids asked for: ids are time-ordered (UUIDv7), so the transactions of one batch
/// lie in a few of its ranges. The ids filter the entries, and each entry then finds its
/// transaction by primary key: filtering the transactions instead left the planner comparing
/// every transaction with every entry of the range (1.2 s for 2,000 ids against 93 ms).
pub(crate) async fn transactions_by_ids(
    client: &impl GenericClient,
    ids: &[TransactionId],
) -> Result<BTreeMap<TransactionId, TransactionView>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    let rows = client
        .query_typed(
            "SELECT t.id, t.kind::text, t.currency, t.amount, t.description, t.created_at, \
                    w.id, e.amount, e.balance_after \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
               JOIN wallets w ON w.number = e.wallet_number \
             WHERE e.transaction_id = ANY($1) AND e.transaction_id BETWEEN $2 AND $3 \
             ORDER BY t.id, e.amount, w.id",
            &[
                (&ids, Type::UUID_ARRAY),
                (first, Type::UUID),
                (last, Type::UUID),
            ],
        )
        .await
        .db("reading transactions")?;
    let mut views: BTreeMap<TransactionId, TransactionView> = BTreeMap::new();
    for row in &rows {
        let id = TransactionId(row.get(0));
        let entry = EntryView {
            wallet_id: WalletId(row.get(6)),
            amount: row.get(7),
            balance_after: Some(row.get(8)),
        };
        if let Some(view) = views.get_mut(&id) {
            view.entries.push(entry);
            continue;
        }
        views.insert(
            id,
            TransactionView {
                id,
                kind: transaction_kind(row.get(1))?,
                currency: row.get(2),
                amount: row.get(3),
                description: row.get(4),
                created_at: row.get(5),
                entries: vec![entry],
            },
        );
    }
    Ok(views)
}

/// Filters of a history page.
#[derive(Clone, Copy)]
pub(crate) struct HistoryFilter<'a> {
    pub(crate) before_seq: Option<i64>,
    pub(crate) kind: Option<&'a str>,
    pub(crate) from: Option<OffsetDateTime>,
    pub(crate) to: Option<OffsetDateTime>,
    pub(crate) limit: i64,
}

/// A page of a wallet's history: `$1` wallet, `$2` before this `seq`, `$3` kind, `$4`/`$5` the
/// time range, `$6` the limit. Times bound the `seq` range by binary search (`ledger_seq_before`,
/// migrations V8 and V16); the `created_at` conditions stay as the exact test. The wallet's number
/// is looked up in scalar subqueries, each run once before the scan, so the scan walks the
/// `(wallet_number, seq)` key backwards from a constant and needs no sort (a join with `wallets`
/// would sort every entry of the wallet before the limit).
pub(crate) const HISTORY_SQL: &str = "SELECT e.seq, t.id, t.kind::text, t.currency, t.amount, t.description, t.created_at, \
                    e.amount, e.balance_after \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_number = (SELECT number FROM wallets WHERE id = $1) \
               AND e.seq < LEAST(coalesce($2::int8, 9223372036854775807), \
                     CASE WHEN $5::timestamptz IS NULL THEN 9223372036854775807 \
                          ELSE ledger_seq_before((SELECT number FROM wallets WHERE id = $1), $5) + 1 \
                     END) \
               AND e.seq > CASE WHEN $4::timestamptz IS NULL THEN 0 \
                                ELSE ledger_seq_before((SELECT number FROM wallets WHERE id = $1), $4) \
                           END \
               AND ($3::text IS NULL OR t.kind::text = $3) \
               AND ($4::timestamptz IS NULL OR t.created_at >= $4) \
               AND ($5::timestamptz IS NULL OR t.created_at < $5) \
             ORDER BY e.seq DESC LIMIT $6";

/// A wallet's posted balance at `$2`: the `balance_after` of its last entry at or before it.
pub(crate) const BALANCE_AT_SQL: &str = "SELECT e.balance_after FROM ledger_entries e \
             WHERE e.wallet_number = (SELECT number FROM wallets WHERE id = $1) \
               AND e.seq = ledger_seq_before((SELECT number FROM wallets WHERE id = $1), \
                                             $2 + interval '1 microsecond')";

/// A wallet's entries newest first, walking its `(wallet_number, seq)` key from a cursor, with the
/// transactions they belong to. Returns `(seq, line)` pairs.
pub(crate) async fn history(
    client: &impl GenericClient,
    wallet: WalletId,
    filter: &HistoryFilter<'_>,
) -> Result<Vec<(i64, HistoryItem)>> {
    let rows = client
        .query_typed(
            HISTORY_SQL,
            &[
                (&wallet.0, Type::UUID),
                (&filter.before_seq, Type::INT8),
                (&filter.kind, Type::TEXT),
                (&filter.from, Type::TIMESTAMPTZ),
                (&filter.to, Type::TIMESTAMPTZ),
                (&filter.limit, Type::INT8),
            ],
        )
        .await
        .db("reading a wallet's history")?;
    rows.iter()
        .map(|r| {
            Ok((
                r.get(0),
                HistoryItem {
                    id: r.get(1),
                    kind: transaction_kind(r.get(2))?,
                    status: TransactionStatus::Posted,
                    currency: r.get(3),
                    amount: r.get(4),
                    description: r.get(5),
                    created_at: r.get(6),
                    entries: vec![EntryView {
                        wallet_id: wallet,
                        amount: r.get(7),
                        balance_after: Some(r.get(8)),
                    }],
                },
            ))
        })
        .collect()
}

/// Filters of a history page that lists lines not posted: the posted entries' (used when the
/// page has both), `after`, the last line not posted of the previous page, `(created_at, id)`,
/// and `statuses`, the line statuses to list (`pending`, `failed`, `voided`).
pub(crate) struct LinesFilter<'a> {
    pub(crate) posted: HistoryFilter<'a>,
    pub(crate) after: Option<(OffsetDateTime, Uuid)>,
    pub(crate) statuses: &'a [&'a str],
}

/// One arm of [`UNPOSTED_SQL`]: `$table`'s rows of the wallet in `$wallet_column` whose own
/// status makes lines in `$line_status` (`$condition`, written out so that the planner matches
/// the arm with its V23 partial index, which holds those rows alone), as lines of kind `$kind`
/// moving `$sign` their amount, with `$detail` for the line's description (the deposit's method,
/// the withdrawal's RIB's last four digits, the hold's id). An arm whose status is not asked is
/// cut at planning (`'pending' = ANY($9)` is a constant once the statement has its values).
macro_rules! unposted_arm {
    (
        $table:literal,
        $wallet_column:literal,
        $condition:literal,
        $line_status:literal,
        $kind:literal,
        $sign:literal,
        $detail:literal
    ) => {
        concat!(
            "(SELECT NULL::int8 AS seq, id, '", $kind, "'::text AS kind, '", $line_status,
            "'::text AS status, currency, amount, ", $sign, "amount AS entry, created_at, ",
            $detail, "::text AS detail \
                FROM ", $table, " \
               WHERE ", $wallet_column, " = $1 AND ", $condition, " \
                 AND '", $line_status, "' = ANY($9) AND ($3::text IS NULL OR $3 = '", $kind, "') \
                 AND ($7::timestamptz IS NULL OR (created_at <= $7 AND (created_at, id) < ($7, $8))) \
                 AND ($4::timestamptz IS NULL OR created_at >= $4) \
                 AND ($5::timestamptz IS NULL OR created_at < $5) \
               ORDER BY created_at DESC, id DESC LIMIT $6)"
        )
    };
}

/// The deposits, withdrawals and holds of a wallet that are not posted, newest first, in the
/// row shape of [`LINES_SQL`] (no `seq`; for description, what the line's is made of): `$1`
/// wallet, `$3` kind, `$4`/`$5` the time range, `$6` the limit, `$7`/`$8` the
/// `(created_at, id)` to start after, `$9` the line statuses (`$2`, the posted entries' cursor,
/// is not used). Each arm walks one of V23's partial indexes backwards, which holds only the rows
/// of its status, and stops at the limit, however many rows of the wallet are in other statuses.
/// A hold never has the same payer and payee wallet, so no hold is listed twice.
pub(crate) const UNPOSTED_SQL: &str = concat!(
    "SELECT seq, id, kind, status, currency, amount, detail, created_at, entry, NULL::int8 FROM (",
    unposted_arm!(
        "deposits",
        "wallet_id",
        "status = 'pending'",
        "pending",
        "deposit",
        "",
        "method"
    ),
    " UNION ALL ",
    unposted_arm!(
        "deposits",
        "wallet_id",
        "status = 'failed'",
        "failed",
        "deposit",
        "",
        "method"
    ),
    " UNION ALL ",
    unposted_arm!(
        "withdrawals",
        "wallet_id",
        "status = 'pending'",
        "pending",
        "withdrawal_completion",
        "-",
        "right(rib, 4)"
    ),
    " UNION ALL ",
    unposted_arm!(
        "withdrawals",
        "wallet_id",
        "status = 'failed'",
        "failed",
        "withdrawal_completion",
        "-",
        "right(rib, 4)"
    ),
    " UNION ALL ",
    unposted_arm!(
        "holds",
        "payer_wallet_id",
        "status = 'authorized'",
        "pending",
        "hold_capture",
        "-",
        "id"
    ),
    " UNION ALL ",
    unposted_arm!(
        "holds",
        "payer_wallet_id",
        "status IN ('voided', 'expired')",
        "voided",
        "hold_capture",
        "-",
        "id"
    ),
    " UNION ALL ",
    unposted_arm!(
        "holds",
        "payee_wallet_id",
        "status = 'authorized'",
        "pending",
        "hold_capture",
        "",
        "id"
    ),
    " UNION ALL ",
    unposted_arm!(
        "holds",
        "payee_wallet_id",
        "status IN ('voided', 'expired')",
        "voided",
        "hold_capture",
        "",
        "id"
    ),
    ") lines ORDER BY created_at DESC, id DESC LIMIT $6"
);

/// A page of every line of a wallet's history, in one statement so that both sequences are read
/// in one snapshot (a deposit confirmed meanwhile is either still pending or already posted,
/// never neither): the posted entries as [`HISTORY_SQL`] reads them, then [`UNPOSTED_SQL`]. Rows:
/// `seq` (posted only), id, kind, line status, currency, amount, description, time, the wallet's
/// amount, `balance_after` (posted only). Parameters as [`UNPOSTED_SQL`], with `$2` the posted
/// entries' cursor.
pub(crate) static LINES_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT p.seq, p.id, p.kind, 'posted', p.currency, p.amount, p.description, p.created_at, \
                p.entry, p.balance_after \
           FROM ({HISTORY_SQL}) AS p(seq, id, kind, currency, amount, description, created_at, \
                                     entry, balance_after) \
         UNION ALL ({UNPOSTED_SQL})"
    )
});

/// A page's lines read by [`UNPOSTED_SQL`] or [`LINES_SQL`]: the posted ones with their `seq`,
/// and the others, each newest first.
pub(crate) async fn history_lines(
    client: &impl GenericClient,
    wallet: WalletId,
    filter: &LinesFilter<'_>,
    with_posted: bool,
) -> Result<(Vec<(i64, HistoryItem)>, Vec<HistoryItem>)> {
    let (after_time, after_id) = filter.after.unzip();
    let posted = &filter.posted;
    let statement = if with_posted {
        LINES_SQL.as_str()
    } else {
        UNPOSTED_SQL
    };
    let rows = client
        .query_typed(
            statement,
            &[
                (&wallet.0, Type::UUID),
                (&posted.before_seq, Type::INT8),
                (&posted.kind, Type::TEXT),
                (&posted.from, Type::TIMESTAMPTZ),
                (&posted.to, Type::TIMESTAMPTZ),
                (&posted.limit, Type::INT8),
                (&after_time, Type::TIMESTAMPTZ),
                (&after_id, Type::UUID),
                (&filter.statuses, Type::TEXT_ARRAY),
            ],
        )
        .await
        .db("reading a wallet's history")?;
    let (mut with_seq, mut others) = (Vec::new(), Vec::new());
    for r in &rows {
        let status: &str = r.get(3);
        let status = TransactionStatus::from_name(status).ok_or_else(|| {
            Error::internal("reading a wallet's history", format!("status {status}"))
        })?;
        let balance_after: Option<i64> = r.get(9);
        let seq: Option<i64> = r.get(0);
        let kind = transaction_kind(r.get(2))?;
        let description: Option<String> = r.get(6);
        // A line not posted is described as the transaction it posts will be.
        let description = match (seq, description) {
            (Some(_), posted) => posted,
            (None, None) => None,
            (None, Some(detail)) => Some(match kind {
                TransactionKind::Deposit => super::history::deposit_description(&detail),
                TransactionKind::WithdrawalCompletion => {
                    super::history::payout_description(&super::rib::mask(&detail))
                }
                _ => super::history::capture_description(&detail),
            }),
        };
        let line = HistoryItem {
            id: r.get(1),
            kind,
            status,
            currency: r.get(4),
            amount: r.get(5),
            description,
            entries: vec![EntryView {
                wallet_id: wallet,
                amount: r.get(8),
                balance_after,
            }],
            created_at: r.get(7),
        };
        match seq {
            Some(seq) => with_seq.push((seq, line)),
            None => others.push(line),
        }
    }
    // Each half comes newest first from its statement; sorted again here, since a union does
    // not promise to keep its parts' order (a few hundred lines at most).
    with_seq.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    others.sort_by_key(|line| std::cmp::Reverse((line.created_at, line.id)));
    Ok((with_seq, others))
}

fn deposit_from_row(row: &Row) -> Result<DepositView> {
    let method = match row.get::<_, &str>("method") {
        "cib" => DepositMethod::Cib,
        "edahabia" => DepositMethod::Edahabia,
        "baridimob" => DepositMethod::Baridimob,
        _ => DepositMethod::BankTransfer,
    };
    let status = match row.get::<_, &str>("status") {
        "succeeded" => DepositStatus::Succeeded,
        "failed" => DepositStatus::Failed,
        _ => DepositStatus::Pending,
    };
    Ok(DepositView {
        id: DepositId(row.get("id")),
        wallet_id: WalletId(row.get("wallet_id")),
        amount: row.get("amount"),
        currency: row.get("currency"),
        method,
        reference: row.get("reference"),
        status,
        provider_reference: row.get("provider_reference"),
        transaction_id: row
            .get::<_, Option<Uuid>>("transaction_id")
            .map(TransactionId),
        created_at: row.get("created_at"),
    })
}

const DEPOSIT_COLUMNS: &str = "id, wallet_id, owner_id, amount, currency, method, reference, status, \
                               provider_reference, transaction_id, created_at";

pub(crate) async fn insert_deposit(
    client: &impl GenericClient,
    owner: UserId,
    wallet: &WalletView,
    amount: i64,
    method: DepositMethod,
    reference: Option<&str>,
) -> Result<DepositView> {
    let id = Uuid::now_v7();
    let method = method.as_str();
    let row = client
        .query_typed_one(
            &format!(
                "INSERT INTO deposits (id, wallet_id, owner_id, amount, currency, method, reference) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {DEPOSIT_COLUMNS}"
            ),
            &[
                (&id, Type::UUID),
                (&wallet.id.0, Type::UUID),
                (&owner.0, Type::UUID),
                (&amount, Type::INT8),
                (&wallet.currency, Type::TEXT),
                (&method, Type::TEXT),
                (&reference, Type::TEXT),
            ],
        )
        .await
        .db("recording a deposit")?;
    deposit_from_row(&row)
}

pub(crate) async fn deposit_by_id(
    client: &impl GenericClient,
    id: DepositId,
    lock: bool,
) -> Result<Option<(DepositView, UserId)>> {
    let sql = format!(
        "SELECT {DEPOSIT_COLUMNS} FROM deposits WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = client
        .query_typed_opt(&sql, &[(&id.0, Type::UUID)])
        .await
        .db("reading a deposit")?;
    row.map(|row| Ok((deposit_from_row(&row)?, UserId(row.get("owner_id")))))
        .transpose()
}

/// Settles a pending deposit; `false` when it was no longer pending.
pub(crate) async fn settle_deposit(
    client: &impl GenericClient,
    id: DepositId,
    status: DepositStatus,
    provider_reference: &str,
    transaction: Option<TransactionId>,
) -> Result<bool> {
    let status = match status {
        DepositStatus::Succeeded => "succeeded",
        DepositStatus::Failed => "failed",
        DepositStatus::Pending => "pending",
    };
    let transaction = transaction.map(|t| t.0);
    let rows = client
        .query_typed(
            "UPDATE deposits SET status = $2, provider_reference = $3, transaction_id = $4, \
               updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING 1",
            &[
                (&id.0, Type::UUID),
                (&status, Type::TEXT),
                (&provider_reference, Type::TEXT),
                (&transaction, Type::UUID),
            ],
        )
        .await
        .db("settling a deposit")?;
    Ok(!rows.is_empty())
}

/// Transactions whose entries do not sum to zero or are fewer than two, or name a wallet number no
/// wallet has, and entries naming a transaction that does not exist (listed under that id); and
/// how many transactions were checked. (No key ties an entry to its wallet: the write path takes
/// the numbers from the wallets it has locked, and a per-entry check would cost every posting.)
pub(crate) async fn unbalanced_transactions(
    client: &impl GenericClient,
) -> Result<(Vec<TransactionId>, i64)> {
    let rows = client
        .query_typed(
            "SELECT coalesce(t.id, e.transaction_id), coalesce(sum(e.amount), 0)::int8 AS total, \
                    count(e.*) AS entries, bool_or(t.id IS NULL) AS orphaned, \
                    sum((NOT bool_or(t.id IS NULL))::int4) OVER ()::int8 AS checked, \
                    coalesce(bool_or(e.wallet_number IS NOT NULL AND w.number IS NULL), false) \
                      AS walletless \
             FROM ledger_transactions t FULL JOIN ledger_entries e ON e.transaction_id = t.id \
               LEFT JOIN wallets w ON w.number = e.wallet_number \
             GROUP BY coalesce(t.id, e.transaction_id)",
            &[],
        )
        .await
        .db("checking transactions")?;
    let checked = rows.first().map_or(0, |r| r.get::<_, i64>(4));
    let unbalanced = rows
        .iter()
        .filter(|r| {
            r.get::<_, i64>(1) != 0
                || r.get::<_, i64>(2) < 2
                || r.get::<_, bool>(3)
                || r.get::<_, bool>(5)
        })
        .map(|r| TransactionId(r.get(0)))
        .collect();
    Ok((unbalanced, checked))
}

/// Wallets whose stored balance differs from their entries, and how many were checked.
pub(crate) async fn mismatched_wallets(
    client: &impl GenericClient,
) -> Result<(Vec<WalletMismatch>, i64)> {
    let rows = client
        .query_typed(
            "SELECT w.id, w.posted, coalesce(e.total, 0)::int8, coalesce(e.last_balance, 0)::int8, \
                    w.entry_count, coalesce(e.entries, 0)::int8, count(*) OVER () \
             FROM wallets w LEFT JOIN ( \
               SELECT wallet_number, sum(amount) AS total, count(*) AS entries, \
                      (array_agg(balance_after ORDER BY seq DESC))[1] AS last_balance \
               FROM ledger_entries GROUP BY wallet_number) e ON e.wallet_number = w.number",
            &[],
        )
        .await
        .db("checking balances")?;
    let checked = rows.first().map_or(0, |r| r.get::<_, i64>(6));
    let mismatched = rows
        .iter()
        .filter(|r| {
            let stored: i64 = r.get(1);
            let total: i64 = r.get(2);
            let last: i64 = r.get(3);
            let count: i64 = r.get(4);
            let entries: i64 = r.get(5);
            stored != total || (entries > 0 && last != stored) || count != entries
        })
        .map(|r| WalletMismatch {
            wallet_id: WalletId(r.get(0)),
            stored: r.get(1),
            from_entries: r.get(2),
        })
        .collect();
    Ok((mismatched, checked))
}

/// Currencies whose wallets do not sum to zero.
pub(crate) async fn unbalanced_currencies(client: &impl GenericClient) -> Result<Vec<String>> {
    let rows = client
        .query_typed(
            "SELECT currency FROM wallets GROUP BY currency HAVING sum(posted) <> 0 ORDER BY currency",
            &[],
        )
        .await
        .db("checking currencies")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Sets a merchant's fee in basis points.
pub(crate) async fn set_merchant_fee(
    client: &impl GenericClient,
    merchant: UserId,
    bps: i32,
) -> Result<()> {
    client
        .query_typed(
            "INSERT INTO merchant_fees (merchant_id, fee_bps) VALUES ($1, $2) \
             ON CONFLICT (merchant_id) DO UPDATE SET fee_bps = excluded.fee_bps, updated_at = now()",
            &[(&merchant.0, Type::UUID), (&bps, Type::INT4)],
        )
        .await
        .db("setting a merchant's fee")?;
    Ok(())
}

/// A payment row, as refunds need it.
#[derive(Debug, Clone)]
pub(crate) struct PaymentRow {
    pub(crate) view: crate::api::PaymentView,
}

fn payment_from_row(row: &Row) -> crate::api::PaymentView {
    crate::api::PaymentView {
        id: TransactionId(row.get("id")),
        payer_wallet_id: WalletId(row.get("payer_wallet_id")),
        merchant_wallet_id: WalletId(row.get("merchant_wallet_id")),
        currency: row.get("currency"),
        amount: row.get("amount"),
        fee: row.get("fee"),
        refunded: row.get("refunded"),
        fee_refunded: row.get("fee_refunded"),
        created_at: row.get("created_at"),
    }
}

pub(crate) async fn payment_by_id(
    client: &impl GenericClient,
    id: TransactionId,
    lock: bool,
) -> Result<Option<PaymentRow>> {
    let sql = format!(
        "SELECT id, payer_wallet_id, merchant_wallet_id, currency, amount, fee, refunded, \
                fee_refunded, created_at FROM payments WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = client
        .query_typed_opt(&sql, &[(&id.0, Type::UUID)])
        .await
        .db("reading a payment")?;
    Ok(row.map(|row| PaymentRow {
        view: payment_from_row(&row),
    }))
}

/// A payment to record with its posting.
pub(crate) struct NewPayment {
    pub(crate) id: Uuid,
    pub(crate) payer: Uuid,
    pub(crate) merchant: Uuid,
    pub(crate) currency: String,
    pub(crate) amount: i64,
    pub(crate) fee: i64,
}

/// Records a batch's payments in one statement.
pub(crate) async fn insert_payments(client: &Hot, payments: &[NewPayment]) -> Result<()> {
    if payments.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = payments.iter().map(|p| p.id).collect();
    let payers: Vec<Uuid> = payments.iter().map(|p| p.payer).collect();
    let merchants: Vec<Uuid> = payments.iter().map(|p| p.merchant).collect();
    let currencies: Vec<&str> = payments.iter().map(|p| p.currency.as_str()).collect();
    let amounts: Vec<i64> = payments.iter().map(|p| p.amount).collect();
    let fees: Vec<i64> = payments.iter().map(|p| p.fee).collect();
    client
        .query(
            INSERT_PAYMENTS.0,
            &[
                (&ids, Type::UUID_ARRAY),
                (&payers, Type::UUID_ARRAY),
                (&merchants, Type::UUID_ARRAY),
                (&currencies, Type::TEXT_ARRAY),
                (&amounts, Type::INT8_ARRAY),
                (&fees, Type::INT8_ARRAY),
            ],
        )
        .await
        .db("recording payments")?;
    Ok(())
}

/// Records a refund against its (locked) payment.
pub(crate) async fn record_refund(
    client: &impl GenericClient,
    refund: Uuid,
    payment: TransactionId,
    amount: i64,
    fee_refund: i64,
) -> Result<()> {
    client
        .query_typed(
            "WITH updated AS ( \
               UPDATE payments SET refunded = refunded + $3, fee_refunded = fee_refunded + $4 \
               WHERE id = $2 RETURNING id) \
             INSERT INTO payment_refunds (id, payment_id, amount, fee_refund) \
             SELECT $1, id, $3, $4 FROM updated",
            &[
                (&refund, Type::UUID),
                (&payment.0, Type::UUID),
                (&amount, Type::INT8),
                (&fee_refund, Type::INT8),
            ],
        )
        .await
        .db("recording a refund")?;
    Ok(())
}

/// Freezes, unfreezes or re-levels a wallet; waits for any batch holding its lock.
pub(crate) async fn update_wallet_admin(
    client: &impl GenericClient,
    id: WalletId,
    frozen: Option<bool>,
    level: Option<i16>,
) -> Result<Option<WalletView>> {
    let row = client
        .query_typed_opt(
            &format!(
                "UPDATE wallets SET frozen = coalesce($2, frozen), \
                   verification_level = coalesce($3, verification_level) \
                 WHERE id = $1 AND kind <> 'system' RETURNING {WALLET_COLUMNS}"
            ),
            &[
                (&id.0, Type::UUID),
                (&frozen, Type::BOOL),
                (&level, Type::INT2),
            ],
        )
        .await
        .db("updating a wallet")?;
    row.as_ref().map(wallet_from_row).transpose()
}

/// The posted balance right after the last entry of a transaction at or before `at`.
pub(crate) async fn balance_at(
    client: &impl GenericClient,
    id: WalletId,
    at: OffsetDateTime,
) -> Result<i64> {
    let row = client
        .query_typed_opt(
            BALANCE_AT_SQL,
            &[(&id.0, Type::UUID), (&at, Type::TIMESTAMPTZ)],
        )
        .await
        .db("reading a past balance")?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// A user's wallet in `currency`, found by the user's email or E.164 phone.
pub(crate) async fn wallet_of_contact(
    client: &impl GenericClient,
    email: Option<&str>,
    phone: Option<&str>,
    currency: &str,
) -> Result<Option<WalletId>> {
    let row = client
        .query_typed_opt(
            "SELECT w.id FROM wallets w JOIN users u ON u.id = w.owner_id \
             WHERE (u.email = $1 OR u.phone = $2) AND w.currency = $3 LIMIT 1",
            &[
                (&email, Type::TEXT),
                (&phone, Type::TEXT),
                (&currency, Type::TEXT),
            ],
        )
        .await
        .db("finding a wallet by contact")?;
    Ok(row.map(|r| WalletId(r.get(0))))
}

fn withdrawal_from_row(row: &Row) -> crate::api::WithdrawalView {
    let status = match row.get::<_, &str>("status") {
        "completed" => crate::api::WithdrawalStatus::Completed,
        "failed" => crate::api::WithdrawalStatus::Failed,
        _ => crate::api::WithdrawalStatus::Pending,
    };
    crate::api::WithdrawalView {
        id: crate::api::WithdrawalId(row.get("id")),
        wallet_id: WalletId(row.get("wallet_id")),
        amount: row.get("amount"),
        currency: row.get("currency"),
        rib: super::rib::mask(row.get("rib")),
        status,
        transaction_id: row
            .get::<_, Option<Uuid>>("transaction_id")
            .map(TransactionId),
        created_at: row.get("created_at"),
    }
}

const WITHDRAWAL_COLUMNS: &str =
    "w.id, w.wallet_id, w.amount, w.currency, w.rib, w.status, w.transaction_id, w.created_at";

/// A withdrawal and the owner of its wallet.
pub(crate) async fn withdrawal_by_id(
    client: &impl GenericClient,
    id: crate::api::WithdrawalId,
    lock: bool,
) -> Result<Option<(crate::api::WithdrawalView, Option<UserId>)>> {
    let sql = format!(
        "SELECT {WITHDRAWAL_COLUMNS}, o.owner_id FROM withdrawals w \
         JOIN wallets o ON o.id = w.wallet_id WHERE w.id = $1{}",
        if lock { " FOR UPDATE OF w" } else { "" }
    );
    let row = client
        .query_typed_opt(&sql, &[(&id.0, Type::UUID)])
        .await
        .db("reading a withdrawal")?;
    Ok(row.map(|row| {
        let owner: Option<Uuid> = row.get("owner_id");
        (withdrawal_from_row(&row), owner.map(UserId))
    }))
}

pub(crate) async fn insert_withdrawal(
    client: &impl GenericClient,
    id: crate::api::WithdrawalId,
    wallet: WalletId,
    amount: i64,
    currency: &str,
    rib: &str,
    created_at: OffsetDateTime,
) -> Result<()> {
    client
        .query_typed(
            "INSERT INTO withdrawals (id, wallet_id, amount, currency, rib, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                (&id.0, Type::UUID),
                (&wallet.0, Type::UUID),
                (&amount, Type::INT8),
                (&currency, Type::TEXT),
                (&rib, Type::TEXT),
                (&created_at, Type::TIMESTAMPTZ),
            ],
        )
        .await
        .db("recording a withdrawal")?;
    Ok(())
}

pub(crate) async fn settle_withdrawal(
    client: &impl GenericClient,
    id: crate::api::WithdrawalId,
    completed: bool,
    transaction: Option<TransactionId>,
) -> Result<Option<crate::api::WithdrawalView>> {
    let status = if completed { "completed" } else { "failed" };
    let transaction = transaction.map(|t| t.0);
    let row = client
        .query_typed_opt(
            "UPDATE withdrawals w SET status = $2, transaction_id = $3, updated_at = now() \
             WHERE id = $1 AND status = 'pending' \
             RETURNING w.id, w.wallet_id, w.amount, w.currency, w.rib, w.status, w.transaction_id, w.created_at",
            &[(&id.0, Type::UUID), (&status, Type::TEXT), (&transaction, Type::UUID)],
        )
        .await
        .db("settling a withdrawal")?;
    Ok(row.as_ref().map(withdrawal_from_row))
}

fn hold_from_row(row: &Row) -> crate::api::HoldView {
    use crate::api::HoldStatus;
    let status = match row.get::<_, &str>("status") {
        "captured" => HoldStatus::Captured,
        "voided" => HoldStatus::Voided,
        "expired" => HoldStatus::Expired,
        _ => HoldStatus::Authorized,
    };
    crate::api::HoldView {
        id: crate::api::HoldId(row.get("id")),
        payer_wallet_id: WalletId(row.get("payer_wallet_id")),
        payee_wallet_id: WalletId(row.get("payee_wallet_id")),
        amount: row.get("amount"),
        captured: row.get("captured"),
        currency: row.get("currency"),
        status,
        expires_at: row.get("expires_at"),
        transaction_id: row
            .get::<_, Option<Uuid>>("transaction_id")
            .map(TransactionId),
        created_at: row.get("created_at"),
    }
}

const HOLD_COLUMNS: &str = "id, payer_wallet_id, payee_wallet_id, amount, captured, currency, status, \
                            expires_at, transaction_id, created_at";

pub(crate) async fn hold_by_id(
    client: &impl GenericClient,
    id: crate::api::HoldId,
    lock: bool,
) -> Result<Option<crate::api::HoldView>> {
    let sql = format!(
        "SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = client
        .query_typed_opt(&sql, &[(&id.0, Type::UUID)])
        .await
        .db("reading a hold")?;
    Ok(row.as_ref().map(hold_from_row))
}

pub(crate) async fn insert_hold(
    client: &impl GenericClient,
    hold: &crate::api::HoldView,
) -> Result<()> {
    client
        .query_typed(
            "INSERT INTO holds \
               (id, payer_wallet_id, payee_wallet_id, amount, currency, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                (&hold.id.0, Type::UUID),
                (&hold.payer_wallet_id.0, Type::UUID),
                (&hold.payee_wallet_id.0, Type::UUID),
                (&hold.amount, Type::INT8),
                (&hold.currency, Type::TEXT),
                (&hold.expires_at, Type::TIMESTAMPTZ),
                (&hold.created_at, Type::TIMESTAMPTZ),
            ],
        )
        .await
        .db("recording a hold")?;
    Ok(())
}

pub(crate) async fn settle_hold(
    client: &impl GenericClient,
    id: crate::api::HoldId,
    status: &str,
    captured: i64,
    transaction: Option<TransactionId>,
) -> Result<Option<crate::api::HoldView>> {
    let transaction = transaction.map(|t| t.0);
    let row = client
        .query_typed_opt(
            &format!(
                "UPDATE holds SET status = $2, captured = $3, transaction_id = $4, updated_at = now() \
                 WHERE id = $1 AND status = 'authorized' RETURNING {HOLD_COLUMNS}"
            ),
            &[
                (&id.0, Type::UUID),
                (&status, Type::TEXT),
                (&captured, Type::INT8),
                (&transaction, Type::UUID),
            ],
        )
        .await
        .db("settling a hold")?;
    Ok(row.as_ref().map(hold_from_row))
}

/// Authorised holds past their deadline, oldest first, at most `limit`.
pub(crate) async fn expired_holds(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<crate::api::HoldView>> {
    let rows = client
        .query_typed(
            &format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE status = 'authorized' AND expires_at <= now() \
                 ORDER BY expires_at LIMIT $1"
            ),
            &[(&limit, Type::INT8)],
        )
        .await
        .db("finding expired holds")?;
    Ok(rows.iter().map(hold_from_row).collect())
}
