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
    /// What the summary and the parameters' own descriptions cannot say, if anything.
    pub description: Option<&'static str>,
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
    pub query: &'static [QueryParameter],
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
    (
        "directory",
        "Wilayas, categories, professionals' profiles and services, reviews, and search.",
    ),
    ("admin", "Operators' endpoints."),
];

/// A query parameter: `(name, JSON schema, description, required)`.
pub type QueryParameter = (&'static str, &'static str, &'static str, bool);

/// `page` of the directory's lists.
const PAGE_PARAMETER: QueryParameter = (
    "page",
    r#"{"type":"integer","minimum":1,"maximum":500}"#,
    "the page, from 1",
    false,
);

/// `limit` of the directory's lists.
const LIMIT_PARAMETER: QueryParameter = (
    "limit",
    r#"{"type":"integer","minimum":1,"maximum":100}"#,
    "page size (default 20)",
    false,
);

/// The parameters of `GET /api/v1/professionals`, in the order of [`crate::query::SEARCH_PARAMETERS`].
const SEARCH_QUERY: &[QueryParameter] = &[
    (
        "q",
        r#"{"type":"string","maxLength":200}"#,
        "free text, in Arabic, French or Latin transliteration; single letters and punctuation \
         are ignored, so a text of only those matches nothing",
        false,
    ),
    (
        "category",
        r#"{"type":"string","pattern":"^[a-z0-9]+(-[a-z0-9]+)*$"}"#,
        "a category slug; its subcategories are included",
        false,
    ),
    (
        "wilaya",
        r#"{"type":"string","pattern":"^(0[1-9]|[1-4][0-9]|5[0-8])$"}"#,
        "a wilaya code (01 to 58)",
        false,
    ),
    (
        "commune",
        r#"{"type":"string","maxLength":100}"#,
        "a commune, accents and case ignored",
        false,
    ),
    (
        "min_rating",
        r#"{"type":"number","minimum":1,"maximum":5}"#,
        "lowest average rating",
        false,
    ),
    (
        "verified",
        r#"{"type":"boolean"}"#,
        "only verified (true) or unverified (false) professionals",
        false,
    ),
    (
        "open_now",
        r#"{"type":"boolean"}"#,
        "only those open now (Africa/Algiers time)",
        false,
    ),
    (
        "language",
        r#"{"type":"string","pattern":"^[a-z]{2,3}$"}"#,
        "a language spoken (ISO 639: ar, fr, en, kab)",
        false,
    ),
    (
        "lat",
        r#"{"type":"number","minimum":-90,"maximum":90}"#,
        "latitude of the search centre (with lng)",
        false,
    ),
    (
        "lng",
        r#"{"type":"number","minimum":-180,"maximum":180}"#,
        "longitude of the search centre (with lat)",
        false,
    ),
    (
        "radius_km",
        r#"{"type":"number","exclusiveMinimum":0,"maximum":500}"#,
        "radius around the centre (default 25)",
        false,
    ),
    (
        "sort",
        r##"{"$ref":"#/components/schemas/SearchSort"}"##,
        "the order (default relevance with q, newest without; distance needs lat and lng)",
        false,
    ),
    PAGE_PARAMETER,
    LIMIT_PARAMETER,
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
            description: None,
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
                errors: &[409, 429],
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
                        "only this kind (a line not posted has the kind it posts if it goes through)",
                        false,
                    ),
                    (
                        "status",
                        r#"{"type":"string","enum":["posted","pending","failed","voided","all"],"default":"posted"}"#,
                        "only lines in this status, or `all`",
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
                    "A wallet's history, newest first: posted transactions, and on request deposits, withdrawals and holds not posted",
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
                errors: &[403, 404, 409, 429],
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
                errors: &[403, 404, 409],
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
                errors: &[403, 404, 409],
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
                errors: &[403, 404, 409],
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
                errors: &[403, 404, 409],
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
                errors: &[403, 404, 409],
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
                errors: &[403, 404, 409],
                idempotent: true,
                ..op(Method::POST, "void", "money", "Release a hold")
            },
            Route::Withdraw => Operation {
                auth: Auth::Required,
                request: Some("WithdrawalRequest"),
                success: (201, Body::Json("WithdrawalView")),
                errors: &[403, 404, 409],
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
                idempotent: true,
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
                idempotent: true,
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
            Route::TopStatements => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("StatementsReport")),
                errors: &[400, 403],
                query: &[(
                    "limit",
                    r#"{"type":"integer","minimum":1,"maximum":100}"#,
                    "statements listed (default 20)",
                    false,
                )],
                ..op(
                    Method::GET,
                    "topStatements",
                    "admin",
                    "The statements that took the most database time (pg_stat_statements)",
                )
            },
            Route::ListWilayas => Operation {
                success: (200, Body::JsonList("Wilaya")),
                ..op(
                    Method::GET,
                    "listWilayas",
                    "directory",
                    "The 58 wilayas, by code",
                )
            },
            Route::ListCategories => Operation {
                success: (200, Body::JsonList("Category")),
                ..op(
                    Method::GET,
                    "listCategories",
                    "directory",
                    "The category tree",
                )
            },
            Route::GetCategory(_) => Operation {
                success: (200, Body::Json("Category")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getCategory",
                    "directory",
                    "A category and its subcategories",
                )
            },
            Route::SearchProfessionals => Operation {
                description: Some(
                    "An empty value (`category=`, as an HTML form sends a field left empty) is \
                     the same as leaving the parameter out. A parameter given twice, one not \
                     listed here, or `lat` without `lng` (or the reverse) is a 400 naming it.",
                ),
                success: (200, Body::Json("SearchPage")),
                errors: &[400],
                query: SEARCH_QUERY,
                ..op(
                    Method::GET,
                    "searchProfessionals",
                    "directory",
                    "Search professionals, with facets by category and wilaya",
                )
            },
            Route::CreateProfessional => Operation {
                auth: Auth::Required,
                request: Some("ProfessionalRequest"),
                success: (201, Body::Json("Professional")),
                errors: &[403, 409],
                ..op(
                    Method::POST,
                    "createProfessional",
                    "directory",
                    "Create the caller's professional profile (professionals only)",
                )
            },
            Route::MyProfessional => Operation {
                auth: Auth::Required,
                success: (200, Body::Json("Professional")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "myProfessional",
                    "directory",
                    "The caller's professional profile",
                )
            },
            Route::UpdateMyProfessional => Operation {
                auth: Auth::Required,
                request: Some("ProfessionalUpdate"),
                success: (200, Body::Json("Professional")),
                errors: &[404],
                ..op(
                    Method::PATCH,
                    "updateMyProfessional",
                    "directory",
                    "Change the caller's profile (absent fields stay, null clears)",
                )
            },
            Route::GetProfessional(_) => Operation {
                success: (200, Body::Json("Professional")),
                errors: &[404],
                ..op(
                    Method::GET,
                    "getProfessional",
                    "directory",
                    "A professional's public profile, by id or slug",
                )
            },
            Route::AddService => Operation {
                auth: Auth::Required,
                request: Some("ServiceRequest"),
                success: (201, Body::Json("Service")),
                errors: &[404, 409],
                ..op(
                    Method::POST,
                    "addService",
                    "directory",
                    "Add a service to the caller's profile",
                )
            },
            Route::UpdateService(_) => Operation {
                auth: Auth::Required,
                request: Some("ServiceUpdate"),
                success: (200, Body::Json("Service")),
                errors: &[404],
                ..op(
                    Method::PATCH,
                    "updateService",
                    "directory",
                    "Change a service of the caller's profile",
                )
            },
            Route::RemoveService(_) => Operation {
                auth: Auth::Required,
                success: (204, Body::Empty),
                errors: &[404],
                ..op(
                    Method::DELETE,
                    "removeService",
                    "directory",
                    "Remove a service from the caller's profile",
                )
            },
            Route::ListReviews(_) => Operation {
                success: (200, Body::Json("ReviewPage")),
                errors: &[400, 404],
                query: &[
                    (
                        "sort",
                        r##"{"$ref":"#/components/schemas/ReviewSort"}"##,
                        "the order (default newest)",
                        false,
                    ),
                    PAGE_PARAMETER,
                    LIMIT_PARAMETER,
                ],
                ..op(
                    Method::GET,
                    "listReviews",
                    "directory",
                    "A page of a professional's reviews",
                )
            },
            Route::CreateReview(_) => Operation {
                auth: Auth::Required,
                request: Some("ReviewRequest"),
                success: (201, Body::Json("Review")),
                errors: &[403, 404, 409],
                ..op(
                    Method::POST,
                    "createReview",
                    "directory",
                    "Review a professional, once (never one's own profile)",
                )
            },
            Route::EditReview(_) => Operation {
                auth: Auth::Required,
                request: Some("ReviewRequest"),
                success: (200, Body::Json("Review")),
                errors: &[404],
                ..op(
                    Method::PUT,
                    "editReview",
                    "directory",
                    "Replace the caller's own review",
                )
            },
            Route::ReplyToReview(_) => Operation {
                auth: Auth::Required,
                request: Some("ReplyRequest"),
                success: (200, Body::Json("Review")),
                errors: &[403, 404, 409],
                ..op(
                    Method::POST,
                    "replyToReview",
                    "directory",
                    "The reviewed professional answers a review, once",
                )
            },
            Route::AdministerProfessional(_) => Operation {
                auth: Auth::Required,
                request: Some("ProfessionalAdminUpdate"),
                success: (200, Body::Json("Professional")),
                errors: &[403, 404],
                ..op(
                    Method::PATCH,
                    "administerProfessional",
                    "admin",
                    "Mark a professional verified, or not",
                )
            },
            Route::RevokeApiKey(_) => Operation {
                auth: Auth::Required,
                success: (204, Body::Empty),
                errors: &[403, 404],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_documents_exactly_the_parameters_it_parses() {
        let documented: Vec<&str> = SEARCH_QUERY.iter().map(|(name, ..)| *name).collect();
        assert_eq!(documented, crate::query::SEARCH_PARAMETERS);
    }

    #[test]
    fn public_directory_reads_need_no_credentials_and_writes_do() {
        for route in Route::ALL {
            let operation = route.operation();
            if operation.tag != "directory" {
                continue;
            }
            let public = operation.method == Method::GET && !operation.template.contains("/me");
            assert_eq!(
                operation.auth == Auth::Public,
                public,
                "{} {}",
                operation.method,
                operation.template
            );
        }
    }
}
