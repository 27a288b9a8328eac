//! The request and response types of the HTTP API, shared by the server and the client so that the
//! two cannot drift. Always compiled, also without the `persistence` feature.

/// A typed id: a UUID that cannot be passed where another kind of id is expected.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        pub struct $name(pub uuid::Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use id_type;

mod code;
mod directory;
mod envelope;
mod identity;
mod statements;
mod wallet;

pub use code::ErrorCode;
pub use directory::{
    Category, CategoryRef, OpeningHours, PriceUnit, Professional, ProfessionalAdminUpdate,
    ProfessionalId, ProfessionalRequest, ProfessionalUpdate, RatingSummary, ReplyRequest, Review,
    ReviewId, ReviewPage, ReviewReply, ReviewRequest, ReviewSort, SearchFacets, SearchHit,
    SearchPage, SearchQuery, SearchSort, Service, ServiceId, ServiceRequest, ServiceUpdate,
    TimeRange, Wilaya,
};
pub use envelope::{ApiErrorBody, ApiFailure, ApiSuccess, Health, Readiness};
pub use identity::{
    ApiKeyCreated, ApiKeyId, ApiKeyView, AuthSession, CreateApiKeyRequest, LoginRequest,
    RegisterRequest, Role, UserId, UserView,
};
pub use statements::{
    DEFAULT_STATEMENTS_LIMIT, MAX_STATEMENT_TEXT_CHARS, MAX_STATEMENTS_LIMIT, StatementStats,
    StatementsReport,
};
pub use wallet::{
    BalanceAt, BulkTransferRequest, BulkTransferResponse, BulkTransferResult, CaptureRequest,
    DepositId, DepositMethod, DepositRequest, DepositStatus, DepositView, DepositWebhook,
    EntryView, HistoryItem, HistoryStatus, HoldId, HoldRequest, HoldStatus, HoldView, MerchantFee,
    OpenWalletRequest, PaymentRequest, PaymentView, ReconciliationReport, RefundRequest,
    TransactionId, TransactionKind, TransactionPage, TransactionStatus, TransactionView,
    TransferRequest, WalletAdminUpdate, WalletId, WalletMismatch, WalletType, WalletView,
    WithdrawalId, WithdrawalRequest, WithdrawalStatus, WithdrawalView,
};
