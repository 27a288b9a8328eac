//! `health`: `GET /health`, the HTTP shell with no database, and a check that the harness is not
//! the bottleneck: with `--wrk`, wrk drives the same endpoint with as many connections, for the
//! hold's length, before and after the harness, and the report divides the harness's rate by
//! wrk's. With `--raw` the harness sends the request over a bare HTTP/1.1 connection instead of
//! `contacto-client`, which separates the harness's own cost from the client's.

use contacto_client::Client;

use super::{Context, Outcome};
use crate::baseline::median;
use crate::directory_seed::BoxError;
use crate::load::baselines::WrkRun;
use crate::load::report::{WrkReport, per_1000};
use crate::load::runner::{Model, Vu, Workload};
use crate::load::threshold::Figures;

struct Health {
    client: Client,
}

impl Workload for Health {
    async fn iteration(&self, vu: &mut Vu) {
        vu.call("health", self.client.health()).await;
    }
}

pub(super) async fn run(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let mut runs: Vec<WrkRun> = Vec::new();
    if ctx.settings.wrk {
        runs.push(wrk(ctx).await?);
    }
    if ctx.settings.raw {
        let workers = workers(ctx);
        let workload = RawHealth::new(&ctx.target, workers)?;
        outcome.phase(ctx, "health", workload).await;
    } else {
        let workload = Health {
            client: ctx.client.clone(),
        };
        outcome.phase(ctx, "health", workload).await;
    }
    if ctx.settings.wrk {
        runs.push(wrk(ctx).await?);
        let h = median(runs.iter().map(|r| r.rate).collect());
        if let Some(rate) = outcome.recordings.rate(Some("health")) {
            outcome
                .ratios
                .insert("health rate / wrk H".to_owned(), rate / h);
        }
        let wrk_cpu = median(
            runs.iter()
                .map(|r| per_1000(r.cpu_ticks, r.requests))
                .collect(),
        );
        let requests = outcome.recordings.count(Some("health")).unwrap_or(0.0) as u64;
        let harness_cpu = per_1000(outcome.cpu.map_or(0, |c| c.harness_ticks), requests);
        outcome.ratios.insert(
            "harness CPU per request / wrk's".to_owned(),
            harness_cpu / wrk_cpu,
        );
        outcome.wrk = Some(WrkReport {
            command: runs.first().map(|r| r.command.clone()).unwrap_or_default(),
            runs: runs.iter().map(|r| r.rate).collect(),
            requests_per_s: h,
            cpu_ticks_per_1000: wrk_cpu,
            harness_cpu_ticks_per_1000: harness_cpu,
        });
    }
    Ok(())
}

/// Connections: the virtual users (closed model) or the most iterations in flight (open).
fn workers(ctx: &Context) -> usize {
    match ctx.options.model {
        Model::Closed { .. } => ctx.options.schedule.max_target().round().max(1.0) as usize,
        Model::Open { max_in_flight } => max_in_flight,
    }
}

/// wrk on `/health` with as many connections as the harness, for the hold's length.
async fn wrk(ctx: &Context) -> Result<WrkRun, BoxError> {
    let (window_start, window_end) = ctx.options.schedule.steady_window();
    let seconds = (window_end - window_start).round().max(1.0) as u64;
    let connections = workers(ctx);
    let url = format!("{}/health", ctx.target);
    let threads = ctx.settings.wrk_threads;
    eprintln!("wrk on {url}, {connections} connections, {seconds} s ...");
    let run = tokio::task::spawn_blocking(move || {
        crate::load::baselines::wrk(&url, threads, connections, seconds)
    })
    .await??;
    eprintln!("wrk: {:.0} requests/s", run.rate);
    Ok(run)
}

/// `health --raw`: the same request over a bare HTTP/1.1 keep-alive connection per virtual user
/// (no client library), to tell the harness's own cost (scheduling, recording) from the typed
/// client's.
pub(super) struct RawHealth {
    address: String,
    request: Vec<u8>,
    connections: Vec<tokio::sync::Mutex<Option<raw::Connection>>>,
}

impl RawHealth {
    pub(super) fn new(target: &str, workers: usize) -> Result<Self, BoxError> {
        let address = target
            .strip_prefix("http://")
            .ok_or("--raw speaks plain http:// only")?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            request: format!("GET /health HTTP/1.1\r\nHost: {address}\r\n\r\n").into_bytes(),
            address,
            connections: (0..workers)
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
        })
    }
}

impl Workload for RawHealth {
    async fn iteration(&self, vu: &mut Vu) {
        // Each virtual user has its own slot: the lock is never contended.
        let mut slot = self.connections[vu.index % self.connections.len()]
            .lock()
            .await;
        let exchange = raw::exchange(&mut slot, &self.address, &self.request);
        vu.call("health", exchange).await;
    }
}

mod raw {
    //! Just enough HTTP/1.1 for `GET /health`: one request, a response with `Content-Length`.

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A keep-alive connection and its read buffer.
    pub(super) struct Connection {
        stream: TcpStream,
        buffer: Vec<u8>,
    }

    fn failed(what: impl std::fmt::Display) -> contacto_client::Error {
        contacto_client::Error::Transport {
            url: "raw".to_owned(),
            source: what.to_string().into(),
        }
    }

    /// Sends `request` on the slot's connection (opening one if need be) and reads the answer.
    pub(super) async fn exchange(
        slot: &mut Option<Connection>,
        address: &str,
        request: &[u8],
    ) -> Result<(), contacto_client::Error> {
        if slot.is_none() {
            let stream = TcpStream::connect(address).await.map_err(failed)?;
            stream.set_nodelay(true).map_err(failed)?;
            *slot = Some(Connection {
                stream,
                buffer: Vec::with_capacity(4096),
            });
        }
        let Some(connection) = slot.as_mut() else {
            return Err(failed("no connection"));
        };
        let outcome = round_trip(connection, request).await;
        if outcome.is_err() {
            *slot = None;
        }
        outcome
    }

    async fn round_trip(
        connection: &mut Connection,
        request: &[u8],
    ) -> Result<(), contacto_client::Error> {
        connection.stream.write_all(request).await.map_err(failed)?;
        connection.buffer.clear();
        loop {
            if let Some(status) = complete(&connection.buffer)? {
                return match status {
                    200..=299 => Ok(()),
                    status => Err(contacto_client::Error::Decode {
                        url: "raw".to_owned(),
                        status,
                        detail: "not a success".to_owned(),
                    }),
                };
            }
            let mut chunk = [0u8; 4096];
            let read = connection.stream.read(&mut chunk).await.map_err(failed)?;
            if read == 0 {
                return Err(failed("connection closed"));
            }
            connection.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    /// The status once the whole response is in `buffer`.
    fn complete(buffer: &[u8]) -> Result<Option<u16>, contacto_client::Error> {
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Ok(None);
        };
        let head = std::str::from_utf8(&buffer[..end]).map_err(failed)?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| failed("no status line"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| failed("no content-length"))?;
        Ok((buffer.len() >= end + 4 + length).then_some(status))
    }

    #[cfg(test)]
    mod tests {
        use super::complete;

        #[test]
        fn a_response_is_complete_once_its_body_is_in() {
            let head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx: y\r\n\r\n";
            assert_eq!(complete(head).unwrap(), None);
            let whole = [&head[..], b"hello"].concat();
            assert_eq!(complete(&whole).unwrap(), Some(200));
            assert_eq!(complete(b"HTTP/1.1 503 Service").unwrap(), None);
        }
    }
}
