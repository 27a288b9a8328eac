//! What each route is, for the API's documents (OpenAPI, Postman): one exhaustive `match`, so a
//! new route does not compile until it is documented.

use http::Method;

use crate::routes::Route;

/// How an operation authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone may call it.
    Public,
    /// A bearer token or an API key.
    Required,
}

/// A response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The envelope around one value of a component schema.
    Json(&'static str),
    /// The envelope around a list of values of a component schema.
    JsonList(&'static str),
    /// A document that is not enveloped: its media types, and whether it is a JSON object.
    Raw(&'static [&'static str], RawKind),
    /// No body (204).
    Empty,
}

/// What an unenveloped document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// Text (HTML, CSS, JavaScript, Prometheus's format).
    Text,
    /// A JSON object (the OpenAPI document, the Postman collection).
    JsonObject,
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The path template.
    pub template: &'static str,
    /// A stable operation id (`register`).
    pub id: &'static str,
    /// The group it is listed under.
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Who may call it.
    pub auth: Auth,
    /// The request body's component schema, if any.
    pub request: Option<&'static str>,
    /// The success status and body.
    pub success: (u16, Body),
    /// Error statuses particular to this operation; the generic ones are added by the documents
    /// (500 everywhere, 503 where the database is used, 400/408/413/415 where a body is read,
    /// 401 where authentication is required).
    pub errors: &'static [u16],
    /// Whether the operation reads the database (and so can answer 503).
    pub uses_database: bool,
    /// Whether the operation moves money and so requires an `Idempotency-Key` header.
    pub idempotent: bool,
    /// Query parameters: `(name, JSON schema, description, required)`.
    pub query: &'static [(&'static str, &'static str, &'static str, bool)],
}

/// Tags in the order the documents list them, with their descriptions.
pub const TAGS: &[(&str, &str)] = &[
    (
        "system",
        "Liveness, readiness, metrics and the API's own documents.",
    ),
    ("auth", "Registration and login."),
    ("users", "The caller's account."),
    ("api-keys", "Keys for merchants' and integrators' systems."),
    ("wallets", "Wallets, balances and histories."),
    (
        "money",
        "Deposits and transfers: exactly once per Idempotency-Key.",
    ),
    ("history", "Wallet histories and transactions."),
    ("admin", "Operators' endpoints."),
];

