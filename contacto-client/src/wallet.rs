//! Wallet calls: `client.wallet().transfer(..)`.

use contacto_core::api::{
    BalanceAt, BulkTransferRequest, BulkTransferResponse, CaptureRequest, DepositId,
    DepositRequest, DepositView, HistoryStatus, HoldId, HoldRequest, HoldView, MerchantFee,
    OpenWalletRequest, PaymentRequest, PaymentView, ReconciliationReport, RefundRequest,
    TransactionId, TransactionKind, TransactionPage, TransactionView, TransferRequest, UserId,
    WalletAdminUpdate, WalletId, WalletType, WalletView, WithdrawalId, WithdrawalRequest,
    WithdrawalView,
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
    /// Only lines in this status, or every line; the server lists posted lines alone when
    /// `None`.
    pub status: Option<HistoryStatus>,
    /// Only lines at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only lines before this time.
    pub to: Option<OffsetDateTime>,
}

impl HistoryFilter {
    /// The query string; a time RFC 3339 cannot write (a year past 9999) is an error, not a
    /// filter quietly dropped.
    fn query(&self) -> Result<String, Error> {
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
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        for (name, time) in [("from", self.from), ("to", self.to)] {
            if let Some(time) = time {
                let time = time
                    .format(&Rfc3339)
                    .map_err(|e| Error::Config(format!("history filter `{name}`: {e}")))?;
                pairs.push((name, time));
            }
        }
        serde_urlencoded::to_string(&pairs).map_err(|e| Error::Config(e.to_string()))
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

    /// `GET /api/v1/wallets/{id}/transactions`: a page of history, newest first: posted
    /// transactions, and with [`HistoryFilter::status`] the wallet's deposits, withdrawals and
    /// holds not posted.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `VALIDATION_FAILED` (a bad cursor or filter); [`Error::Config`] for a time
    /// RFC 3339 cannot write.
    pub async fn history(
        &self,
        id: WalletId,
        filter: &HistoryFilter,
    ) -> Result<TransactionPage, Error> {
        let query = filter.query()?;
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
    /// `NOT_FOUND`, `VALIDATION_FAILED`; `RATE_LIMITED` with a `retry_after` when the receiver is
    /// named by email or phone and the caller's look-ups are locked, after too many found nobody.
    pub async fn transfer(&self, request: &TransferRequest) -> Result<TransactionView, Error> {
        self.transfer_with_key(request, &new_key()).await
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
        self.keyed("/api/v1/transfers", request, key).await
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
        self.transfer_bulk_with_key(request, &new_key()).await
    }

    /// [`WalletApi::transfer_bulk`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::transfer_bulk`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn transfer_bulk_with_key(
        &self,
        request: &BulkTransferRequest,
        key: &str,
    ) -> Result<BulkTransferResponse, Error> {
        self.keyed("/api/v1/transfers/batch", request, key).await
    }

    /// `POST /api/v1/payments` under a fresh idempotency key, reused across this call's retries.
    ///
    /// # Errors
    ///
    /// As [`WalletApi::transfer`].
    pub async fn pay(&self, request: &PaymentRequest) -> Result<TransactionView, Error> {
        self.pay_with_key(request, &new_key()).await
    }

    /// [`WalletApi::pay`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::pay`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn pay_with_key(
        &self,
        request: &PaymentRequest,
        key: &str,
    ) -> Result<TransactionView, Error> {
        self.keyed("/api/v1/payments", request, key).await
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
        self.refund_with_key(payment, amount, &new_key()).await
    }

