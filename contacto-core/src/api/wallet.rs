//! Wallets, transactions, transfers and deposits on the wire. Amounts are integer minor units
//! (centimes for DZD) everywhere, in JSON too.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::UserId;

super::id_type! {
    /// A wallet's id.
    WalletId
}

super::id_type! {
    /// A ledger transaction's id.
    TransactionId
}

super::id_type! {
    /// A deposit's id.
    DepositId
}

/// What a wallet is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WalletType {
    /// A customer's or professional's wallet.
    Personal,
    /// A merchant's wallet.
    Business,
    /// One of the platform's own accounts (funding, fee revenue, payouts, suspense).
    System,
}

/// `POST /api/v1/wallets`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenWalletRequest {
    /// `personal` (customers, professionals) or `business` (merchants).
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    /// An ISO 4217 code; `DZD` for now.
    #[cfg_attr(feature = "openapi", schema(example = "DZD"))]
    pub currency: String,
}

/// A wallet and its balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletView {
    /// The wallet's id.
    pub id: WalletId,
    /// The owner; absent for system accounts.
    pub owner_id: Option<UserId>,
    /// What the wallet is for.
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    /// ISO 4217.
    pub currency: String,
    /// Settled balance, in minor units.
    pub posted: i64,
    /// Held by pending operations, in minor units.
    pub pending: i64,
    /// `posted - pending`: what can be spent.
    pub available: i64,
    /// A frozen wallet neither sends nor receives.
    pub frozen: bool,
    /// 0, 1 or 2: sets the daily outgoing limit.
    pub verification_level: i16,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `POST /api/v1/transfers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferRequest {
    /// The paying wallet; must belong to the caller.
    pub from_wallet_id: WalletId,
    /// The receiving wallet, same currency. Give it, or `to_email`, or `to_phone`: exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_wallet_id: Option<WalletId>,
    /// The receiver's account email: the transfer goes to their wallet in the payer's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_email: Option<String>,
    /// The receiver's phone (`0550 12 34 56` or E.164), likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_phone: Option<String>,
    /// Minor units, at least 1.
    #[cfg_attr(feature = "openapi", schema(example = 150_000))]
    pub amount: i64,
    /// Shown in both wallets' histories; at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Loyer novembre"))]
    pub description: Option<String>,
}

/// What a ledger transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// Peer-to-peer.
    Transfer,
    /// A customer paying a merchant.
    Payment,
    /// A payment given back.
    Refund,
    /// Money arriving from a payment provider.
    Deposit,
    /// Money held for a bank payout.
    Withdrawal,
    /// A withdrawal sent to the bank.
    WithdrawalCompletion,
    /// A failed withdrawal's hold released.
    WithdrawalRelease,
    /// A hold captured.
    HoldCapture,
    /// An operator's correction.
    Adjustment,
}

impl TransactionKind {
    /// Every kind, in the order of the database's `ledger_transaction_kind` enum (V16).
    pub const ALL: [TransactionKind; 9] = [
        TransactionKind::Transfer,
        TransactionKind::Payment,
        TransactionKind::Refund,
        TransactionKind::Deposit,
        TransactionKind::Withdrawal,
        TransactionKind::WithdrawalCompletion,
        TransactionKind::WithdrawalRelease,
        TransactionKind::HoldCapture,
        TransactionKind::Adjustment,
    ];

    /// The kind's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Transfer => "transfer",
            TransactionKind::Payment => "payment",
            TransactionKind::Refund => "refund",
            TransactionKind::Deposit => "deposit",
            TransactionKind::Withdrawal => "withdrawal",
            TransactionKind::WithdrawalCompletion => "withdrawal_completion",
            TransactionKind::WithdrawalRelease => "withdrawal_release",
            TransactionKind::HoldCapture => "hold_capture",
            TransactionKind::Adjustment => "adjustment",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One side of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryView {
    /// The wallet the entry changed.
    pub wallet_id: WalletId,
    /// Positive for a credit, negative for a debit, in minor units.
    pub amount: i64,
    /// The wallet's posted balance right after the entry; shown only for the caller's own
    /// wallets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_after: Option<i64>,
}

/// A posted ledger transaction: its entries sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionView {
    /// The transaction's id.
    pub id: TransactionId,
    /// What it is.
    pub kind: TransactionKind,
    /// ISO 4217.
    pub currency: String,
    /// The amount moved, in minor units.
    pub amount: i64,
    /// The payer's description, if any.
    pub description: Option<String>,
    /// Its entries.
    pub entries: Vec<EntryView>,
    /// When it was posted.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Where a line of a wallet's history stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Not posted yet: a deposit the provider has not confirmed, a withdrawal the bank has not
    /// settled, a hold still authorised. Its amount is not in `posted`; a withdrawal's, and a
    /// hold's on the payer's wallet, are in `pending`, so `available` is already without them.
    Pending,
    /// In the ledger: its entries are part of the balance.
    Posted,
    /// Never posted: a deposit the provider failed, a withdrawal the bank refused.
    Failed,
    /// Never posted: a hold voided or expired.
    Voided,
}

impl TransactionStatus {
    /// Every status.
    pub const ALL: [TransactionStatus; 4] = [
        TransactionStatus::Pending,
        TransactionStatus::Posted,
        TransactionStatus::Failed,
        TransactionStatus::Voided,
    ];

    /// The status's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "pending",
            TransactionStatus::Posted => "posted",
            TransactionStatus::Failed => "failed",
            TransactionStatus::Voided => "voided",
        }
    }

    /// The status named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

/// Which lines a history page lists (`?status=`): one status, or every one. Posted lines alone
/// unless asked, as before lines not posted were listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HistoryStatus {
    /// Posted transactions.
    #[default]
    Posted,
    /// Deposits, withdrawals and holds not posted yet.
    Pending,
    /// Deposits and withdrawals that failed.
    Failed,
    /// Holds voided or expired.
    Voided,
    /// Every line, whatever its status.
    All,
}

impl HistoryStatus {
    /// Every value.
    pub const ALL: [HistoryStatus; 5] = [
        HistoryStatus::Posted,
        HistoryStatus::Pending,
        HistoryStatus::Failed,
        HistoryStatus::Voided,
        HistoryStatus::All,
    ];

    /// The one status listed; `None` for every status.
    pub fn only(self) -> Option<TransactionStatus> {
        match self {
            HistoryStatus::Posted => Some(TransactionStatus::Posted),
            HistoryStatus::Pending => Some(TransactionStatus::Pending),
            HistoryStatus::Failed => Some(TransactionStatus::Failed),
            HistoryStatus::Voided => Some(TransactionStatus::Voided),
            HistoryStatus::All => None,
        }
    }

    /// The value's name in a query string: the status's own, or `all`.
    pub fn as_str(self) -> &'static str {
        self.only().map_or("all", TransactionStatus::as_str)
    }

    /// The value named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

/// One line of a wallet's history: a posted transaction, or a deposit, withdrawal or hold of the
/// wallet that is not posted (yet, or ever).
///
/// A posted line is the transaction with the wallet's own entry. Any other line has the kind of
/// the transaction it posts if it goes through (`deposit`, `withdrawal_completion`,
/// `hold_capture`), its id is the deposit's, withdrawal's or hold's (read it at
/// `/api/v1/deposits/{id}`, `/api/v1/withdrawals/{id}` or `/api/v1/holds/{id}`), and its entry
/// shows what it would change, without a `balance_after`. A deposit, withdrawal or hold that goes
/// through leaves its line and appears as the posted transaction, at the time of posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    /// The transaction's id when posted; otherwise the deposit's, withdrawal's or hold's.
    pub id: uuid::Uuid,
    /// What it is, or what it posts if it goes through.
    pub kind: TransactionKind,
    /// Where it stands.
    pub status: TransactionStatus,
    /// ISO 4217.
    pub currency: String,
    /// The amount moved, or to be moved, in minor units.
    pub amount: i64,
    /// The transaction's description (the payer's, or one the platform writes: `top-up cib`,
    /// `payout to RIB ****************1234`, `capture of hold <id>`); a line not posted has the
    /// one its transaction will have.
    pub description: Option<String>,
    /// The wallet's own entry.
    pub entries: Vec<EntryView>,
    /// When it was posted; for any other line, when it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl HistoryItem {
    /// The posted transaction's id; `None` for a line not posted.
    pub fn transaction_id(&self) -> Option<TransactionId> {
        (self.status == TransactionStatus::Posted).then_some(TransactionId(self.id))
    }
}

/// A page of a wallet's history, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionPage {
    /// The lines of this page.
    pub items: Vec<HistoryItem>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// How a deposit is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DepositMethod {
    /// CIB bank card.
    Cib,
    /// Algérie Poste's Edahabia card.
    Edahabia,
    /// Algérie Poste's BaridiMob.
    Baridimob,
    /// A bank transfer quoting a reference.
    BankTransfer,
}

impl DepositMethod {
    /// The method's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DepositMethod::Cib => "cib",
            DepositMethod::Edahabia => "edahabia",
            DepositMethod::Baridimob => "baridimob",
            DepositMethod::BankTransfer => "bank_transfer",
        }
    }
}

/// `POST /api/v1/deposits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepositRequest {
    /// The wallet to credit; must belong to the caller.
    pub wallet_id: WalletId,
    /// Minor units, at least 1.
    #[cfg_attr(feature = "openapi", schema(example = 500_000))]
    pub amount: i64,
    /// How it is paid.
    #[cfg_attr(feature = "openapi", schema(example = "cib"))]
    pub method: DepositMethod,
    /// For bank transfers: the reference the payer quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Where a deposit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    /// Waiting for the provider's confirmation.
    Pending,
    /// Confirmed: the wallet was credited.
    Succeeded,
    /// Refused by the provider: no balance changed.
    Failed,
}

