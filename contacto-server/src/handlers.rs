//! One tiny handler per route: decode, call one façade method, encode.

use contacto_core::api::{
    BulkTransferRequest, CaptureRequest, CreateApiKeyRequest, DepositRequest, Health, HoldRequest,
    LoginRequest, MerchantFee, OpenWalletRequest, PaymentRequest, ProfessionalAdminUpdate,
    ProfessionalRequest, ProfessionalUpdate, RefundRequest, RegisterRequest, ReplyRequest,
    ReviewRequest, ServiceRequest, ServiceUpdate, TransferRequest, WalletAdminUpdate,
    WithdrawalRequest,
};
use contacto_core::{Error, Principal};
use hyper::body::Incoming;

use crate::app::{AppState, RequestContext};
use crate::error::ApiError;
use crate::http::{Reply, json_body, raw_json_body};
use crate::routes::Route;

/// Runs the handler of `route`.
pub(crate) async fn dispatch(
    state: &AppState,
    ctx: &mut RequestContext,
    route: Route,
    request: hyper::Request<Incoming>,
) -> Result<Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let limit = state.options.body_limit_bytes;
    let timeout = state.options.body_read_timeout;
    let core = &state.core;
    match route {
        Route::Health => Reply::ok(&Health {
            status: "ok".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
        Route::Ready => {
            let readiness = core.readiness().await;
            if readiness.ready {
                Reply::ok(&readiness)
            } else {
                Err(ApiError::NotReady(readiness))
            }
        }
        Route::OpenWallet => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: OpenWalletRequest =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(&core.wallet().open(&principal, &request).await?)
        }
        Route::ListWallets => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().list(&principal).await?)
        }
        Route::GetWallet(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().get(&principal, id).await?)
        }
        Route::WalletTransactions(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let query = crate::query::history(parts.uri.query())?;
            Reply::ok(&core.wallet().history(&principal, id, &query).await?)
        }
        Route::GetTransaction(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().transaction(&principal, id).await?)
        }
        Route::Transfer => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: TransferRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .wallet()
                    .transfer(&principal, &request, Some(&key))
                    .await?,
            )
        }
        Route::TransferBulk => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let limit = limit.max(BULK_BODY_LIMIT_BYTES);
            let request: BulkTransferRequest =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(
                &core
                    .wallet()
                    .transfer_bulk(&principal, &request, &key)
                    .await?,
            )
        }
        Route::Deposit => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: DepositRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(&core.wallet().deposit(&principal, &request).await?)
        }
        Route::GetDeposit(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().deposit_status(&principal, id).await?)
        }
        Route::DepositWebhook => {
            let raw = raw_json_body(&parts.headers, body, limit, timeout).await?;
            let signature = parts
                .headers
                .get(SIGNATURE_HEADER)
                .and_then(|value| value.to_str().ok());
            Reply::ok(&core.wallet().deposit_webhook(&raw, signature).await?)
        }
        Route::Pay => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: PaymentRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(&core.wallet().pay(&principal, &request, Some(&key)).await?)
        }
        Route::GetPayment(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().payment(&principal, id).await?)
        }
        Route::Refund(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: RefundRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .wallet()
                    .refund(&principal, id, &request, Some(&key))
                    .await?,
            )
        }
        Route::SetMerchantFee(merchant) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: MerchantFee = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(
                &core
                    .wallet()
                    .set_merchant_fee(&principal, merchant, request)
                    .await?,
            )
        }
        Route::Authorize => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: HoldRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .wallet()
                    .authorize(&principal, &request, Some(&key))
                    .await?,
            )
        }
        Route::GetHold(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().hold(&principal, id).await?)
        }
        Route::Capture(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: CaptureRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(
                &core
                    .wallet()
                    .capture(&principal, id, &request, Some(&key))
                    .await?,
            )
        }
        Route::Void(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            Reply::ok(&core.wallet().void(&principal, id, Some(&key)).await?)
        }
        Route::Withdraw => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let request: WithdrawalRequest =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .wallet()
                    .withdraw(&principal, &request, Some(&key))
                    .await?,
            )
        }
        Route::GetWithdrawal(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().withdrawal(&principal, id).await?)
        }
        Route::CompleteWithdrawal(id) | Route::FailWithdrawal(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let key = idempotency_key(&parts.headers)?;
            let completed = matches!(route, Route::CompleteWithdrawal(_));
            Reply::ok(
                &core
                    .wallet()
                    .settle_withdrawal(&principal, id, completed, Some(&key))
                    .await?,
            )
        }
        Route::AdministerWallet(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let update: WalletAdminUpdate = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(&core.wallet().administer(&principal, id, &update).await?)
        }
        Route::BalanceAt(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let at = crate::query::at(parts.uri.query())?;
            Reply::ok(&core.wallet().balance_at(&principal, id, at).await?)
        }
        Route::Reconciliation => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.wallet().reconcile(Some(&principal)).await?)
        }
        Route::TopStatements => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let limit = crate::query::statements(parts.uri.query())?;
            Reply::ok(&core.top_statements(Some(&principal), limit).await?)
        }
        Route::ListWilayas => Reply::ok(&core.directory().wilayas().await?),
        Route::ListCategories => Reply::ok(&core.directory().categories(None).await?),
        Route::GetCategory(slug) => {
            // Core answers a subtree as a forest of one root; the resource is that root.
            let subtree = core.directory().categories(Some(slug.as_str())).await?;
            let root = subtree.into_iter().next().ok_or(Error::NotFound {
                resource: "category",
            })?;
            Reply::ok(&root)
        }
        Route::SearchProfessionals => {
            let query = crate::query::search(parts.uri.query())?;
            Reply::ok(&core.directory().search(&query).await?)
        }
        Route::CreateProfessional => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: ProfessionalRequest =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .directory()
                    .create_profile(&principal, &request)
                    .await?,
            )
        }
        Route::MyProfessional => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.directory().my_profile(&principal).await?)
        }
        Route::UpdateMyProfessional => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let update: ProfessionalUpdate =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(&core.directory().update_profile(&principal, &update).await?)
        }
        Route::GetProfessional(key) => Reply::ok(&core.directory().profile(key.as_str()).await?),
        Route::AddService => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: ServiceRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(&core.directory().add_service(&principal, &request).await?)
        }
        Route::UpdateService(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let update: ServiceUpdate = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(
                &core
                    .directory()
                    .update_service(&principal, id, &update)
                    .await?,
            )
        }
        Route::RemoveService(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            core.directory().remove_service(&principal, id).await?;
            Ok(Reply::no_content())
        }
        Route::ListReviews(key) => {
            let query = crate::query::reviews(parts.uri.query())?;
            Reply::ok(
                &core
                    .directory()
                    .reviews(key.as_str(), query.sort, query.page, query.limit)
                    .await?,
            )
        }
        Route::CreateReview(key) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: ReviewRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(
                &core
                    .directory()
                    .review(&principal, key.as_str(), &request)
                    .await?,
            )
        }
        Route::EditReview(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: ReviewRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(
                &core
                    .directory()
                    .edit_review(&principal, id, &request)
                    .await?,
            )
        }
        Route::ReplyToReview(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: ReplyRequest = json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(&core.directory().reply(&principal, id, &request).await?)
        }
        Route::AdministerProfessional(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let update: ProfessionalAdminUpdate =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::ok(&core.directory().administer(&principal, id, &update).await?)
        }
        Route::Metrics => {
            let text = crate::metrics::render(core.registry())
                .map_err(|err| Error::internal("rendering metrics", err))?;
            Ok(Reply::raw("text/plain; version=0.0.4; charset=utf-8", text))
        }
        Route::OpenApi => Ok(Reply::raw("application/json", state.openapi.clone())),
        Route::Postman => {
            let host = parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or("127.0.0.1:8080");
            let collection =
                crate::postman::collection(&crate::openapi::document(), &format!("http://{host}"));
            Reply::ok_raw_json(&collection)
        }
        Route::Docs => Ok(Reply::raw("text/html; charset=utf-8", crate::docs::PAGE)),
        Route::DocsAsset(asset) => {
            let (bytes, media) = crate::docs::asset(asset);
            Ok(Reply::raw(media, bytes))
        }
        Route::Register => {
            let request: RegisterRequest = json_body(&parts.headers, body, limit, timeout).await?;
            let session = core
                .identity()
                .register_from(&request, ctx.client_address)
                .await?;
            ctx.user_id = Some(session.user.id);
            Reply::created(&session)
        }
        Route::Login => {
            let request: LoginRequest = json_body(&parts.headers, body, limit, timeout).await?;
            let session = core.identity().login(&request, ctx.client_address).await?;
            ctx.user_id = Some(session.user.id);
            Reply::ok(&session)
        }
        Route::Me => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.identity().me(&principal).await?)
        }
        Route::CreateApiKey => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            let request: CreateApiKeyRequest =
                json_body(&parts.headers, body, limit, timeout).await?;
            Reply::created(&core.identity().create_api_key(&principal, &request).await?)
        }
        Route::ListApiKeys => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            Reply::ok(&core.identity().list_api_keys(&principal).await?)
        }
        Route::RevokeApiKey(id) => {
            let principal = authenticate(state, ctx, &parts.headers).await?;
            core.identity().revoke_api_key(&principal, id).await?;
            Ok(Reply::no_content())
        }
    }
}

