//! Serving HTTP like Spin's HTTP trigger: one fresh instance per request, Spin's `spin-*` headers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{Error as BodyError, WasiHttpView};

use crate::instance::{InstanceState, ServeConfig};
use crate::RequestRecord;

/// Everything the request handler needs, shared by all connections of one server.
pub struct Shared {
    pub pre: ProxyPre<InstanceState>,
    pub config: Arc<ServeConfig>,
    /// The trigger route, e.g. `/...`.
    pub route: String,
    pub records: Mutex<Vec<RequestRecord>>,
    pub in_flight: AtomicUsize,
}

impl Shared {
    /// `/api/...` → `/api`; `/...` → ``; an exact route is its own prefix.
    fn component_route(&self) -> &str {
        self.route.strip_suffix("/...").unwrap_or(&self.route)
    }
}

/// Accepts connections until the task is aborted.
pub async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, client)) = listener.accept().await else { continue };
        let local = stream.local_addr().ok();
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, req, client, local).await) }
            });
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn plain(status: u16, text: &'static str) -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(text.as_bytes())).map_err(|never| match never {}).boxed_unsync();
    hyper::Response::builder().status(status).body(body).unwrap()
}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
    client: SocketAddr,
    local: Option<SocketAddr>,
) -> hyper::Response<HyperOutgoingBody> {
    let path = req.uri().path().to_owned();
    let prefix = shared.component_route().to_owned();
    let matches = if shared.route.ends_with("/...") {
        path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty()
    } else {
        path == shared.route
    };
    if !matches {
        return plain(404, "Not Found");
    }
    let record = RequestRecord { method: req.method().to_string(), path: path.clone(), ..RequestRecord::default() };
    match run_instance(&shared, req, record, client, local).await {
        Ok(response) => response,
        Err(e) => {
            eprintln!("spin-test-host: request failed: {e:?}");
            plain(500, "Internal Server Error")
        }
    }
}

/// Runs one request in a fresh instance. The record is completed when the instance is done.
async fn run_instance(
    shared: &Arc<Shared>,
    req: hyper::Request<Incoming>,
    mut record: RequestRecord,
    client: SocketAddr,
    local: Option<SocketAddr>,
) -> Result<hyper::Response<HyperOutgoingBody>> {
    let req = with_spin_headers(shared, req, client, local)?;
    let mut store =
        Store::new(shared.pre.engine(), InstanceState::new(shared.config.clone(), RequestRecord::default()));
    let fuel = crate::loader::fuel_counting();
    if fuel {
        store.set_fuel(u64::MAX).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let incoming =
        store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam_from_callback(move |result| {
            // This runs inside the component's `set` call: what the body holds now is exactly what
            // the component wrote before handing the response over.
            let _ = sender.send(result.map(|response| {
                let (parts, body) = response.into_parts();
                let (complete, body) = prefetch(body);
                (complete, hyper::Response::from_parts(parts, body))
            }));
        })
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let pre = shared.pre.clone();
    // From here on the record is always completed, by the finisher below.
    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let task = tokio::spawn(async move {
        let result = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, out).await
        }
        .await;
        if fuel {
            // Deterministic for a given .wasm and request, unlike time: compare builds with it.
            eprintln!(
                "spin-test-host: wasm instructions (fuel) of the request: {}",
                u64::MAX - store.get_fuel().unwrap_or(u64::MAX)
            );
        }
        (result, std::mem::take(&mut store.data_mut().record))
    });

    let response = receiver.await.map(|answer| {
        answer.map(|(complete, response)| {
            record.body_complete_when_set = complete;
            response
        })
    });
    let status = match &response {
        Ok(Ok(r)) => r.status().as_u16(),
        _ => 500,
    };
    // Completes the record once the instance has finished (the body may still be streaming).
    let finisher = shared.clone();
    let task = tokio::spawn(async move {
        let (result, counters) = match task.await {
            Ok(done) => done,
            Err(e) => (Err(wasmtime::Error::msg(e.to_string())), RequestRecord::default()),
        };
        if let Err(e) = &result {
            eprintln!("spin-test-host: the component trapped: {e:?}");
        }
        record.status = status;
        record.trapped = result.is_err();
        record.redis_opens = counters.redis_opens;
        record.redis_commands = counters.redis_commands;
        record.variable_gets = counters.variable_gets;
        record.variables_resolved = counters.variables_resolved;
        finisher.records.lock().unwrap().push(record);
        finisher.in_flight.fetch_sub(1, Ordering::SeqCst);
    });
    match response {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => anyhow::bail!("the component answered an error code: {code:?}"),
        Err(_) => {
            let _ = task.await;
            anyhow::bail!("the component never set a response")
        }
    }
}

/// Takes every frame of `body` that is already there, without waiting: whether the component wrote
/// and finished the whole body before it handed over the response (see `RequestRecord`). The frames
/// go back in front of the rest, so the client gets the same body.
fn prefetch(mut body: HyperOutgoingBody) -> (bool, HyperOutgoingBody) {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut frames = VecDeque::new();
    let complete = loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => frames.push_back(Ok(frame)),
            Poll::Ready(Some(Err(e))) => {
                frames.push_back(Err(e));
                break false;
            }
            Poll::Ready(None) => break true,
            Poll::Pending => break false,
        }
    };
    let rest = if complete { None } else { Some(body) };
    (complete, Prefetched { frames, rest }.boxed_unsync())
}

/// A body whose first frames were already taken, followed by the rest of the original.
struct Prefetched {
    frames: VecDeque<Result<Frame<Bytes>, BodyError>>,
    rest: Option<HyperOutgoingBody>,
}

impl Body for Prefetched {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if let Some(frame) = self.frames.pop_front() {
            return Poll::Ready(Some(frame));
        }
        match self.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

/// Rewrites the request as Spin hands it to the component: an absolute URI, no `host` header, and
/// the `spin-*` headers (crates/trigger-http; observed values in shared/SPIN-FACTS.md).
fn with_spin_headers(
    shared: &Shared,
    req: hyper::Request<Incoming>,
    client: SocketAddr,
    local: Option<SocketAddr>,
) -> Result<hyper::Request<Incoming>> {
    let (mut parts, body) = req.into_parts();
    let authority = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| local.map(|a| a.to_string()))
        .context("no host")?;
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let full_url = format!("http://{authority}{path_and_query}");
    let path = parts.uri.path().to_owned();
    let component_route = shared.component_route().to_owned();
    let path_info = path.strip_prefix(&component_route).unwrap_or(&path).to_owned();
    parts.uri = full_url.parse().context("building the request URI")?;
    parts.headers.remove(hyper::header::HOST);
    let spin_headers = [
        ("spin-full-url", full_url.clone()),
        ("spin-path-info", path_info),
        ("spin-matched-route", shared.route.clone()),
        ("spin-raw-component-route", shared.route.clone()),
        ("spin-component-route", component_route),
        ("spin-base-path", "/".to_owned()),
        ("spin-client-addr", client.to_string()),
    ];
    for (name, value) in spin_headers {
        parts.headers.insert(name, value.parse().context("header value")?);
    }
    Ok(hyper::Request::from_parts(parts, body))
}