    /// [`WalletApi::refund`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::refund`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn refund_with_key(
        &self,
        payment: TransactionId,
        amount: i64,
        key: &str,
    ) -> Result<TransactionView, Error> {
        let path = format!("/api/v1/payments/{payment}/refunds");
        self.keyed(&path, &RefundRequest { amount }, key).await
    }

    /// `POST /api/v1/holds` under a fresh idempotency key: authorise an amount.
    ///
    /// # Errors
    ///
    /// `INSUFFICIENT_FUNDS`, `LIMIT_EXCEEDED`, `WALLET_FROZEN`, `NOT_FOUND`, `VALIDATION_FAILED`.
    pub async fn authorize(&self, request: &HoldRequest) -> Result<HoldView, Error> {
        self.authorize_with_key(request, &new_key()).await
    }

    /// [`WalletApi::authorize`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::authorize`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn authorize_with_key(
        &self,
        request: &HoldRequest,
        key: &str,
    ) -> Result<HoldView, Error> {
        self.keyed("/api/v1/holds", request, key).await
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
    /// `HOLD_SETTLED`, `NOT_FOUND`, `VALIDATION_FAILED`; `FORBIDDEN` for an API key of the
    /// payer's owner, and for an administrator who owns neither wallet.
    pub async fn capture(&self, id: HoldId, amount: Option<i64>) -> Result<HoldView, Error> {
        self.capture_with_key(id, amount, &new_key()).await
    }

    /// [`WalletApi::capture`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::capture`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn capture_with_key(
        &self,
        id: HoldId,
        amount: Option<i64>,
        key: &str,
    ) -> Result<HoldView, Error> {
        let path = format!("/api/v1/holds/{id}/capture");
        self.keyed(&path, &CaptureRequest { amount }, key).await
    }

    /// `POST /api/v1/holds/{id}/void` under a fresh idempotency key, reused across this call's
    /// retries.
    ///
    /// # Errors
    ///
    /// `HOLD_SETTLED`, `NOT_FOUND`; `FORBIDDEN` for an administrator who owns neither wallet.
    pub async fn void(&self, id: HoldId) -> Result<HoldView, Error> {
        self.void_with_key(id, &new_key()).await
    }

    /// [`WalletApi::void`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::void`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn void_with_key(&self, id: HoldId, key: &str) -> Result<HoldView, Error> {
        self.keyed_without_body(&format!("/api/v1/holds/{id}/void"), key)
            .await
    }

    /// `POST /api/v1/withdrawals` under a fresh idempotency key: holds the amount for a payout.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED` (a bad RIB), `INSUFFICIENT_FUNDS`, `LIMIT_EXCEEDED`, `WALLET_FROZEN`.
    pub async fn withdraw(&self, request: &WithdrawalRequest) -> Result<WithdrawalView, Error> {
        self.withdraw_with_key(request, &new_key()).await
    }

    /// [`WalletApi::withdraw`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::withdraw`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn withdraw_with_key(
        &self,
        request: &WithdrawalRequest,
        key: &str,
    ) -> Result<WithdrawalView, Error> {
        self.keyed("/api/v1/withdrawals", request, key).await
    }

    /// `GET /api/v1/withdrawals/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`.
    pub async fn withdrawal(&self, id: WithdrawalId) -> Result<WithdrawalView, Error> {
        self.client.get(&format!("/api/v1/withdrawals/{id}")).await
    }

    /// `POST /api/v1/admin/withdrawals/{id}/complete` or `/fail` (administrators) under a fresh
    /// idempotency key, reused across this call's retries.
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`, `NOT_FOUND`, `WITHDRAWAL_SETTLED`.
    pub async fn settle_withdrawal(
        &self,
        id: WithdrawalId,
        completed: bool,
    ) -> Result<WithdrawalView, Error> {
        self.settle_withdrawal_with_key(id, completed, &new_key())
            .await
    }

    /// [`WalletApi::settle_withdrawal`] under the caller's own key (to retry across restarts).
    ///
    /// # Errors
    ///
    /// As [`WalletApi::settle_withdrawal`], and `IDEMPOTENCY_KEY_REUSED`.
    pub async fn settle_withdrawal_with_key(
        &self,
        id: WithdrawalId,
        completed: bool,
        key: &str,
    ) -> Result<WithdrawalView, Error> {
        let outcome = if completed { "complete" } else { "fail" };
        self.keyed_without_body(&format!("/api/v1/admin/withdrawals/{id}/{outcome}"), key)
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
    /// `NOT_FOUND`, `VALIDATION_FAILED`, `WALLET_FROZEN`; `FORBIDDEN` for an administrator
    /// (who has no wallet of their own).
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

    /// `POST /api/v1/deposits/webhook`, as a payment provider sends it: `raw_body` byte for byte
    /// as signed (the server checks the signature over those bytes), `signature` as
    /// `sha256=<hex>`.
    ///
    /// # Errors
    ///
    /// `INVALID_SIGNATURE`, `NOT_FOUND`, `DEPOSIT_SETTLED`.
    pub async fn deposit_webhook(
        &self,
        raw_body: &[u8],
        signature: &str,
    ) -> Result<DepositView, Error> {
        let headers = [("X-Contacto-Signature", signature)];
        let mut call = Call::<()>::new(Method::POST, "/api/v1/deposits/webhook", None);
        call.headers = &headers;
        call.raw_body = Some(raw_body);
        self.client.call(call).await
    }

    /// A money-moving POST under `key`, reused by each of this call's retries.
    async fn keyed<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        key: &str,
    ) -> Result<T, Error> {
        let mut call = Call::new(Method::POST, path, Some(body));
        call.idempotency_key = Some(key);
        self.client.call(call).await
    }

    /// A money-moving POST that sends no body, under `key`.
    async fn keyed_without_body<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
    ) -> Result<T, Error> {
        let mut call = Call::<()>::new(Method::POST, path, None);
        call.idempotency_key = Some(key);
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

/// A fresh idempotency key for one logical call: a UUIDv7, which begins with the time it was
/// made, so that the server writes the keys next to one another in their index rather than each at
/// a random place.
fn new_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_in_the_order_they_are_made() {
        let keys: Vec<String> = (0..2_000).map(|_| new_key()).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            keys.iter()
                .all(|key| uuid::Uuid::parse_str(key).unwrap().get_version_num() == 7)
        );
    }
}
