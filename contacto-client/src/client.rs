//! The HTTP plumbing: one connection pool, credentials, the envelope, retries.

use std::sync::Arc;
use std::time::Duration;

use contacto_core::api::{ApiFailure, ApiSuccess, Health, Readiness};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::identity::IdentityApi;

/// Longest back-off between two retries, whatever the server's `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A client for one Contacto server. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    authorization: Option<Arc<str>>,
}

struct Inner {
    http: reqwest::Client,
    /// The base URL, parsed once: each call's URL is this with its path and query set.
    base: reqwest::Url,
    /// `base`'s path without a trailing slash (empty for a server at the root), which each
    /// call's path follows.
    base_path: String,
    max_retries: u32,
    initial_backoff: Duration,
}

/// Configures a [`Client`].
pub struct ClientBuilder {
    base_url: String,
    credential: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
}

impl ClientBuilder {
    /// Authenticates every request with a bearer token from a login.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(token.into());
        self
    }

    /// Authenticates every request with an API key (sent the same way as a token).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(key.into());
        self
    }

    /// Caps each attempt, from connecting to the last byte (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Caps connecting (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries of a safe request after the first attempt (default 3; 0 turns retrying off).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first back-off, doubled at each retry (default 100 ms).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a base URL that is not `http(s)://...`, does not parse, or has a
    /// query or a fragment.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "the base URL must start with http:// or https://, got {base_url:?}"
            )));
        }
        if base_url.starts_with("https://") && !cfg!(feature = "rustls") {
            return Err(Error::Config(
                "https:// needs contacto-client's `rustls` feature".to_owned(),
            ));
        }
        let base = reqwest::Url::parse(&base_url).map_err(|err| {
            Error::Config(format!("the base URL {base_url:?} is not a URL: {err}"))
        })?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::Config(format!(
                "the base URL {base_url:?} has a query or a fragment, which no call would keep"
            )));
        }
        let base_path = base.path().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("contacto-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Error::Config(err.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                base_path,
                max_retries: self.max_retries,
                initial_backoff: self.initial_backoff,
            }),
            authorization: self.credential.map(|c| Arc::from(format!("Bearer {c}"))),
        })
    }
}

/// One API call, described before it is sent.
pub(crate) struct Call<'a, B> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) body: Option<&'a B>,
    /// Sent as `Idempotency-Key`; a call that carries one is safe to retry.
    pub(crate) idempotency_key: Option<&'a str>,
    /// Extra headers (a webhook's signature).
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// A JSON body sent byte for byte instead of `body` (a signed webhook's).
    pub(crate) raw_body: Option<&'a [u8]>,
}

impl<'a, B> Call<'a, B> {
    pub(crate) fn new(method: Method, path: &'a str, body: Option<&'a B>) -> Self {
        Self {
            method,
            path,
            body,
            idempotency_key: None,
            headers: &[],
            raw_body: None,
        }
    }
}

