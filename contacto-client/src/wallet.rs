//! Wallet calls: `client.wallet().transfer(..)`.

use contacto_core::api::{
    BalanceAt, BulkTransferRequest, BulkTransferResponse, CaptureRequest, DepositId,
    DepositRequest, DepositView, HoldId, HoldRequest, HoldView, MerchantFee, OpenWalletRequest,
    PaymentRequest, PaymentView, ReconciliationReport, RefundRequest, TransactionId,
    TransactionKind, TransactionPage, TransactionView, TransferRequest, UserId, WalletAdminUpdate,
    WalletId, WalletType, WalletView, WithdrawalId, WithdrawalRequest, WithdrawalView,
};
use reqwest::Method;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::{Call, Client};
use crate::error::Error;

/// Filters of a history page; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100.
    pub limit: Option<u32>,
    /// Only this kind.
    pub kind: Option<TransactionKind>,
    /// Only transactions at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only transactions before this time.
    pub to: Option<OffsetDateTime>,
}

impl HistoryFilter {
    fn query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("type", kind.as_str().to_owned()));
        }
        for (name, time) in [("from", self.from), ("to", self.to)] {
            if let Some(time) = time.and_then(|t| t.format(&Rfc3339).ok()) {
                pairs.push((name, time));
            }
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

/// Wallets, transfers, deposits and reconciliation.
pub struct WalletApi<'a> {
    client: &'a Client,
}

