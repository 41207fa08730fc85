//! `--serve`: the hyper server answering scrapes. Concurrent scrapes
//! share the collection in progress, and one younger than
//! `--min-interval` is served again.

use super::Collection;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::exposition::Format;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The last collection, per format, and when it finished.
#[derive(Default)]
struct Cache {
    bodies: [Option<(Instant, Arc<Vec<u8>>)>; 2],
}

struct Shared {
    collection: Mutex<Collection>,
    cache: tokio::sync::Mutex<Cache>,
    config: Config,
    min_interval: Duration,
}

type Body = http_body_util::Full<hyper::body::Bytes>;

fn response(
    status: u16,
    content_type: &str,
    body: impl Into<hyper::body::Bytes>,
) -> hyper::Response<Body> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(http_body_util::Full::new(body.into()))
        .expect("a valid response")
}

const INDEX: &str = "<!DOCTYPE html>\n<html><head><title>nlstat</title></head><body>\n<h1>nlstat exporter</h1>\n<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

async fn scrape(shared: Arc<Shared>, format: Format) -> hyper::Response<Body> {
    let arrived = Instant::now();
    let slot = usize::from(format == Format::OpenMetrics);
    let mut cache = shared.cache.lock().await;
    if let Some((at, body)) = &cache.bodies[slot]
        && (*at >= arrived || at.elapsed() < shared.min_interval)
    {
        return response(200, format.content_type(), body.as_ref().clone());
    }
    let worker = Arc::clone(&shared);
    let collected = tokio::task::spawn_blocking(move || {
        let mut collection = worker.collection.lock().unwrap_or_else(|e| e.into_inner());
        collection.collect(&worker.config, format)
    })
    .await;
    match collected {
        Ok(Ok(body)) => {
            let body = Arc::new(body);
            cache.bodies[slot] = Some((Instant::now(), Arc::clone(&body)));
            response(200, format.content_type(), body.as_ref().clone())
        }
        Ok(Err(e)) => response(
            500,
            "text/plain; charset=utf-8",
            format!("collection failed: {e}\n"),
        ),
        Err(e) => response(
            500,
            "text/plain; charset=utf-8",
            format!("collection failed: {e}\n"),
        ),
    }
}

async fn handle(
    request: hyper::Request<hyper::body::Incoming>,
    shared: Arc<Shared>,
) -> std::result::Result<hyper::Response<Body>, std::convert::Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let get = method == hyper::Method::GET || method == hyper::Method::HEAD;
    Ok(match (path.as_str(), get) {
        ("/metrics", true) => {
            let wants_openmetrics = request.headers().get_all("accept").iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.contains("application/openmetrics-text"))
            });
            let format = if wants_openmetrics {
                Format::OpenMetrics
            } else {
                Format::Prometheus
            };
            scrape(shared, format).await
        }
        ("/", true) => response(200, "text/html; charset=utf-8", INDEX),
        ("/metrics" | "/", false) => {
            let mut r = response(405, "text/plain; charset=utf-8", "method not allowed\n");
            r.headers_mut().insert(
                "allow",
                hyper::header::HeaderValue::from_static("GET, HEAD"),
            );
            r
        }
        _ => response(404, "text/plain; charset=utf-8", "not found\n"),
    })
}

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 512;

/// `--serve`: answer scrapes until killed.
pub fn serve(config: &Config, address: SocketAddr) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // collections run one at a time anyway; one thread keeps them in
        // one malloc arena, so memory does not grow scrape after scrape
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::netlink("tokio runtime for --serve", e))?;
    let shared = Arc::new(Shared {
        collection: Mutex::new(Collection::for_driver(config)?),
        cache: tokio::sync::Mutex::new(Cache::default()),
        config: config.clone(),
        min_interval: Duration::from_secs_f64(config.min_interval),
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| Error::file(format!("--serve {address}"), e))?;
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let permit = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // out of descriptors or a reset before accept: keep serving
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let service =
                    hyper::service::service_fn(move |request| handle(request, Arc::clone(&shared)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(io, service)
                    .await;
                drop(permit);
            });
        }
    })
}
