//! The HTTP service: request ids, routing, error envelopes, logging, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contacto_core::Contacto;
use contacto_core::api::UserId;
use http::HeaderValue;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::error::{ApiError, error_chain};
use crate::handlers::dispatch;
use crate::http::{Response, error_response};
use crate::metrics::HttpMetrics;
use crate::routes;
use tracing::Instrument;

/// The header carrying the request id, accepted from callers and echoed back.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id accepted from a caller; longer ones are replaced, not truncated.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Default cap on a request body: the largest request of the API (a bulk transfer of thousands of
/// items) fits comfortably, while a client cannot make the server buffer more than this.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Default cap on open connections: beyond it, new connections wait in the kernel's backlog
/// instead of each costing a task and buffers.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest request body accepted (413 beyond).
    pub body_limit_bytes: usize,
    /// How long a client may take to send a request's body (408 beyond).
    pub body_read_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request's headers (slow-loris protection).
    pub header_read_timeout: Duration,
    /// Take the client address from the right-most `X-Forwarded-For` entry (behind a proxy).
    pub trust_proxy: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            body_read_timeout: Duration::from_secs(30),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            trust_proxy: false,
        }
    }
}

/// What every request handler can reach.
pub(crate) struct AppState {
    pub(crate) core: Contacto,
    pub(crate) options: HttpOptions,
    pub(crate) metrics: Option<HttpMetrics>,
    /// The OpenAPI document, rendered once.
    pub(crate) openapi: bytes::Bytes,
}

/// Facts about one request gathered while it is handled, for its log line.
pub(crate) struct RequestContext {
    pub(crate) client_address: Option<IpAddr>,
    pub(crate) user_id: Option<UserId>,
}

/// Serves `core` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (up to [`HttpOptions::shutdown_grace`]).
pub async fn serve(
    listener: TcpListener,
    core: Contacto,
    options: HttpOptions,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    let metrics = match HttpMetrics::register(core.registry()) {
        Ok(metrics) => Some(metrics),
        Err(err) => {
            // Serving twice on one registry: the first server's series stay the ones exported.
            tracing::warn!(error = %err, "HTTP metrics not registered");
            None
        }
    };
    let openapi = serde_json::to_vec(&crate::openapi::document())
        .map(bytes::Bytes::from)
        .unwrap_or_default();
    let state = Arc::new(AppState {
        core,
        options,
        metrics,
        openapi,
    });
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
            break;
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let header_read_timeout = state.options.header_read_timeout;
                let state = Arc::clone(&state);
                let service = service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(handle_isolated(state, request, peer).await) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(state.options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: closing the remaining connections");
    }
}

/// Runs the handler in a task of its own, so that a panic (a bug) becomes a 500 envelope instead
/// of a dropped connection.
async fn handle_isolated(
    state: Arc<AppState>,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let request_id = request_id(&request);
    let header_id = request_id.clone();
    // Boxed: the handler's future holds every route's state (over 8 kB), and a task keeps its
    // future inline, so an unboxed one was copied several times per request on its way into
    // the task and out of it.
    let handler = Box::pin(async move { handle(&state, request, peer, request_id).await });
    match tokio::spawn(handler).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(request_id = header_id, error = %err, "request handler panicked");
            let mut response = error_response(&ApiError::Core(contacto_core::Error::internal(
                "handling a request",
                err.to_string(),
            )));
            if let Ok(value) = HeaderValue::from_str(&header_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            response
        }
    }
}

/// The caller's request id if well-formed, else a new one.
fn request_id(request: &hyper::Request<Incoming>) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_well_formed_request_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

async fn handle(
    state: &AppState,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    request_id: String,
) -> Response {
    let started = Instant::now();
    let in_flight = state.metrics.as_ref().map(HttpMetrics::start);
    let method = request.method().clone();
    let mut ctx = RequestContext {
        client_address: Some(client_address(&request, peer, state.options.trust_proxy)),
        user_id: None,
    };
    let route = routes::parse(&method, request.uri().path());
    let template = route.as_ref().map_or("unmatched", |r| r.template());
    // Application events logged while the request is handled carry its id.
    let span = tracing::info_span!("request", request_id = %request_id);
    let result = match route {
        Ok(route) => {
            dispatch(state, &mut ctx, route, request)
                .instrument(span)
                .await
        }
        Err(err) => Err(ApiError::from(err)),
    };
    let (mut response, error) = match result {
        Ok(reply) => (reply.into_response(), None),
        Err(err) => (error_response(&err), Some(err)),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(metrics) = &state.metrics {
        metrics.finish(&method, template, status, elapsed);
    }
    drop(in_flight);
    let latency_ms = elapsed * 1000.0;
    let user_id = ctx.user_id.map(|id| id.to_string());
    match &error {
        Some(err) if err.status().is_server_error() => {
            // The full chain is logged once, here; the caller's body carries none of it.
            let chain = err.core().map(|e| error_chain(e)).unwrap_or_default();
            tracing::error!(request_id, %method, route = template, status, latency_ms, user_id,
                error_code = err.code(), error = chain, "request failed");
        }
        Some(err) => tracing::info!(request_id, %method, route = template, status, latency_ms,
            user_id, error_code = err.code(), "request"),
        None => tracing::info!(request_id, %method, route = template, status, latency_ms,
            user_id, "request"),
    }
    response
}

/// Request ids from callers are kept if they are short and made of URL-safe characters, so they
/// can go into logs and headers without escaping.
fn is_well_formed_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn client_address(
    request: &hyper::Request<Incoming>,
    peer: SocketAddr,
    trust_proxy: bool,
) -> IpAddr {
    // Only the right-most entry was written by our proxy; anything left of it came from the client
    // and may be forged.
    let forwarded = trust_proxy
        .then(|| {
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    forwarded.unwrap_or_else(|| peer.ip())
}

#[cfg(test)]
mod tests {
    use super::is_well_formed_request_id;

    #[test]
    fn request_ids_from_callers_are_kept_only_when_safe() {
        assert!(is_well_formed_request_id("3f2a-77_client.1:retry"));
        for bad in ["", "has space", "quote\"", &"x".repeat(129), "new\nline"] {
            assert!(!is_well_formed_request_id(bad), "{bad:?}");
        }
    }
}