async fn authenticate(
    state: &AppState,
    ctx: &mut RequestContext,
    headers: &http::HeaderMap,
) -> Result<Principal, Error> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    let principal = state.core.identity().authenticate(header).await?;
    ctx.user_id = Some(principal.user_id);
    Ok(principal)
}

/// Body cap of the bulk endpoint, whatever the general cap: as many transfers as a request may
/// hold, each with the longest description written as JSON `\uXXXX` escapes (6 bytes a
/// character, as Python's `json.dumps` writes Arabic by default) and 500 bytes for the rest (two
/// wallet ids, or a wallet id and the longest email, an amount, the keys): 28 MB. Only text
/// beyond the Basic Multilingual Plane (emoji), escaped, takes more.
const BULK_BODY_LIMIT_BYTES: usize =
    contacto_core::MAX_BULK_TRANSFERS * (500 + 6 * contacto_core::DESCRIPTION_MAX_CHARS);

/// The header payment providers sign webhooks in.
pub(crate) const SIGNATURE_HEADER: &str = "x-contacto-signature";

/// The `Idempotency-Key` header, required on every money-moving POST.
fn idempotency_key(headers: &http::HeaderMap) -> Result<String, Error> {
    let value = headers
        .get(crate::openapi::IDEMPOTENCY_KEY_HEADER)
        .ok_or_else(|| {
            Error::invalid(
                "Idempotency-Key",
                "required",
                "money-moving requests need an Idempotency-Key header",
            )
        })?;
    value.to_str().map(str::to_owned).map_err(|_| {
        Error::invalid(
            "Idempotency-Key",
            "invalid_format",
            "printable ASCII characters only",
        )
    })
}