/// A deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepositView {
    /// The deposit's id, quoted by the provider's webhook.
    pub id: DepositId,
    /// The wallet it credits.
    pub wallet_id: WalletId,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// How it is paid.
    pub method: DepositMethod,
    /// The payer's reference, if any.
    pub reference: Option<String>,
    /// Where it stands.
    pub status: DepositStatus,
    /// The provider's reference, once it answered.
    pub provider_reference: Option<String>,
    /// The crediting transaction, once succeeded.
    pub transaction_id: Option<TransactionId>,
    /// When it was initiated.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The provider's notification: `POST /api/v1/deposits/webhook`, signed with
/// `X-Contacto-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepositWebhook {
    /// The deposit concerned.
    pub deposit_id: DepositId,
    /// `succeeded` or `failed`.
    #[cfg_attr(feature = "openapi", schema(example = "succeeded"))]
    pub status: DepositStatus,
    /// The provider's own reference.
    #[cfg_attr(feature = "openapi", schema(example = "cib-2026-000123"))]
    pub provider_reference: String,
}

/// `GET /api/v1/admin/reconciliation`: whether the books balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconciliationReport {
    /// True when no discrepancy was found.
    pub balanced: bool,
    /// Transactions whose entries do not sum to zero, are fewer than two or name a wallet that
    /// does not exist, and the ids that entries name without a transaction behind them.
    pub unbalanced_transactions: Vec<TransactionId>,
    /// Wallets whose stored balance differs from the sum of their entries (or whose last entry's
    /// balance differs from the stored balance).
    pub mismatched_wallets: Vec<WalletMismatch>,
    /// Currencies whose wallets do not sum to zero.
    pub unbalanced_currencies: Vec<String>,
    /// Transactions checked.
    pub transactions_checked: i64,
    /// Wallets checked.
    pub wallets_checked: i64,
}