impl Client {
    /// A builder for the server at `base_url` (`http://127.0.0.1:8080`, or with the path a proxy
    /// serves it under: `https://example.dz/contacto`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            credential: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
        }
    }

    /// The same client, sharing connections, authenticated with `token` (or an API key).
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            authorization: Some(Arc::from(format!("Bearer {token}"))),
        }
    }

    /// Registration, login, the caller's account and API keys.
    pub fn identity(&self) -> IdentityApi<'_> {
        IdentityApi::new(self)
    }

    /// Wallets, transfers, deposits and reconciliation.
    pub fn wallet(&self) -> crate::wallet::WalletApi<'_> {
        crate::wallet::WalletApi::new(self)
    }

    /// Wilayas, categories, professionals' profiles and services, reviews, and search.
    pub fn directory(&self) -> crate::directory::DirectoryApi<'_> {
        crate::directory::DirectoryApi::new(self)
    }

    /// Administrators' view of the database: the statements that cost it most.
    pub fn admin(&self) -> crate::admin::AdminApi<'_> {
        crate::admin::AdminApi::new(self)
    }

    /// `GET /health`: whether the process is up.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when the server cannot be reached.
    pub async fn health(&self) -> Result<Health, Error> {
        self.get("/health").await
    }

    /// `GET /ready`: whether the server can serve (its database answers and is migrated). The
    /// answer is returned whether the server is ready (200) or not (503, `NOT_READY`).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when the server cannot be reached.
    pub async fn ready(&self) -> Result<Readiness, Error> {
        let call = Call::<()>::new(Method::GET, "/ready", None);
        match self.call::<(), Readiness>(call).await {
            Err(Error::Api {
                code,
                details: Some(details),
                ..
            }) if code == "NOT_READY" => {
                serde_json::from_value(details).map_err(|err| Error::Decode {
                    url: self.url("/ready"),
                    status: 503,
                    detail: err.to_string(),
                })
            }
            other => other,
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.call(Call::<()>::new(Method::GET, path, None)).await
    }

    /// Sends a call, retrying safe ones, and decodes the envelope's data.
    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        call: Call<'_, B>,
    ) -> Result<T, Error> {
        let (status, bytes) = self.send(&call).await?;
        let decode_error = |err: serde_json::Error| Error::Decode {
            url: self.url(call.path),
            status: status.as_u16(),
            detail: err.to_string(),
        };
        if status == StatusCode::NO_CONTENT {
            // `()` and other unit-like types decode from JSON null.
            return serde_json::from_slice(b"null").map_err(decode_error);
        }
        serde_json::from_slice::<ApiSuccess<T>>(&bytes)
            .map(|ok| ok.data)
            .map_err(decode_error)
    }

    /// Sends until success (its status and whole body), a final error, or the retries run out;
    /// error envelopes become [`Error::Api`]. A success whose body breaks off is retried like a
    /// failure to send: for a safe call the retry gets the same answer (a replay, for a POST
    /// under its key).
    async fn send<B: Serialize>(
        &self,
        call: &Call<'_, B>,
    ) -> Result<(StatusCode, bytes::Bytes), Error> {
        // Safe methods, and POSTs under an idempotency key: the server answers a retry with the
        // first attempt's outcome, so a retry never moves money twice.
        let safe = call.method == Method::GET
            || call.method == Method::HEAD
            || call.idempotency_key.is_some();
        let mut attempt = 0;
        loop {
            let err = match self.send_once(call).await {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(bytes) => return Ok((status, bytes)),
                        Err(err) => transport(&self.url(call.path), err),
                    }
                }
                Ok(response) => api_error(response).await,
                Err(err) => err,
            };
            let retryable = safe && attempt < self.inner.max_retries && is_retryable(&err);
            let Some(backoff) = self.backoff(attempt, &err).filter(|_| retryable) else {
                return Err(err);
            };
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    async fn send_once<B: Serialize>(
        &self,
        call: &Call<'_, B>,
    ) -> Result<reqwest::Response, Error> {
        let url = self.request_url(call.path);
        let mut request = self.inner.http.request(call.method.clone(), url);
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization.as_ref());
        }
        if let Some(key) = call.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        for (name, value) in call.headers {
            request = request.header(*name, *value);
        }
        if let Some(raw) = call.raw_body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(raw.to_vec());
        } else if let Some(body) = call.body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .map_err(|err| transport(&self.url(call.path), err))
    }

    /// `path` under the base URL, as text (for messages).
    fn url(&self, path: &str) -> String {
        self.request_url(path).into()
    }

    /// `path` (with its query, if any) under the base URL. Only the path and the query are
    /// parsed: the whole URL parsed again at every call, host included, was 2.7% of a busy
    /// caller's CPU in a profile (docs/PERFORMANCE.md).
    fn request_url(&self, path: &str) -> reqwest::Url {
        let mut url = self.inner.base.clone();
        let (path, query) = path
            .split_once('?')
            .map_or((path, None), |(path, query)| (path, Some(query)));
        url.set_path(&format!("{}{path}", self.inner.base_path));
        url.set_query(query);
        url
    }

    /// Exponential back-off with full jitter, or the server's `Retry-After` when it gave one;
    /// `None` when the server asks for a longer wait than a retry loop should sleep.
    fn backoff(&self, attempt: u32, err: &Error) -> Option<Duration> {
        if let Error::Api {
            retry_after: Some(after),
            ..
        } = err
        {
            return (*after <= MAX_BACKOFF).then_some(*after);
        }
        let ceiling = self
            .inner
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(MAX_BACKOFF);
        Some(ceiling.mul_f64(rand::random::<f64>()))
    }
}

/// A caller's text as one path segment: unreserved characters as they are, every other byte
/// percent-encoded, so a slash or a question mark cannot change which resource is called.
///
/// # Errors
///
/// [`Error::Argument`] for an empty text, `.` or `..`: URL parsing removes such a segment (and,
/// for `..`, the one before it) however it is encoded, so the call would reach another resource.
pub(crate) fn path_segment(text: &str) -> Result<String, Error> {
    if matches!(text, "" | "." | "..") {
        return Err(Error::Argument(format!(
            "{text:?} cannot be sent as a path segment"
        )));
    }
    let mut segment = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            segment.push(char::from(byte));
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(segment)
}

/// Whether a safe call (GET, HEAD, or a POST under its idempotency key) is worth sending again:
/// the server, or a proxy in front of it, asked to come back (429, 502, 503, 504, with or without
/// our error envelope), or the exchange broke off (connecting, a timeout, a connection reset, a
/// body cut short). A retry of a keyed POST is answered with the first attempt's outcome, so
/// money never moves twice. A server that is up but not ready (`NOT_READY`) is answered at once.
fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Api { code, .. } if code == "NOT_READY" => false,
        Error::Api { status, .. } | Error::Decode { status, .. } => {
            matches!(status, 429 | 502 | 503 | 504)
        }
        Error::Transport { source, .. } => source
            .downcast_ref::<reqwest::Error>()
            .is_some_and(|e| !(e.is_builder() || e.is_redirect() || e.is_decode())),
        _ => false,
    }
}

