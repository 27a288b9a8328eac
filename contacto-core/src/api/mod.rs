//! The request and response types of the HTTP API, shared by the server and the client so that the
//! two cannot drift. Always compiled, also without the `persistence` feature.

mod envelope;
mod identity;
mod wallet;

pub use envelope::{ApiErrorBody, ApiFailure, ApiSuccess, Health, Readiness};
pub use identity::{
    ApiKeyCreated, ApiKeyId, ApiKeyView, AuthSession, CreateApiKeyRequest, LoginRequest,
    RegisterRequest, Role, UserId, UserView,
};
pub use wallet::{
    BalanceAt, BulkTransferRequest, BulkTransferResponse, BulkTransferResult, CaptureRequest,
    DepositId, DepositMethod, DepositRequest, DepositStatus, DepositView, DepositWebhook,
    EntryView, HoldId, HoldRequest, HoldStatus, HoldView, MerchantFee, OpenWalletRequest,
    PaymentRequest, PaymentView, ReconciliationReport, RefundRequest, TransactionId,
    TransactionKind, TransactionPage, TransactionView, TransferRequest, WalletAdminUpdate,
    WalletId, WalletMismatch, WalletType, WalletView, WithdrawalId, WithdrawalRequest,
    WithdrawalStatus, WithdrawalView,
};