/// A wallet whose stored balance does not match its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletMismatch {
    /// The wallet.
    pub wallet_id: WalletId,
    /// The stored posted balance.
    pub stored: i64,
    /// The sum of its entries.
    pub from_entries: i64,
}

/// `POST /api/v1/payments`: a customer pays a merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentRequest {
    /// The paying wallet; must belong to the caller.
    pub payer_wallet_id: WalletId,
    /// The merchant's business wallet.
    pub merchant_wallet_id: WalletId,
    /// Minor units, at least 1; the merchant receives it less the fee.
    #[cfg_attr(feature = "openapi", schema(example = 250_000))]
    pub amount: i64,
    /// Shown in both histories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Commande 1042"))]
    pub description: Option<String>,
}

/// `POST /api/v1/payments/{id}/refunds`: the merchant gives back all or part of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequest {
    /// Minor units, at least 1; all refunds together never exceed the payment.
    #[cfg_attr(feature = "openapi", schema(example = 50_000))]
    pub amount: i64,
}

/// A payment and how much of it was refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    /// The payment's id: its ledger transaction.
    pub id: TransactionId,
    /// Who paid.
    pub payer_wallet_id: WalletId,
    /// Who was paid.
    pub merchant_wallet_id: WalletId,
    /// ISO 4217.
    pub currency: String,
    /// What the payer paid, in minor units.
    pub amount: i64,
    /// The platform's fee, taken from the merchant's side.
    pub fee: i64,
    /// Refunded so far.
    pub refunded: i64,
    /// Fee given back so far.
    pub fee_refunded: i64,
    /// When it was paid.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `PUT /api/v1/admin/merchants/{id}/fee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantFee {
    /// The merchant's fee in basis points, 0..=10000 (150 = 1.5%).
    #[cfg_attr(feature = "openapi", schema(example = 150))]
    pub fee_bps: i32,
}