fn transport(url: &str, err: reqwest::Error) -> Error {
    Error::Transport {
        url: url.to_owned(),
        source: Box::new(err),
    }
}

async fn api_error(response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let url = response.url().to_string();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(err) => return transport(&url, err),
    };
    match serde_json::from_slice::<ApiFailure>(&bytes) {
        Ok(failure) => Error::Api {
            status,
            code: failure.error.code,
            message: failure.error.message,
            details: failure.error.details,
            retry_after,
        },
        Err(err) => Error::Decode {
            url,
            status,
            detail: format!("not an error envelope: {err}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A server on loopback that answers every connection with `reply` (or closes it unanswered
    /// when `None`) after reading the request; returns its URL and how many requests it took.
    async fn canned(reply: Option<&'static str>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    if stream.read(&mut buf).await.unwrap_or(0) > 0 {
                        counter.fetch_add(1, Ordering::SeqCst);
                        if let Some(reply) = reply {
                            let _ = stream.write_all(reply.as_bytes()).await;
                        }
                    }
                });
            }
        });
        (url, seen)
    }

    fn client(url: &str) -> Client {
        Client::builder(url)
            .max_retries(2)
            .initial_backoff(Duration::from_millis(1))
            .build()
            .unwrap()
    }

    #[test]
    fn a_calls_url_is_the_one_its_whole_text_would_parse_to() {
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://[::1]:8080",
            "http://user:secret@api.example.dz",
            "http://api.example.dz/contacto",
            "http://api.example.dz/contacto/",
            "http://api.example.dz/contacto%20v1/",
        ] {
            let client = client(base);
            for path in [
                "/health",
                "/api/v1/wallets/0190b1c2-0000-7000-8000-000000000001/transactions",
                "/api/v1/professionals/plombier-%C3%A9lectricien",
                "/api/v1/professionals?q=%D8%B7%D8%A8%D9%8A%D8%A8&wilaya=16&page=2",
                "/api/v1/professionals?q=plombier+oran&sort=-rating",
                "/api/v1/professionals?",
            ] {
                let whole = format!("{}{path}", base.trim_end_matches('/'));
                assert_eq!(
                    client.request_url(path),
                    reqwest::Url::parse(&whole).unwrap(),
                    "{whole}"
                );
            }
        }
    }

    #[test]
    fn a_base_url_that_does_not_parse_or_has_a_query_is_refused_when_built() {
        for base in [
            "http://[::1",
            "http://api.example.dz/contacto?v=1",
            "http://api.example.dz/#top",
        ] {
            let Err(err) = Client::builder(base).build() else {
                panic!("built a client for {base:?}");
            };
            assert!(matches!(err, Error::Config(_)), "{base}: {err:?}");
        }
    }

    fn post<'a>(key: Option<&'a str>) -> Call<'a, serde_json::Value> {
        let mut call = Call::new(Method::POST, "/api/v1/transfers", None);
        call.idempotency_key = key;
        call
    }

    #[tokio::test]
    async fn a_keyed_post_whose_answer_is_lost_is_sent_again_and_an_unkeyed_one_is_not() {
        let (url, seen) = canned(None).await;
        let err = client(&url)
            .call::<_, serde_json::Value>(post(Some("k-1")))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
        assert!(
            !err.is_connect() && !err.is_timeout(),
            "answered, then cut: {err:?}"
        );
        assert_eq!(
            seen.load(Ordering::SeqCst),
            3,
            "the first attempt and two retries"
        );

        let (url, seen) = canned(None).await;
        client(&url)
            .call::<_, serde_json::Value>(post(None))
            .await
            .unwrap_err();
        assert_eq!(seen.load(Ordering::SeqCst), 1, "no key: never sent twice");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_and_one_not_listening_refuses() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Accepts and holds every connection, answering nothing.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let slow = Client::builder(&url)
            .max_retries(0)
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let err = slow.health().await.unwrap_err();
        assert!(err.is_timeout() && !err.is_connect(), "{err:?}");

        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", gone.local_addr().unwrap());
        drop(gone);
        let err = client(&url).health().await.unwrap_err();
        assert!(err.is_connect() && !err.is_timeout(), "{err:?}");
        assert_eq!(err.retry_after(), None);
    }

    #[tokio::test]
    async fn a_proxys_503_page_is_retried_and_not_ready_is_answered_at_once() {
        let (url, seen) = canned(Some(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 10\r\n\
             connection: close\r\n\r\n<h1>x</h1>",
        ))
        .await;
        let err = client(&url).health().await.unwrap_err();
        assert!(matches!(err, Error::Decode { status: 503, .. }), "{err:?}");
        assert_eq!(seen.load(Ordering::SeqCst), 3);

        let body = r#"{"success":false,"error":{"code":"NOT_READY","message":"starting"}}"#;
        let reply: &'static str = Box::leak(
            format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                 retry-after: 7\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        );
        let (url, seen) = canned(Some(reply)).await;
        let err = client(&url).health().await.unwrap_err();
        assert_eq!(err.code(), Some("NOT_READY"), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "not ready: answered at once"
        );
    }
}
