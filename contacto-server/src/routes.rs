//! The routing table: a pure parser from (method, path) to a [`Route`]. No I/O, unit-tested.

use std::borrow::Cow;

use http::Method;
use uuid::Uuid;

use contacto_core::api::{
    ApiKeyId, DepositId, HoldId, ProfessionalId, ReviewId, ServiceId, TransactionId, UserId,
    WalletId, WithdrawalId,
};

/// A category's slug, or a professional's id or slug, as a path segment names it.
///
/// Only what a slug or a UUID can be gets through (lower-case ASCII letters, digits and hyphens,
/// at most [`PathKey::MAX_LEN`] bytes), so junk never reaches the database and a 404 answers it
/// here; `me` is never a key, because `/api/v1/professionals/me` is the caller's own profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathKey(Cow<'static, str>);

impl PathKey {
    /// Longest key: slugs are at most 60 characters, plus a suffix that makes them unique.
    pub const MAX_LEN: usize = 128;

    /// The key the documents and the route table use as an example (a category that exists).
    pub const EXAMPLE: PathKey = PathKey(Cow::Borrowed("plombier"));

    /// A slug, as the documents describe it (the database checks the same pattern).
    pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

    /// A professional's id or slug, as the documents describe it: [`PathKey::SLUG_PATTERN`]
    /// (which a UUID also matches) except `me`, spelt without look-ahead so that every tool
    /// that generates values from it can.
    pub const PROFESSIONAL_PATTERN: &str =
        "^([a-ln-z0-9][a-z0-9]*|m|m[a-df-z0-9][a-z0-9]*|me[a-z0-9]+|me-[a-z0-9]+)(-[a-z0-9]+)*$";