/// `PATCH /api/v1/admin/wallets/{id}`: an operator freezes, unfreezes or re-levels a wallet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletAdminUpdate {
    /// Freeze (`true`) or unfreeze (`false`); absent leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<bool>,
    /// 0, 1 or 2; absent leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_level: Option<i16>,
}

/// `GET /api/v1/wallets/{id}/balance?at=`: the posted balance at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceAt {
    /// The wallet.
    pub wallet_id: WalletId,
    /// The moment asked about.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The posted balance then, in minor units.
    pub posted: i64,
}

super::id_type! {
    /// A withdrawal's id.
    WithdrawalId
}

/// `POST /api/v1/withdrawals`: send money to an Algerian bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WithdrawalRequest {
    /// The wallet to pay out of; must belong to the caller.
    pub wallet_id: WalletId,
    /// Minor units, at least 1.
    #[cfg_attr(feature = "openapi", schema(example = 50_000))]
    pub amount: i64,
    /// The 20-digit RIB (spaces allowed).
    #[cfg_attr(feature = "openapi", schema(example = "00200123456789012354"))]
    pub rib: String,
}

/// Where a withdrawal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Held, waiting for the bank.
    Pending,
    /// Sent: moved to payouts in transit.
    Completed,
    /// Refused: the hold was released.
    Failed,
}

/// A withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WithdrawalView {
    /// The withdrawal's id.
    pub id: WithdrawalId,
    /// The wallet paid out of.
    pub wallet_id: WalletId,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// The RIB's last four digits.
    pub rib: String,
    /// Where it stands.
    pub status: WithdrawalStatus,
    /// The completing transaction, once completed.
    pub transaction_id: Option<TransactionId>,
    /// When it was requested.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

super::id_type! {
    /// A hold's id.
    HoldId
}

/// `POST /api/v1/holds`: authorise an amount now, capture it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldRequest {
    /// The wallet the amount is held on; must belong to the caller.
    pub payer_wallet_id: WalletId,
    /// The wallet a capture pays, same currency.
    pub payee_wallet_id: WalletId,
    /// Minor units, at least 1.
    #[cfg_attr(feature = "openapi", schema(example = 20_000))]
    pub amount: i64,
    /// Seconds until the hold lapses by itself (60..=2,592,000; default 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<i64>,
}

/// `POST /api/v1/holds/{id}/capture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptureRequest {
    /// What to capture, at most the held amount; absent captures all of it. The rest is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// Where a hold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// The amount is held.
    Authorized,
    /// Captured (all or part); the rest released.
    Captured,
    /// Released on request.
    Voided,
    /// Released at its deadline.
    Expired,
}