impl<'a> WalletApi<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `POST /api/v1/wallets`.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED`, `FORBIDDEN` (administrators), `WALLET_EXISTS`.
    pub async fn open(&self, wallet_type: WalletType, currency: &str) -> Result<WalletView, Error> {
        let request = OpenWalletRequest {
            wallet_type,
            currency: currency.to_owned(),
        };
        self.client
            .call(Call::new(Method::POST, "/api/v1/wallets", Some(&request)))
            .await
    }

    /// `GET /api/v1/wallets`: the caller's wallets.
    ///
    /// # Errors
    ///
    /// `UNAUTHENTICATED`.
    pub async fn list(&self) -> Result<Vec<WalletView>, Error> {
        self.client.get("/api/v1/wallets").await
    }

    /// `GET /api/v1/wallets/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn get(&self, id: WalletId) -> Result<WalletView, Error> {
        self.client.get(&format!("/api/v1/wallets/{id}")).await
    }

    /// `GET /api/v1/wallets/{id}/transactions`: a page of history, newest first.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `VALIDATION_FAILED` (a bad cursor or filter).
    pub async fn history(
        &self,
        id: WalletId,
        filter: &HistoryFilter,
    ) -> Result<TransactionPage, Error> {
        let query = filter.query();
        let path = if query.is_empty() {
            format!("/api/v1/wallets/{id}/transactions")
        } else {
            format!("/api/v1/wallets/{id}/transactions?{query}")
        };
        self.client.get(&path).await
    }

    /// `GET /api/v1/transactions/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn transaction(&self, id: TransactionId) -> Result<TransactionView, Error> {
        self.client.get(&format!("/api/v1/transactions/{id}")).await
    }

    /// `POST /api/v1/transfers` under a fresh idempotency key, reused across this call's retries.
    ///
    /// # Errors
    ///
    /// `INSUFFICIENT_FUNDS`, `CURRENCY_MISMATCH`, `WALLET_FROZEN`, `LIMIT_EXCEEDED`,
    /// `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn transfer(&self, request: &TransferRequest) -> Result<TransactionView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        self.transfer_with_key(request, &key).await
    }

    /// `POST /api/v1/transfers` under the caller's own idempotency key (to retry a logical
    /// operation across process restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::transfer`], and `IDEMPOTENCY_KEY_REUSED` when the key came with another
    /// request.
    pub async fn transfer_with_key(
        &self,
        request: &TransferRequest,
        key: &str,
    ) -> Result<TransactionView, Error> {
        let mut call = Call::new(Method::POST, "/api/v1/transfers", Some(request));
        call.idempotency_key = Some(key);
        self.client.call(call).await
    }

    /// `POST /api/v1/transfers/batch` under a fresh idempotency key, reused across this call's
    /// retries: the request, with each transfer's result, is exactly once under it.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED`; with `atomic`, the ledger's rejection of the whole.
    pub async fn transfer_bulk(
        &self,
        request: &BulkTransferRequest,
    ) -> Result<BulkTransferResponse, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut call = Call::new(Method::POST, "/api/v1/transfers/batch", Some(request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `POST /api/v1/payments` under a fresh idempotency key, reused across this call's retries.
    ///
    /// # Errors
    ///
    /// As [`WalletApi::transfer`].
    pub async fn pay(&self, request: &PaymentRequest) -> Result<TransactionView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut call = Call::new(Method::POST, "/api/v1/payments", Some(request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `GET /api/v1/payments/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn payment(&self, id: TransactionId) -> Result<PaymentView, Error> {
        self.client.get(&format!("/api/v1/payments/{id}")).await
    }

    /// `POST /api/v1/payments/{id}/refunds` (the merchant), under a fresh idempotency key.
    ///
    /// # Errors
    ///
    /// `REFUND_EXCEEDS_PAYMENT`, `INSUFFICIENT_FUNDS`, `NOT_FOUND`.
    pub async fn refund(
        &self,
        payment: TransactionId,
        amount: i64,
    ) -> Result<TransactionView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let path = format!("/api/v1/payments/{payment}/refunds");
        let request = RefundRequest { amount };
        let mut call = Call::new(Method::POST, &path, Some(&request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `POST /api/v1/holds` under a fresh idempotency key: authorise an amount.
    ///
    /// # Errors
    ///
    /// `INSUFFICIENT_FUNDS`, `LIMIT_EXCEEDED`, `WALLET_FROZEN`, `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn authorize(&self, request: &HoldRequest) -> Result<HoldView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut call = Call::new(Method::POST, "/api/v1/holds", Some(request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `GET /api/v1/holds/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn hold(&self, id: HoldId) -> Result<HoldView, Error> {
        self.client.get(&format!("/api/v1/holds/{id}")).await
    }

    /// `POST /api/v1/holds/{id}/capture` under a fresh idempotency key; `None` captures all.
    ///
    /// # Errors
    ///
    /// `HOLD_SETTLED`, `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn capture(&self, id: HoldId, amount: Option<i64>) -> Result<HoldView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let path = format!("/api/v1/holds/{id}/capture");
        let request = CaptureRequest { amount };
        let mut call = Call::new(Method::POST, &path, Some(&request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `POST /api/v1/holds/{id}/void`.
    ///
    /// # Errors
    ///
    /// `HOLD_SETTLED`, `NOT_FOUND`.
    pub async fn void(&self, id: HoldId) -> Result<HoldView, Error> {
        let path = format!("/api/v1/holds/{id}/void");
        self.client
            .call(Call::<()>::new(Method::POST, &path, None))
            .await
    }

    /// `POST /api/v1/withdrawals` under a fresh idempotency key: holds the amount for a payout.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED` (a bad RIB), `INSUFFICIENT_FUNDS`, `LIMIT_EXCEEDED`, `WALLET_FROZEN`.
    pub async fn withdraw(&self, request: &WithdrawalRequest) -> Result<WithdrawalView, Error> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut call = Call::new(Method::POST, "/api/v1/withdrawals", Some(request));
        call.idempotency_key = Some(&key);
        self.client.call(call).await
    }

    /// `GET /api/v1/withdrawals/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn withdrawal(&self, id: WithdrawalId) -> Result<WithdrawalView, Error> {
        self.client.get(&format!("/api/v1/withdrawals/{id}")).await
    }

    /// `POST /api/v1/admin/withdrawals/{id}/complete` or `/fail` (administrators).
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`, `NOT_FOUND`, `WITHDRAWAL_SETTLED`.
    pub async fn settle_withdrawal(
        &self,
        id: WithdrawalId,
        completed: bool,
    ) -> Result<WithdrawalView, Error> {
        let outcome = if completed { "complete" } else { "fail" };
        let path = format!("/api/v1/admin/withdrawals/{id}/{outcome}");
        self.client
            .call(Call::<()>::new(Method::POST, &path, None))
            .await
    }

    /// `GET /api/v1/wallets/{id}/balance?at=`: the posted balance at a past moment.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn balance_at(&self, id: WalletId, at: OffsetDateTime) -> Result<BalanceAt, Error> {
        let at = at
            .format(&Rfc3339)
            .map_err(|e| Error::Config(e.to_string()))?;
        let query = serde_urlencoded::to_string([("at", at)]).unwrap_or_default();
        self.client
            .get(&format!("/api/v1/wallets/{id}/balance?{query}"))
            .await
    }

    /// `PATCH /api/v1/admin/wallets/{id}` (administrators): freeze, unfreeze or re-level.
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`, `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn administer(
        &self,
        id: WalletId,
        update: &WalletAdminUpdate,
    ) -> Result<WalletView, Error> {
        let path = format!("/api/v1/admin/wallets/{id}");
        self.client
            .call(Call::new(Method::PATCH, &path, Some(update)))
            .await
    }

    /// `PUT /api/v1/admin/merchants/{id}/fee` (administrators).
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`, `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn set_merchant_fee(
        &self,
        merchant: UserId,
        fee_bps: i32,
    ) -> Result<MerchantFee, Error> {
        let path = format!("/api/v1/admin/merchants/{merchant}/fee");
        let request = MerchantFee { fee_bps };
        self.client
            .call(Call::new(Method::PUT, &path, Some(&request)))
            .await
    }

    /// `POST /api/v1/deposits`: a top-up, pending until the provider confirms it.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `VALIDATION_FAILED`, `WALLET_FROZEN`.
    pub async fn deposit(&self, request: &DepositRequest) -> Result<DepositView, Error> {
        self.client
            .call(Call::new(Method::POST, "/api/v1/deposits", Some(request)))
            .await
    }

    /// `GET /api/v1/deposits/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn deposit_status(&self, id: DepositId) -> Result<DepositView, Error> {
        self.client.get(&format!("/api/v1/deposits/{id}")).await
    }

    /// `POST /api/v1/deposits/webhook`, as a payment provider sends it: `raw_body` exactly as
    /// signed, `signature` as `sha256=<hex>`.
    ///
    /// # Errors
    ///
    /// `INVALID_SIGNATURE`, `NOT_FOUND`, `DEPOSIT_SETTLED`.
    pub async fn deposit_webhook(
        &self,
        raw_body: &serde_json::Value,
        signature: &str,
    ) -> Result<DepositView, Error> {
        let headers = [("X-Contacto-Signature", signature)];
        let mut call = Call::new(Method::POST, "/api/v1/deposits/webhook", Some(raw_body));
        call.headers = &headers;
        self.client.call(call).await
    }

    /// `GET /api/v1/admin/reconciliation` (administrators).
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`.
    pub async fn reconciliation(&self) -> Result<ReconciliationReport, Error> {
        self.client.get("/api/v1/admin/reconciliation").await
    }
}