    fn parse(segment: &str) -> Option<Self> {
        let well_formed = !segment.is_empty()
            && segment.len() <= Self::MAX_LEN
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && segment != "me";
        well_formed.then(|| PathKey(Cow::Owned(segment.to_owned())))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every operation the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`
    Health,
    /// `GET /ready`
    Ready,
    /// `POST /api/v1/auth/register`
    Register,
    /// `POST /api/v1/auth/login`
    Login,
    /// `GET /api/v1/users/me`
    Me,
    /// `POST /api/v1/api-keys`
    CreateApiKey,
    /// `GET /api/v1/api-keys`
    ListApiKeys,
    /// `DELETE /api/v1/api-keys/{id}`
    RevokeApiKey(ApiKeyId),
    /// `POST /api/v1/wallets`
    OpenWallet,
    /// `GET /api/v1/wallets`
    ListWallets,
    /// `GET /api/v1/wallets/{id}`
    GetWallet(WalletId),
    /// `GET /api/v1/wallets/{id}/transactions`
    WalletTransactions(WalletId),
    /// `GET /api/v1/transactions/{id}`
    GetTransaction(TransactionId),
    /// `POST /api/v1/transfers`
    Transfer,
    /// `POST /api/v1/transfers/batch`
    TransferBulk,
    /// `POST /api/v1/deposits`
    Deposit,
    /// `GET /api/v1/deposits/{id}`
    GetDeposit(DepositId),
    /// `POST /api/v1/deposits/webhook`
    DepositWebhook,
    /// `GET /api/v1/admin/reconciliation`
    Reconciliation,
    /// `POST /api/v1/payments`
    Pay,
    /// `GET /api/v1/payments/{id}`
    GetPayment(TransactionId),
    /// `POST /api/v1/payments/{id}/refunds`
    Refund(TransactionId),
    /// `PUT /api/v1/admin/merchants/{id}/fee`
    SetMerchantFee(UserId),
    /// `PATCH /api/v1/admin/wallets/{id}`
    AdministerWallet(WalletId),
    /// `GET /api/v1/wallets/{id}/balance`
    BalanceAt(WalletId),
    /// `POST /api/v1/holds`
    Authorize,
    /// `GET /api/v1/holds/{id}`
    GetHold(HoldId),
    /// `POST /api/v1/holds/{id}/capture`
    Capture(HoldId),
    /// `POST /api/v1/holds/{id}/void`
    Void(HoldId),
    /// `POST /api/v1/withdrawals`
    Withdraw,
    /// `GET /api/v1/withdrawals/{id}`
    GetWithdrawal(WithdrawalId),
    /// `POST /api/v1/admin/withdrawals/{id}/complete`
    CompleteWithdrawal(WithdrawalId),
    /// `POST /api/v1/admin/withdrawals/{id}/fail`
    FailWithdrawal(WithdrawalId),
    /// `GET /api/v1/wilayas`
    ListWilayas,
    /// `GET /api/v1/categories`
    ListCategories,
    /// `GET /api/v1/categories/{slug}`
    GetCategory(PathKey),
    /// `GET /api/v1/professionals`
    SearchProfessionals,
    /// `POST /api/v1/professionals`
    CreateProfessional,
    /// `GET /api/v1/professionals/me`
    MyProfessional,
    /// `PATCH /api/v1/professionals/me`
    UpdateMyProfessional,
    /// `GET /api/v1/professionals/{id_or_slug}`
    GetProfessional(PathKey),
    /// `POST /api/v1/professionals/me/services`
    AddService,
    /// `PATCH /api/v1/professionals/me/services/{id}`
    UpdateService(ServiceId),
    /// `DELETE /api/v1/professionals/me/services/{id}`
    RemoveService(ServiceId),
    /// `GET /api/v1/professionals/{id_or_slug}/reviews`
    ListReviews(PathKey),
    /// `POST /api/v1/professionals/{id_or_slug}/reviews`
    CreateReview(PathKey),
    /// `PUT /api/v1/reviews/{id}`
    EditReview(ReviewId),
    /// `POST /api/v1/reviews/{id}/reply`
    ReplyToReview(ReviewId),
    /// `PATCH /api/v1/admin/professionals/{id}`
    AdministerProfessional(ProfessionalId),
    /// `GET /api/v1/admin/statements`
    TopStatements,
    /// `GET /metrics`
    Metrics,
    /// `GET /api/v1/openapi.json`
    OpenApi,
    /// `GET /api/v1/postman.json`
    Postman,
    /// `GET /docs`
    Docs,
    /// `GET /docs/{asset}`
    DocsAsset(DocsAsset),
}

/// The files Swagger UI needs, built into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocsAsset {
    /// `swagger-ui-bundle.js`
    Bundle,
    /// `swagger-ui.css`
    Stylesheet,
}

impl DocsAsset {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "swagger-ui-bundle.js" => Some(DocsAsset::Bundle),
            "swagger-ui.css" => Some(DocsAsset::Stylesheet),
            _ => None,
        }
    }
}

impl Route {
    /// The route's template, for metrics and logs: never the raw path, whose ids would make
    /// unbounded label values.
    pub fn template(&self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::Ready => "/ready",
            Route::Register => "/api/v1/auth/register",
            Route::Login => "/api/v1/auth/login",
            Route::Me => "/api/v1/users/me",
            Route::CreateApiKey | Route::ListApiKeys => "/api/v1/api-keys",
            Route::RevokeApiKey(_) => "/api/v1/api-keys/{id}",
            Route::OpenWallet | Route::ListWallets => "/api/v1/wallets",
            Route::GetWallet(_) => "/api/v1/wallets/{id}",
            Route::WalletTransactions(_) => "/api/v1/wallets/{id}/transactions",
            Route::GetTransaction(_) => "/api/v1/transactions/{id}",
            Route::Transfer => "/api/v1/transfers",
            Route::TransferBulk => "/api/v1/transfers/batch",
            Route::Deposit => "/api/v1/deposits",
            Route::GetDeposit(_) => "/api/v1/deposits/{id}",
            Route::DepositWebhook => "/api/v1/deposits/webhook",
            Route::Reconciliation => "/api/v1/admin/reconciliation",
            Route::Pay => "/api/v1/payments",
            Route::GetPayment(_) => "/api/v1/payments/{id}",
            Route::Refund(_) => "/api/v1/payments/{id}/refunds",
            Route::SetMerchantFee(_) => "/api/v1/admin/merchants/{id}/fee",
            Route::AdministerWallet(_) => "/api/v1/admin/wallets/{id}",
            Route::BalanceAt(_) => "/api/v1/wallets/{id}/balance",
            Route::Authorize => "/api/v1/holds",
            Route::GetHold(_) => "/api/v1/holds/{id}",
            Route::Capture(_) => "/api/v1/holds/{id}/capture",
            Route::Void(_) => "/api/v1/holds/{id}/void",
            Route::Withdraw => "/api/v1/withdrawals",
            Route::GetWithdrawal(_) => "/api/v1/withdrawals/{id}",
            Route::CompleteWithdrawal(_) => "/api/v1/admin/withdrawals/{id}/complete",
            Route::FailWithdrawal(_) => "/api/v1/admin/withdrawals/{id}/fail",
            Route::ListWilayas => "/api/v1/wilayas",
            Route::ListCategories => "/api/v1/categories",
            Route::GetCategory(_) => "/api/v1/categories/{slug}",
            Route::SearchProfessionals | Route::CreateProfessional => "/api/v1/professionals",
            Route::MyProfessional | Route::UpdateMyProfessional => "/api/v1/professionals/me",
            Route::GetProfessional(_) => "/api/v1/professionals/{id_or_slug}",
            Route::AddService => "/api/v1/professionals/me/services",
            Route::UpdateService(_) | Route::RemoveService(_) => {
                "/api/v1/professionals/me/services/{id}"
            }
            Route::ListReviews(_) | Route::CreateReview(_) => {
                "/api/v1/professionals/{id_or_slug}/reviews"
            }
            Route::EditReview(_) => "/api/v1/reviews/{id}",
            Route::ReplyToReview(_) => "/api/v1/reviews/{id}/reply",
            Route::AdministerProfessional(_) => "/api/v1/admin/professionals/{id}",
            Route::TopStatements => "/api/v1/admin/statements",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/api/v1/openapi.json",
            Route::Postman => "/api/v1/postman.json",
            Route::Docs => "/docs",
            Route::DocsAsset(_) => "/docs/{asset}",
        }
    }

    /// One instance of every route, in the order the API documents them.
    pub const ALL: &'static [Route] = &[
        Route::Health,
        Route::Ready,
        Route::Metrics,
        Route::OpenApi,
        Route::Postman,
        Route::Docs,
        Route::DocsAsset(DocsAsset::Bundle),
        Route::Register,
        Route::Login,
        Route::Me,
        Route::CreateApiKey,
        Route::ListApiKeys,
        Route::RevokeApiKey(ApiKeyId(Uuid::nil())),
        Route::OpenWallet,
        Route::ListWallets,
        Route::GetWallet(WalletId(Uuid::nil())),
        Route::Deposit,
        Route::GetDeposit(DepositId(Uuid::nil())),
        Route::DepositWebhook,
        Route::Transfer,
        Route::TransferBulk,
        Route::Pay,
        Route::GetPayment(TransactionId(Uuid::nil())),
        Route::Refund(TransactionId(Uuid::nil())),
        Route::Withdraw,
        Route::GetWithdrawal(WithdrawalId(Uuid::nil())),
        Route::Authorize,
        Route::GetHold(HoldId(Uuid::nil())),
        Route::Capture(HoldId(Uuid::nil())),
        Route::Void(HoldId(Uuid::nil())),
        Route::WalletTransactions(WalletId(Uuid::nil())),
        Route::GetTransaction(TransactionId(Uuid::nil())),
        Route::BalanceAt(WalletId(Uuid::nil())),
        Route::ListWilayas,
        Route::ListCategories,
        Route::GetCategory(PathKey::EXAMPLE),
        Route::SearchProfessionals,
        Route::CreateProfessional,
        Route::MyProfessional,
        Route::UpdateMyProfessional,
        Route::GetProfessional(PathKey::EXAMPLE),
        Route::AddService,
        Route::UpdateService(ServiceId(Uuid::nil())),
        Route::RemoveService(ServiceId(Uuid::nil())),
        Route::ListReviews(PathKey::EXAMPLE),
        Route::CreateReview(PathKey::EXAMPLE),
        Route::EditReview(ReviewId(Uuid::nil())),
        Route::ReplyToReview(ReviewId(Uuid::nil())),
        Route::Reconciliation,
        Route::SetMerchantFee(UserId(Uuid::nil())),
        Route::AdministerWallet(WalletId(Uuid::nil())),
        Route::CompleteWithdrawal(WithdrawalId(Uuid::nil())),
        Route::FailWithdrawal(WithdrawalId(Uuid::nil())),
        Route::AdministerProfessional(ProfessionalId(Uuid::nil())),
        Route::TopStatements,
    ];
}

/// Why a request matched no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No resource at this path.
    NotFound,
    /// The resource exists but not with this method; these are the methods it takes.
    MethodNotAllowed(&'static [Method]),
}

/// A path's resource, before the method is considered.
enum Resource {
    Health,
    Ready,
    Register,
    Login,
    Me,
    ApiKeys,
    ApiKey(ApiKeyId),
    Wallets,
    Wallet(WalletId),
    WalletTransactions(WalletId),
    Transaction(TransactionId),
    Transfers,
    TransfersBatch,
    Deposits,
    Deposit(DepositId),
    DepositWebhook,
    Reconciliation,
    Payments,
    Payment(TransactionId),
    Refunds(TransactionId),
    MerchantFee(UserId),
    AdminWallet(WalletId),
    Balance(WalletId),
    Holds,
    Hold(HoldId),
    Capture(HoldId),
    Void(HoldId),
    Withdrawals,
    Withdrawal(WithdrawalId),
    CompleteWithdrawal(WithdrawalId),
    FailWithdrawal(WithdrawalId),
    Wilayas,
    Categories,
    Category(PathKey),
    Professionals,
    MyProfessional,
    Professional(PathKey),
    MyServices,
    MyService(ServiceId),
    ProfessionalReviews(PathKey),
    Review(ReviewId),
    ReviewReply(ReviewId),
    AdminProfessional(ProfessionalId),
    Statements,
    Metrics,
    OpenApi,
    Postman,
    Docs,
    DocsAsset(DocsAsset),
}

impl Resource {
    fn from_path(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        Some(match segments.as_slice() {
            ["health"] => Resource::Health,
            ["ready"] => Resource::Ready,
            ["metrics"] => Resource::Metrics,
            ["docs"] => Resource::Docs,
            ["docs", asset] => Resource::DocsAsset(DocsAsset::from_name(asset)?),
            ["api", "v1", rest @ ..] => match rest {
                ["auth", "register"] => Resource::Register,
                ["auth", "login"] => Resource::Login,
                ["users", "me"] => Resource::Me,
                ["api-keys"] => Resource::ApiKeys,
                ["wallets"] => Resource::Wallets,
                ["wallets", id] => Resource::Wallet(WalletId(uuid(id)?)),
                ["wallets", id, "transactions"] => {
                    Resource::WalletTransactions(WalletId(uuid(id)?))
                }
                ["transactions", id] => Resource::Transaction(TransactionId(uuid(id)?)),
                ["transfers"] => Resource::Transfers,
                ["transfers", "batch"] => Resource::TransfersBatch,
                ["deposits"] => Resource::Deposits,
                ["deposits", "webhook"] => Resource::DepositWebhook,
                ["deposits", id] => Resource::Deposit(DepositId(uuid(id)?)),
                ["admin", "reconciliation"] => Resource::Reconciliation,
                ["admin", "statements"] => Resource::Statements,
                ["admin", "merchants", id, "fee"] => Resource::MerchantFee(UserId(uuid(id)?)),
                ["admin", "wallets", id] => Resource::AdminWallet(WalletId(uuid(id)?)),
                ["wallets", id, "balance"] => Resource::Balance(WalletId(uuid(id)?)),
                ["holds"] => Resource::Holds,
                ["holds", id] => Resource::Hold(HoldId(uuid(id)?)),
                ["holds", id, "capture"] => Resource::Capture(HoldId(uuid(id)?)),
                ["holds", id, "void"] => Resource::Void(HoldId(uuid(id)?)),
                ["withdrawals"] => Resource::Withdrawals,
                ["withdrawals", id] => Resource::Withdrawal(WithdrawalId(uuid(id)?)),
                ["admin", "withdrawals", id, "complete"] => {
                    Resource::CompleteWithdrawal(WithdrawalId(uuid(id)?))
                }
                ["admin", "withdrawals", id, "fail"] => {
                    Resource::FailWithdrawal(WithdrawalId(uuid(id)?))
                }
                ["payments"] => Resource::Payments,
                ["payments", id] => Resource::Payment(TransactionId(uuid(id)?)),
                ["payments", id, "refunds"] => Resource::Refunds(TransactionId(uuid(id)?)),
                ["wilayas"] => Resource::Wilayas,
                ["categories"] => Resource::Categories,
                ["categories", slug] => Resource::Category(PathKey::parse(slug)?),
                ["professionals"] => Resource::Professionals,
                ["professionals", "me"] => Resource::MyProfessional,
                ["professionals", "me", "services"] => Resource::MyServices,
                ["professionals", "me", "services", id] => {
                    Resource::MyService(ServiceId(uuid(id)?))
                }
                ["professionals", key] => Resource::Professional(PathKey::parse(key)?),
                ["professionals", key, "reviews"] => {
                    Resource::ProfessionalReviews(PathKey::parse(key)?)
                }
                ["reviews", id] => Resource::Review(ReviewId(uuid(id)?)),
                ["reviews", id, "reply"] => Resource::ReviewReply(ReviewId(uuid(id)?)),
                ["admin", "professionals", id] => {
                    Resource::AdminProfessional(ProfessionalId(uuid(id)?))
                }
                ["openapi.json"] => Resource::OpenApi,
                ["postman.json"] => Resource::Postman,
                ["api-keys", id] => Resource::ApiKey(ApiKeyId(uuid(id)?)),
                _ => return None,
            },
            _ => return None,
        })
    }

    fn methods(&self) -> &'static [Method] {
        const GET_POST: &[Method] = &[Method::GET, Method::HEAD, Method::POST];
        const GET: &[Method] = &[Method::GET, Method::HEAD];
        const POST: &[Method] = &[Method::POST];
        match self {
            Resource::Health
            | Resource::Ready
            | Resource::Me
            | Resource::Metrics
            | Resource::OpenApi
            | Resource::Postman
            | Resource::Docs
            | Resource::DocsAsset(_)
            | Resource::Wallet(_)
            | Resource::WalletTransactions(_)
            | Resource::Transaction(_)
            | Resource::Deposit(_)
            | Resource::Payment(_)
            | Resource::Balance(_)
            | Resource::Withdrawal(_)
            | Resource::Hold(_)
            | Resource::Reconciliation
            | Resource::Statements
            | Resource::Wilayas
            | Resource::Categories
            | Resource::Category(_)
            | Resource::Professional(_) => GET,
            Resource::Professionals | Resource::ProfessionalReviews(_) => GET_POST,
            Resource::MyProfessional => &[Method::GET, Method::HEAD, Method::PATCH],
            Resource::MyServices | Resource::ReviewReply(_) => POST,
            Resource::MyService(_) => &[Method::PATCH, Method::DELETE],
            Resource::Review(_) => &[Method::PUT],
            Resource::AdminProfessional(_) => &[Method::PATCH],
            Resource::Holds | Resource::Capture(_) | Resource::Void(_) => POST,
            Resource::Withdrawals
            | Resource::CompleteWithdrawal(_)
            | Resource::FailWithdrawal(_) => POST,
            Resource::AdminWallet(_) => &[Method::PATCH],
            Resource::MerchantFee(_) => &[Method::PUT],
            Resource::Payments | Resource::Refunds(_) => POST,
            Resource::Wallets => GET_POST,
            Resource::Transfers
            | Resource::TransfersBatch
            | Resource::Deposits
            | Resource::DepositWebhook => POST,
            Resource::Register | Resource::Login => POST,
            Resource::ApiKeys => GET_POST,
            Resource::ApiKey(_) => &[Method::DELETE],
        }
    }

    fn route(self, method: &Method) -> Option<Route> {
        let get = *method == Method::GET || *method == Method::HEAD;
        Some(match (self, method) {
            (Resource::Health, _) if get => Route::Health,
            (Resource::Ready, _) if get => Route::Ready,
            (Resource::Me, _) if get => Route::Me,
            (Resource::Metrics, _) if get => Route::Metrics,
            (Resource::OpenApi, _) if get => Route::OpenApi,
            (Resource::Postman, _) if get => Route::Postman,
            (Resource::Docs, _) if get => Route::Docs,
            (Resource::DocsAsset(asset), _) if get => Route::DocsAsset(asset),
            (Resource::Register, &Method::POST) => Route::Register,
            (Resource::Login, &Method::POST) => Route::Login,
            (Resource::ApiKeys, &Method::POST) => Route::CreateApiKey,
            (Resource::ApiKeys, _) if get => Route::ListApiKeys,
            (Resource::ApiKey(id), &Method::DELETE) => Route::RevokeApiKey(id),
            (Resource::Wallets, &Method::POST) => Route::OpenWallet,
            (Resource::Wallets, _) if get => Route::ListWallets,
            (Resource::Wallet(id), _) if get => Route::GetWallet(id),
            (Resource::WalletTransactions(id), _) if get => Route::WalletTransactions(id),
            (Resource::Transaction(id), _) if get => Route::GetTransaction(id),
            (Resource::Transfers, &Method::POST) => Route::Transfer,
            (Resource::TransfersBatch, &Method::POST) => Route::TransferBulk,
            (Resource::Deposits, &Method::POST) => Route::Deposit,
            (Resource::Deposit(id), _) if get => Route::GetDeposit(id),
            (Resource::DepositWebhook, &Method::POST) => Route::DepositWebhook,
            (Resource::Reconciliation, _) if get => Route::Reconciliation,
            (Resource::Statements, _) if get => Route::TopStatements,
            (Resource::Payments, &Method::POST) => Route::Pay,
            (Resource::Payment(id), _) if get => Route::GetPayment(id),
            (Resource::Refunds(id), &Method::POST) => Route::Refund(id),
            (Resource::MerchantFee(id), &Method::PUT) => Route::SetMerchantFee(id),
            (Resource::AdminWallet(id), &Method::PATCH) => Route::AdministerWallet(id),
            (Resource::Balance(id), _) if get => Route::BalanceAt(id),
            (Resource::Holds, &Method::POST) => Route::Authorize,
            (Resource::Hold(id), _) if get => Route::GetHold(id),
            (Resource::Capture(id), &Method::POST) => Route::Capture(id),
            (Resource::Void(id), &Method::POST) => Route::Void(id),
            (Resource::Withdrawals, &Method::POST) => Route::Withdraw,
            (Resource::Withdrawal(id), _) if get => Route::GetWithdrawal(id),
            (Resource::CompleteWithdrawal(id), &Method::POST) => Route::CompleteWithdrawal(id),
            (Resource::FailWithdrawal(id), &Method::POST) => Route::FailWithdrawal(id),
            (Resource::Wilayas, _) if get => Route::ListWilayas,
            (Resource::Categories, _) if get => Route::ListCategories,
            (Resource::Category(slug), _) if get => Route::GetCategory(slug),
            (Resource::Professionals, &Method::POST) => Route::CreateProfessional,
            (Resource::Professionals, _) if get => Route::SearchProfessionals,
            (Resource::MyProfessional, &Method::PATCH) => Route::UpdateMyProfessional,
            (Resource::MyProfessional, _) if get => Route::MyProfessional,
            (Resource::Professional(key), _) if get => Route::GetProfessional(key),
            (Resource::MyServices, &Method::POST) => Route::AddService,
            (Resource::MyService(id), &Method::PATCH) => Route::UpdateService(id),
            (Resource::MyService(id), &Method::DELETE) => Route::RemoveService(id),
            (Resource::ProfessionalReviews(key), &Method::POST) => Route::CreateReview(key),
            (Resource::ProfessionalReviews(key), _) if get => Route::ListReviews(key),
            (Resource::Review(id), &Method::PUT) => Route::EditReview(id),
            (Resource::ReviewReply(id), &Method::POST) => Route::ReplyToReview(id),
            (Resource::AdminProfessional(id), &Method::PATCH) => Route::AdministerProfessional(id),
            _ => return None,
        })
    }
}

fn uuid(segment: &str) -> Option<Uuid> {
    Uuid::parse_str(segment).ok()
}

/// Finds the route for a request.
///
/// # Errors
///
/// [`RouteError::NotFound`] for unknown paths (malformed ids included),
/// [`RouteError::MethodNotAllowed`] with the allowed methods otherwise.
pub fn parse(method: &Method, path: &str) -> Result<Route, RouteError> {
    let resource = Resource::from_path(path).ok_or(RouteError::NotFound)?;
    let allowed = resource.methods();
    resource
        .route(method)
        .ok_or(RouteError::MethodNotAllowed(allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_and_methods_map_to_their_routes() {
        let id = Uuid::new_v4();
        let cases = [
            (Method::GET, "/health".to_owned(), Route::Health),
            (Method::HEAD, "/health".to_owned(), Route::Health),
            (Method::GET, "/ready".to_owned(), Route::Ready),
            (
                Method::POST,
                "/api/v1/auth/register".to_owned(),
                Route::Register,
            ),
            (Method::POST, "/api/v1/auth/login".to_owned(), Route::Login),
            (Method::GET, "/api/v1/users/me".to_owned(), Route::Me),
            (
                Method::POST,
                "/api/v1/api-keys".to_owned(),
                Route::CreateApiKey,
            ),
            (
                Method::GET,
                "/api/v1/api-keys".to_owned(),
                Route::ListApiKeys,
            ),
            (
                Method::DELETE,
                format!("/api/v1/api-keys/{id}"),
                Route::RevokeApiKey(ApiKeyId(id)),
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(parse(&method, &path), Ok(route), "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        let cases = [
            ("", "empty"),
            ("/", "root"),
            ("/health/", "trailing slash"),
            ("/api/v2/auth/login", "unknown version"),
            ("/api/v1/api-keys/not-a-uuid", "malformed id"),
            ("/api/v1/users/me/extra", "extra segment"),
            ("health", "no leading slash"),
        ];
        for (path, why) in cases {
            assert_eq!(
                parse(&Method::GET, path),
                Err(RouteError::NotFound),
                "{why}"
            );
        }
    }

    #[test]
    fn a_wrong_method_lists_the_allowed_ones() {
        let Err(RouteError::MethodNotAllowed(allowed)) = parse(&Method::GET, "/api/v1/auth/login")
        else {
            panic!("expected 405");
        };
        assert_eq!(allowed, &[Method::POST]);
        let Err(RouteError::MethodNotAllowed(allowed)) = parse(&Method::PUT, "/api/v1/api-keys")
        else {
            panic!("expected 405");
        };
        assert!(allowed.contains(&Method::GET) && allowed.contains(&Method::POST));
    }

    #[test]
    fn every_listed_route_parses_from_its_own_template() {
        for route in Route::ALL {
            let operation = route.operation();
            let path = operation
                .template
                .replace("{id}", &Uuid::nil().to_string())
                .replace("{asset}", "swagger-ui-bundle.js")
                .replace("{slug}", PathKey::EXAMPLE.as_str())
                .replace("{id_or_slug}", PathKey::EXAMPLE.as_str());
            assert_eq!(parse(&operation.method, &path), Ok(route.clone()), "{path}");
        }
    }

    #[test]
    fn directory_paths_map_to_their_routes() {
        let id = Uuid::new_v4();
        let key = |text: &str| PathKey(Cow::Owned(text.to_owned()));
        let cases = [
            (
                Method::GET,
                "/api/v1/wilayas".to_owned(),
                Route::ListWilayas,
            ),
            (
                Method::GET,
                "/api/v1/categories/plombier".to_owned(),
                Route::GetCategory(key("plombier")),
            ),
            (
                Method::GET,
                "/api/v1/professionals".to_owned(),
                Route::SearchProfessionals,
            ),
            (
                Method::POST,
                "/api/v1/professionals".to_owned(),
                Route::CreateProfessional,
            ),
            (
                Method::GET,
                "/api/v1/professionals/me".to_owned(),
                Route::MyProfessional,
            ),
            (
                Method::PATCH,
                "/api/v1/professionals/me".to_owned(),
                Route::UpdateMyProfessional,
            ),
            (
                Method::GET,
                "/api/v1/professionals/karim-benali-2".to_owned(),
                Route::GetProfessional(key("karim-benali-2")),
            ),
            (
                Method::GET,
                format!("/api/v1/professionals/{id}"),
                Route::GetProfessional(key(&id.to_string())),
            ),
            (
                Method::DELETE,
                format!("/api/v1/professionals/me/services/{id}"),
                Route::RemoveService(ServiceId(id)),
            ),
            (
                Method::POST,
                "/api/v1/professionals/karim/reviews".to_owned(),
                Route::CreateReview(key("karim")),
            ),
            (
                Method::HEAD,
                "/api/v1/professionals/karim/reviews".to_owned(),
                Route::ListReviews(key("karim")),
            ),
            (
                Method::PUT,
                format!("/api/v1/reviews/{id}"),
                Route::EditReview(ReviewId(id)),
            ),
            (
                Method::POST,
                format!("/api/v1/reviews/{id}/reply"),
                Route::ReplyToReview(ReviewId(id)),
            ),
            (
                Method::PATCH,
                format!("/api/v1/admin/professionals/{id}"),
                Route::AdministerProfessional(ProfessionalId(id)),
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(parse(&method, &path), Ok(route), "{method} {path}");
        }
    }

    #[test]
    fn the_statements_report_is_read_only() {
        assert_eq!(
            parse(&Method::GET, "/api/v1/admin/statements"),
            Ok(Route::TopStatements)
        );
        assert_eq!(
            parse(&Method::DELETE, "/api/v1/admin/statements"),
            Err(RouteError::MethodNotAllowed(&[Method::GET, Method::HEAD]))
        );
    }

    #[test]
    fn keys_that_no_slug_or_id_can_be_are_not_found() {
        let long = "a".repeat(PathKey::MAX_LEN + 1);
        let cases = [
            ("/api/v1/professionals/Karim", "upper case"),
            ("/api/v1/professionals/karim%20b", "an escaped space"),
            ("/api/v1/professionals/karim_b", "an underscore"),
            ("/api/v1/categories/", "empty"),
            ("/api/v1/professionals/me/reviews", "me is not a key"),
            (
                "/api/v1/professionals/me/services/not-a-uuid",
                "malformed id",
            ),
        ];
        for (path, why) in cases {
            assert_eq!(
                parse(&Method::GET, path),
                Err(RouteError::NotFound),
                "{why}"
            );
        }
        assert_eq!(
            parse(&Method::GET, &format!("/api/v1/professionals/{long}")),
            Err(RouteError::NotFound),
            "too long"
        );
    }

    #[test]
    fn the_own_profile_takes_get_and_patch_only() {
        let Err(RouteError::MethodNotAllowed(allowed)) =
            parse(&Method::POST, "/api/v1/professionals/me")
        else {
            panic!("expected 405");
        };
        assert_eq!(allowed, &[Method::GET, Method::HEAD, Method::PATCH]);
        let Err(RouteError::MethodNotAllowed(allowed)) =
            parse(&Method::PATCH, "/api/v1/professionals/karim")
        else {
            panic!("expected 405");
        };
        assert_eq!(allowed, &[Method::GET, Method::HEAD]);
    }

    #[test]
    fn templates_never_contain_ids_or_slugs() {
        let cases = [
            (
                Method::DELETE,
                format!("/api/v1/api-keys/{}", Uuid::new_v4()),
                "/api/v1/api-keys/{id}",
            ),
            (
                Method::GET,
                "/api/v1/professionals/karim-benali/reviews".to_owned(),
                "/api/v1/professionals/{id_or_slug}/reviews",
            ),
            (
                Method::GET,
                "/api/v1/categories/plombier".to_owned(),
                "/api/v1/categories/{slug}",
            ),
        ];
        for (method, path, template) in cases {
            assert_eq!(parse(&method, &path).unwrap().template(), template);
        }
    }
}