/// A hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RecordedHold")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldView {
    /// The hold's id.
    pub id: HoldId,
    /// The wallet the amount is held on.
    pub payer_wallet_id: WalletId,
    /// The wallet a capture pays.
    pub payee_wallet_id: WalletId,
    /// Held, in minor units.
    pub amount: i64,
    /// Captured, in minor units.
    pub captured: i64,
    /// ISO 4217.
    pub currency: String,
    /// Where it stands.
    pub status: HoldStatus,
    /// When it lapses if still authorised.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The capturing transaction, once captured.
    pub transaction_id: Option<TransactionId>,
    /// When it was authorised.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A [`HoldView`] as an answer written before `created_at` existed may hold it: without it.
/// Idempotency records keep such answers for days, and an older server sends them.
#[derive(Deserialize)]
struct RecordedHold {
    id: HoldId,
    payer_wallet_id: WalletId,
    payee_wallet_id: WalletId,
    amount: i64,
    captured: i64,
    currency: String,
    status: HoldStatus,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    transaction_id: Option<TransactionId>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
}

impl From<RecordedHold> for HoldView {
    /// A missing `created_at` is read from the id, a UUIDv7 made when the hold was asked for,
    /// within milliseconds of its authorisation.
    fn from(hold: RecordedHold) -> Self {
        let created_at = hold.created_at.unwrap_or_else(|| {
            let (secs, nanos) = hold
                .id
                .0
                .get_timestamp()
                .map_or((0, 0), |stamp| stamp.to_unix());
            OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
                .map_or(OffsetDateTime::UNIX_EPOCH, |at| {
                    at + time::Duration::nanoseconds(i64::from(nanos))
                })
        });
        Self {
            id: hold.id,
            payer_wallet_id: hold.payer_wallet_id,
            payee_wallet_id: hold.payee_wallet_id,
            amount: hold.amount,
            captured: hold.captured,
            currency: hold.currency,
            status: hold.status,
            expires_at: hold.expires_at,
            transaction_id: hold.transaction_id,
            created_at,
        }
    }
}

/// `POST /api/v1/transfers/batch`: up to 8,000 transfers in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkTransferRequest {
    /// The transfers, each as for `POST /api/v1/transfers`.
    pub transfers: Vec<TransferRequest>,
    /// All or nothing: every transfer must come from the same wallet and name its receiver by
    /// wallet id, and they are posted as one transaction or not at all, described by the one
    /// description they give (if any). Otherwise each is posted or rejected on its own.
    #[serde(default)]
    pub atomic: bool,
}

/// One transfer's outcome in a bulk request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkTransferResult {
    /// The transfer's position in the request.
    pub index: usize,
    /// The transaction that posted it, when it was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// The posted transaction (non-atomic requests; an atomic request's one transaction is in
    /// the response, once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionView>,
    /// Why it was rejected, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<super::ApiErrorBody>,
}

/// The answer to a bulk request: one result per transfer, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkTransferResponse {
    /// The one transaction of an atomic request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionView>,
    /// Posted transfers.
    pub posted: usize,
    /// Rejected transfers.
    pub rejected: usize,
    /// Each transfer's outcome.
    pub results: Vec<BulkTransferResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hold answered before `created_at` existed, as an idempotency record keeps it, reads
    /// back with the time its UUIDv7 id was made; a hold with one keeps it.
    #[test]
    fn a_hold_recorded_without_its_time_takes_it_from_its_id() {
        let made = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, 1_795_000_000, 0);
        let id = uuid::Uuid::new_v7(ts);
        let mut recorded = serde_json::json!({
            "id": id,
            "payer_wallet_id": uuid::Uuid::nil(),
            "payee_wallet_id": uuid::Uuid::nil(),
            "amount": 500,
            "captured": 0,
            "currency": "DZD",
            "status": "authorized",
            "expires_at": "2026-12-01T10:00:00Z",
            "transaction_id": null
        });
        let old: HoldView = serde_json::from_value(recorded.clone()).unwrap();
        assert_eq!(old.created_at, made);
        recorded["created_at"] = "2026-11-28T08:00:00Z".into();
        let new: HoldView = serde_json::from_value(recorded).unwrap();
        assert_eq!(new.created_at.unix_timestamp(), 1_795_852_800);
        let again: HoldView = serde_json::from_value(serde_json::to_value(&new).unwrap()).unwrap();
        assert_eq!(again, new);
    }
}