impl Route {
    /// The route's documentation.
    pub fn operation(&self) -> Operation {
        let op = |method, id, tag, summary| Operation {
            method,
            template: self.template(),
            id,
            tag,
            summary,
            auth: Auth::Public,
            request: None,
            success: (200, Body::Empty),
            errors: &[],
            uses_database: true,
            idempotent: false,
            query: &[],
        };
        match self {
            Route::Health => Operation {
                success: (200, Body::Json("Health")),
                uses_database: false,
                ..op(
                    Method::GET,
                    "health",
                    "system",
                    "The process is up (no database needed)",
                )
            },
            Route::Ready => Operation {
                success: (200, Body::Json("Readiness")),
                ..op(
                    Method::GET,
                    "ready",
                    "system",
                    "The database answers and its schema is current",
                )
            },
            Route::Metrics => Operation {
                success: (
                    200,
                    Body::Raw(&["text/plain; version=0.0.4"], RawKind::Text),
                ),
                uses_database: false,
                ..op(Method::GET, "metrics", "system", "Prometheus metrics")
            },
            Route::OpenApi => Operation {
                success: (200, Body::Raw(&["application/json"], RawKind::JsonObject)),
                uses_database: false,
                ..op(Method::GET, "openapi", "system", "This OpenAPI document")
            },
            Route::Postman => Operation {
                success: (200, Body::Raw(&["application/json"], RawKind::JsonObject)),
                uses_database: false,
                ..op(
                    Method::GET,
                    "postman",
                    "system",
                    "A Postman collection (v2.1) of this API",
                )
            },
            Route::Docs => Operation {
                success: (200, Body::Raw(&["text/html"], RawKind::Text)),
                uses_database: false,
                ..op(Method::GET, "docs", "system", "Swagger UI")
            },
            Route::DocsAsset(_) => Operation {
                success: (
                    200,
                    Body::Raw(&["application/javascript", "text/css"], RawKind::Text),
                ),
                errors: &[404],
                uses_database: false,
                ..op(Method::GET, "docsAsset", "system", "A file of Swagger UI")
            },
            Route::Register => Operation {
                request: Some("RegisterRequest"),
                success: (201, Body::Json("AuthSession")),
                errors: &[409],
                ..op(
                    Method::POST,
                    "register",
                    "auth",
                    "Create a customer, professional or merchant account",
                )
            },
            Route::Login => Operation {
                request: Some("LoginRequest"),
                success: (200, Body::Json("AuthSession")),
                errors: &[401, 429],
                ..op(
                    Method::POST,
                    "login",
                    "auth",
                    "Exchange an email and password for a bearer token",
                )
            },
            Route::Me => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("UserView")),
                ..op(Method::GET, "me", "users", "The caller's account")
            },
            Route::CreateApiKey => Operation {
                auth: Auth::Required,
                request: Some("CreateApiKeyRequest"),
                success: (201, Body::Json("ApiKeyCreated")),
                errors: &[403, 409],
                ..op(
                    Method::POST,
                    "createApiKey",
                    "api-keys",
                    "Create an API key (its secret is shown once)",
                )
            },
            Route::ListApiKeys => Operation {
                auth: Auth::Required,
                success: (200, Body::JsonList("ApiKeyView")),
                ..op(
                    Method::GET,
                    "listApiKeys",
                    "api-keys",
                    "The caller's active API keys",
                )
            },
            Route::OpenWallet => Operation {
                auth: Auth::Required,
                request: Some("OpenWalletRequest"),
                success: (201, Body::Json("WalletView")),
                errors: &[403, 409],
                ..op(
                    Method::POST,
                    "openWallet",
                    "wallets",
                    "Open the caller's wallet in a currency",
                )
            },
            Route::ListWallets => Operation {
                auth: Auth::Required,
                success: (200, Body::JsonList("WalletView")),
                ..op(
                    Method::GET,
                    "listWallets",
                    "wallets",
                    "The caller's wallets",
                )
            },
            Route::GetWallet(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("WalletView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getWallet",
                    "wallets",
                    "A wallet and its balances",
                )
            },
            Route::WalletTransactions(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("TransactionPage")),
                errors: &[400, 404],
                query: &[
                    (
                        "cursor",
                        r#"{"type":"string"}"#,
                        "`next_cursor` of the previous page",
                        false,
                    ),
                    (
                        "limit",
                        r#"{"type":"integer","minimum":1,"maximum":100}"#,
                        "page size (default 20)",
                        false,
                    ),
                    (
                        "type",
                        r##"{"$ref":"#/components/schemas/TransactionKind"}"##,
                        "only this kind",
                        false,
                    ),
                    (
                        "from",
                        r#"{"type":"string","format":"date-time"}"#,
                        "at or after this time",
                        false,
                    ),
                    (
                        "to",
                        r#"{"type":"string","format":"date-time"}"#,
                        "before this time",
                        false,
                    ),
                ],
                ..op(
                    Method::GET,
                    "walletTransactions",
                    "history",
                    "A wallet's history, newest first",
                )
            },
            Route::GetTransaction(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("TransactionView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getTransaction",
                    "history",
                    "A transaction with all its entries",
                )
            },
            Route::Transfer => Operation {
                auth: Auth::Required,
                request: Some("TransferRequest"),
                success: (201, Body::Json("TransactionView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "transfer",
                    "money",
                    "Move money to another wallet of the same currency",
                )
            },
            Route::TransferBulk => Operation {
                auth: Auth::Required,
                request: Some("BulkTransferRequest"),
                success: (200, Body::Json("BulkTransferResponse")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "transferBulk",
                    "money",
                    "Up to 8,000 transfers: each on its own, or all or nothing",
                )
            },
            Route::Deposit => Operation {
                auth: Auth::Required,
                request: Some("DepositRequest"),
                success: (201, Body::Json("DepositView")),
                errors: &[404, 409],
                ..op(
                    Method::POST,
                    "deposit",
                    "money",
                    "Start a top-up; pending until the provider confirms",
                )
            },
            Route::GetDeposit(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("DepositView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getDeposit",
                    "money",
                    "A deposit and where it stands",
                )
            },
            Route::DepositWebhook => Operation {
                request: Some("DepositWebhook"),
                success: (200, Body::Json("DepositView")),
                errors: &[401, 404, 409],
                ..op(
                    Method::POST,
                    "depositWebhook",
                    "money",
                    "The payment provider's signed notification (X-Contacto-Signature: sha256=<hex HMAC>)",
                )
            },
            Route::Pay => Operation {
                auth: Auth::Required,
                request: Some("PaymentRequest"),
                success: (201, Body::Json("TransactionView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "pay",
                    "money",
                    "Pay a merchant; the fee goes from the merchant's side",
                )
            },
            Route::GetPayment(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("PaymentView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getPayment",
                    "money",
                    "A payment and what was refunded",
                )
            },
            Route::Refund(_) => Operation {
                auth: Auth::Required,
                request: Some("RefundRequest"),
                success: (201, Body::Json("TransactionView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "refund",
                    "money",
                    "Refund all or part of a payment (the merchant)",
                )
            },
            Route::SetMerchantFee(_) => Operation {
                auth: Auth::Required,
                request: Some("MerchantFee"),
                success: (200, Body::Json("MerchantFee")),
                errors: &[403, 404],
                ..op(
                    Method::PUT,
                    "setMerchantFee",
                    "admin",
                    "Set a merchant's fee in basis points",
                )
            },
            Route::Authorize => Operation {
                auth: Auth::Required,
                request: Some("HoldRequest"),
                success: (201, Body::Json("HoldView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "authorize",
                    "money",
                    "Hold an amount now, capture it later",
                )
            },
            Route::GetHold(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("HoldView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getHold",
                    "money",
                    "A hold and where it stands",
                )
            },
            Route::Capture(_) => Operation {
                auth: Auth::Required,
                request: Some("CaptureRequest"),
                success: (200, Body::Json("HoldView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "capture",
                    "money",
                    "Capture all or part of a hold; the rest is released",
                )
            },
            Route::Void(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("HoldView")),
                errors: &[404, 409],
                ..op(Method::POST, "void", "money", "Release a hold")
            },
            Route::Withdraw => Operation {
                auth: Auth::Required,
                request: Some("WithdrawalRequest"),
                success: (201, Body::Json("WithdrawalView")),
                errors: &[404, 409],
                idempotent: true,
                ..op(
                    Method::POST,
                    "withdraw",
                    "money",
                    "Hold money for a payout to a bank account (RIB)",
                )
            },
            Route::GetWithdrawal(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("WithdrawalView")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getWithdrawal",
                    "money",
                    "A withdrawal and where it stands",
                )
            },
            Route::CompleteWithdrawal(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("WithdrawalView")),
                errors: &[403, 404, 409],
                ..op(
                    Method::POST,
                    "completeWithdrawal",
                    "admin",
                    "The bank took it: move it to payouts in transit",
                )
            },
            Route::FailWithdrawal(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("WithdrawalView")),
                errors: &[403, 404, 409],
                ..op(
                    Method::POST,
                    "failWithdrawal",
                    "admin",
                    "The bank refused it: release the hold",
                )
            },
            Route::AdministerWallet(_) => Operation {
                auth: Auth::Required,
                request: Some("WalletAdminUpdate"),
                success: (200, Body::Json("WalletView")),
                errors: &[403, 404],
                ..op(
                    Method::PATCH,
                    "administerWallet",
                    "admin",
                    "Freeze, unfreeze or re-level a wallet",
                )
            },
            Route::BalanceAt(_) => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("BalanceAt")),
                errors: &[400, 404],
                query: &[(
                    "at",
                    r#"{"type":"string","format":"date-time"}"#,
                    "the moment (RFC 3339)",
                    true,
                )],
                ..op(
                    Method::GET,
                    "balanceAt",
                    "history",
                    "A wallet's posted balance at a past moment",
                )
            },
            Route::Reconciliation => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("ReconciliationReport")),
                errors: &[403],
                ..op(
                    Method::GET,
                    "reconciliation",
                    "admin",
                    "Check that the books balance",
                )
            },
            Route::RevokeApiKey(_) => Operation {
                auth: Auth::Required,
                success: (204, Body::Empty),
                errors: &[404],
                ..op(
                    Method::DELETE,
                    "revokeApiKey",
                    "api-keys",
                    "Revoke an API key at once",
                )
            },
        }
    }
}
