//! The exporter: `--serve` answers Prometheus scrapes over HTTP (hyper on
//! the tokio runtime), `--textfile` writes the same exposition to a file
//! for node_exporter's textfile collector.
//!
//! A collection is one pass of the socket pipeline into the exporter view
//! (keys and counts, no rows), one RTM_GETLINK dump and the SNMP files.
//! Concurrent scrapes share the collection in progress, and one younger
//! than `--min-interval` is served again.

use crate::collect::Collector;
use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::interfaces::Interfaces;
use crate::render::exposition::{Exposition, Format, Kind, snake_case};
use crate::sockets::SocketListing;
use crate::statistics::counters::{self, SectionFilter, Value};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `[ADDR:]PORT`: a port alone (or `:PORT`) listens on 127.0.0.1.
pub fn parse_listen_address(text: &str) -> std::result::Result<SocketAddr, String> {
    let bad = || {
        format!(
            "--serve: `{text}' is not [ADDR:]PORT (for example 9477, 127.0.0.1:9477 or [::1]:9477)"
        )
    };
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse::<SocketAddr>().map_err(|_| bad())
}

/// SNMP counters that are levels, not running totals.
const SNMP_GAUGES: &[(&str, &str)] = &[
    ("Ip", "Forwarding"),
    ("Ip", "DefaultTTL"),
    ("Tcp", "RtoAlgorithm"),
    ("Tcp", "RtoMin"),
    ("Tcp", "RtoMax"),
    ("Tcp", "MaxConn"),
    ("Tcp", "CurrEstab"),
    ("MPTcpExt", "MPCurrEstab"),
];

/// What one collection needs, kept between collections.
pub struct Collection {
    listing: SocketListing,
    interfaces: Interfaces,
    root: ProcRoot,
    buffer: Vec<u8>,
    errors: u64,
    /// `--all-netns`: each namespace's own collection, by inode (made on
    /// a thread joined to that namespace).
    namespaces: rustc_hash::FxHashMap<u64, Collection>,
}

impl Collection {
    pub fn new(config: &Config) -> Self {
        let root = crate::proc_root();
        Collection {
            listing: SocketListing::new(Collector::new(config.source, root.clone()), config),
            interfaces: Interfaces::new(root.clone()),
            root,
            buffer: Vec::new(),
            errors: 0,
            namespaces: Default::default(),
        }
    }

    /// One collection as exposition text; a failure is counted in
    /// `nlstat_scrape_errors_total`, and so is a collection served with a
    /// table the kernel could not dump whole (reported on stderr).
    pub fn collect(&mut self, config: &Config, format: Format) -> Result<Vec<u8>> {
        let started = Instant::now();
        let reports = crate::error::reports();
        let result = self.collect_inner(config, format, started);
        if result.is_err() || crate::error::reports() != reports {
            self.errors += 1;
        }
        result
    }

    fn collect_inner(
        &mut self,
        config: &Config,
        format: Format,
        started: Instant,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64 * 1024);
        if config.all_netns {
            self.every_namespace(config, format, &mut out)?;
        } else {
            self.namespace_metrics(config, format, &mut out)?;
        }
        let mut e = Exposition::new(&mut out, format);
        e.family(
            "nlstat_scrape_duration_seconds",
            Kind::Gauge,
            "How long this collection took.",
        )?;
        e.sample(
            "nlstat_scrape_duration_seconds",
            &[],
            format!("{:.6}", started.elapsed().as_secs_f64()),
        )?;
        e.family(
            "nlstat_scrape_errors",
            Kind::Counter,
            "Collections that failed since nlstat started.",
        )?;
        e.sample("nlstat_scrape_errors_total", &[], self.errors)?;
        e.family("nlstat_build_info", Kind::Gauge, "nlstat's version.")?;
        e.sample(
            "nlstat_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        )?;
        e.finish()?;
        Ok(out)
    }

    /// `--all-netns`: every namespace's metrics, read on threads joined to
    /// each, merged family by family with `netns` and `netns_inode` labels.
    /// A namespace that fails is reported on stderr and left out.
    fn every_namespace(
        &mut self,
        config: &Config,
        format: Format,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let namespaces = crate::netns::all();
        let mut merger = crate::render::exposition::FamilyMerger::default();
        let mut failed = false;
        let joined_all = crate::all_netns::for_each_namespace(
            &config.program_name,
            &namespaces,
            &mut self.namespaces,
            |ns, slot| {
                let collection = slot.get_or_insert_with(|| Collection::new(config));
                let mut text = Vec::with_capacity(16 * 1024);
                match collection.namespace_metrics(config, format, &mut text) {
                    Ok(()) => Ok(text),
                    Err(e) => {
                        eprintln!("{}: netns {}: {e}", config.program_name, ns.label);
                        Err(())
                    }
                }
            },
            |ns, result| match result {
                Some(Ok(text)) => {
                    let inode = ns.inode.to_string();
                    merger.add(&text, &[("netns", &ns.key), ("netns_inode", &inode)]);
                }
                Some(Err(())) => failed = true,
                None => {}
            },
        );
        if failed || !joined_all {
            self.errors += 1;
        }
        merger.write(out)?;
        Ok(())
    }

