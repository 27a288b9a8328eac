//! One tiny handler per route: decode, call one façade method, encode.

use contacto_core::api::{CreateApiKeyRequest, Health, LoginRequest, RegisterRequest};
use contacto_core::{Error, Principal};
use hyper::body::Incoming;

use crate::app::{AppState, RequestContext};
use crate::error::ApiError;
use crate::http::{Reply, json_body};
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
            let session = core.identity().register(&request).await?;
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
