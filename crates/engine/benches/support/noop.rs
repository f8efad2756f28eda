//! A no-op Jira upstream: a minimal hyper server on loopback, on its own thread and runtime,
//! that answers the calls `create_issue` can make at once with canned bodies. It costs next to
//! nothing per request, so what a benchmark measures above the raw client call is the engine's
//! own work.
//!
//! Requests it does not know are answered 404 in Jira's error shape and counted, so a change in
//! what the action calls shows up as an error instead of a silently cheaper benchmark.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

const CREATED: &str =
    r#"{"id":"10001","key":"OPS-1","self":"http://127.0.0.1/rest/api/3/issue/10001"}"#;
/// Enough of `GET /field` for a catalogue to build (only fetched when an input sets `fields`).
const FIELDS: &str = r#"[{"id":"summary","key":"summary","name":"Summary","custom":false,"schema":{"type":"string","system":"summary"}},{"id":"labels","key":"labels","name":"Labels","custom":false,"schema":{"type":"array","items":"string","system":"labels"}}]"#;
const MYSELF: &str = r#"{"accountId":"5f1a00000000000000000a01","displayName":"Ada Admin","active":true,"accountType":"atlassian"}"#;
const EMPTY_SEARCH: &str = r#"{"issues":[],"isLast":true}"#;
const NOT_FOUND: &str = r#"{"errorMessages":["no-op upstream: unexpected request"],"errors":{}}"#;

/// Requests the upstream answered, by `METHOD path` (ids collapsed to `{id}`).
#[derive(Debug, Default)]
pub struct Tally {
    total: AtomicU64,
    unexpected: AtomicU64,
    routes: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    /// All requests so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests that matched no canned route.
    pub fn unexpected(&self) -> u64 {
        self.unexpected.load(Ordering::Relaxed)
    }

    /// Requests per route.
    pub fn routes(&self) -> BTreeMap<String, u64> {
        self.routes.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn record(&self, route: String, known: bool) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if !known {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut routes) = self.routes.lock() {
            *routes.entry(route).or_default() += 1;
        }
    }
}

/// The running upstream: its base URL and request tally. The server thread lives as long as the
/// process (a benchmark binary).
#[derive(Debug)]
pub struct NoopUpstream {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// What it answered.
    pub tally: Arc<Tally>,
}

/// Starts the upstream on a free loopback port, on a dedicated thread with a single-threaded
/// runtime (so it never competes with the measured client for the client's runtime).
///
/// # Errors
/// When the port cannot be bound or the thread cannot start.
pub fn start() -> Result<NoopUpstream> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("bind loopback")?;
    listener.set_nonblocking(true)?;
    let addr: SocketAddr = listener.local_addr()?;
    let tally = Arc::new(Tally::default());
    let served = tally.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("upstream runtime")?;
    std::thread::Builder::new()
        .name("noop-upstream".to_owned())
        .spawn(move || runtime.block_on(serve(listener, served)))
        .context("upstream thread")?;
    Ok(NoopUpstream {
        base_url: format!("http://{addr}"),
        tally,
    })
}

async fn serve(listener: std::net::TcpListener, tally: Arc<Tally>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("no-op upstream: {err}");
            return;
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let tally = tally.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, tally.clone()));
            // A client closing its keep-alive connection ends this task; nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    tally: Arc<Tally>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // Read the body as a real server would, so the connection stays reusable.
    let _ = request.into_body().collect().await;
    let route = collapse_ids(&path);
    let canned = match (&method, route.as_str()) {
        (&Method::POST, "/rest/api/3/issue") => Some((StatusCode::CREATED, CREATED)),
        (&Method::GET, "/rest/api/3/field") => Some((StatusCode::OK, FIELDS)),
        (&Method::GET, "/rest/api/3/myself") => Some((StatusCode::OK, MYSELF)),
        (&Method::POST, "/rest/api/3/search/jql") => Some((StatusCode::OK, EMPTY_SEARCH)),
        (&Method::PUT, "/rest/api/3/issue/{id}/properties/{id}") => Some((StatusCode::OK, "{}")),
        _ => None,
    };
    tally.record(format!("{method} {route}"), canned.is_some());
    let (status, body) = canned.unwrap_or((StatusCode::NOT_FOUND, NOT_FOUND));
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    Ok(response)
}

/// `/rest/api/3/issue/OPS-1/properties/x` → `/rest/api/3/issue/{id}/properties/{id}`: every
/// segment after a collection name is an id or key.
fn collapse_ids(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut previous = "";
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if matches!(previous, "issue" | "properties" | "comment" | "watchers")
            && !matches!(segment, "properties" | "comment" | "watchers")
        {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    out
}