    /// The metrics of the namespace the calling thread is in: sockets,
    /// interfaces, SNMP counters.
    fn namespace_metrics(
        &mut self,
        config: &Config,
        format: Format,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        // sockets: the exporter view writes its gauges at the end of the tick
        self.listing.tick(config, out)?;
        let devices = self.interfaces.device_counters()?;
        let mut e = Exposition::new(out, format);
        for (i, metric) in [
            "receive_bytes",
            "receive_packets",
            "receive_errors",
            "receive_drops",
            "transmit_bytes",
            "transmit_packets",
            "transmit_errors",
            "transmit_drops",
        ]
        .iter()
        .enumerate()
        {
            let base = format!("nlstat_interface_{metric}");
            let help = format!(
                "Interface {} (RTM_GETLINK, as /proc/net/dev counts them).",
                metric.replace('_', " ")
            );
            e.family(&base, Kind::Counter, &help)?;
            for device in &devices {
                e.sample(
                    &format!("{base}_total"),
                    &[("iface", &device.name)],
                    device.counters[i].1,
                )?;
            }
        }
        self.snmp(&mut e)?;
        Ok(())
    }

    /// /proc/net/snmp, netstat and snmp6 as `nlstat_snmp_<section>_<name>`.
    fn snmp(&mut self, e: &mut Exposition<'_>) -> Result<()> {
        let all = SectionFilter {
            raw: true,
            tcp: true,
            udp: true,
            udplite: true,
            sctp: true,
        };
        let mut samples: Vec<(String, String, Kind, Value)> = Vec::new();
        for (relative, pairs) in [
            ("net/snmp", true),
            ("net/netstat", true),
            ("net/snmp6", false),
        ] {
            if !self.root.read_into(relative, &mut self.buffer)? {
                continue;
            }
            let mut emit = |section: &[u8], key: &[u8], value: Value| {
                let section = String::from_utf8_lossy(section).into_owned();
                let key = String::from_utf8_lossy(key).into_owned();
                // snmp6 keys carry their section (`Ip6InReceives`)
                let name = key.strip_prefix(&section).unwrap_or(&key).to_string();
                let gauge = SNMP_GAUGES.contains(&(section.as_str(), name.as_str()))
                    || matches!(value, Value::Signed(_));
                let metric = format!("nlstat_snmp_{}_{}", snake_case(&section), snake_case(&name));
                samples.push((
                    metric,
                    format!("The kernel's {section} {name} (/proc/{relative})."),
                    if gauge { Kind::Gauge } else { Kind::Counter },
                    value,
                ));
                Ok(())
            };
            let parsed = if pairs {
                counters::pairs(&mut emit, &self.buffer, all, None)
            } else {
                counters::key_values(&mut emit, &self.buffer, all, None)
            };
            parsed.map_err(|e| Error::file(self.root.shown(relative).display().to_string(), e))?;
        }
        let mut seen = rustc_hash::FxHashSet::default();
        for (metric, help, kind, value) in samples {
            if !seen.insert(metric.clone()) {
                continue;
            }
            e.family(&metric, kind, &help)?;
            let name = match kind {
                Kind::Counter => format!("{metric}_total"),
                Kind::Gauge => metric,
            };
            match value {
                Value::Unsigned(v) => e.sample(&name, &[], v)?,
                Value::Signed(v) => e.sample(&name, &[], v)?,
            }
        }
        Ok(())
    }
}

/// `--textfile PATH`: write the exposition to PATH through a temporary
/// file in the same directory and a rename, so a reader never sees half.
pub fn write_textfile(
    collection: &mut Collection,
    config: &Config,
    path: &std::path::Path,
) -> Result<()> {
    let body = collection.collect(config, Format::Prometheus)?;
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "nlstat.prom".into());
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut f| f.write_all(&body))
        .and_then(|_| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(Error::file(path.display().to_string(), e));
    }
    Ok(())
}

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
        collection: Mutex::new(Collection::new(config)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen_address("9477").unwrap(),
            "127.0.0.1:9477".parse().unwrap()
        );
        assert_eq!(
            parse_listen_address(":9477").unwrap(),
            "127.0.0.1:9477".parse().unwrap()
        );
        assert_eq!(
            parse_listen_address("[::1]:80").unwrap(),
            "[::1]:80".parse().unwrap()
        );
        assert!(parse_listen_address("localhost:x").is_err());
        assert!(parse_listen_address("99999").is_err());
    }
}
