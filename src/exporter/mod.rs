//! The exporter: `--serve` answers Prometheus scrapes over HTTP (hyper on
//! the tokio runtime, [`http`]), `--textfile` writes the same exposition to
//! a file for node_exporter's textfile collector ([`textfile`]).
//!
//! A collection is one pass of the socket pipeline into the exporter view
//! (keys and counts, no rows), one RTM_GETLINK dump and the SNMP files;
//! one collector per concern writes its families ([`sockets`],
//! [`listeners`], [`ephemeral`], [`interfaces`], [`snmp`], and with
//! `--info` [`health`]). With
//! `--all-netns` the namespace is a label each sample is written with.

mod closes;
mod ephemeral;
mod health;
mod http;
mod interfaces;
mod listeners;
mod snmp;
mod sockets;
mod textfile;

pub use http::serve;
pub use textfile::write_textfile;

use crate::collect::Collector;
use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::drivers::sockets::SocketListing;
use crate::error::Result;
use crate::interfaces::Interfaces;
use crate::render::exposition::{Exposition, Families, Format, Kind};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

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
    /// `--events`: the close counters of every namespace listened to.
    closes: Option<closes::Shared>,
}

impl Collection {
    pub fn new(config: &Config) -> Self {
        let root = config.inputs.proc_root.clone();
        Collection {
            listing: SocketListing::new(Collector::new(config.source, root.clone()), config),
            interfaces: Interfaces::new(root.clone()),
            root,
            buffer: Vec::new(),
            errors: 0,
            namespaces: Default::default(),
            closes: None,
        }
    }

    /// The collection a driver (`--serve`, `--textfile`) runs: with
    /// `--events`, close counting starts now, on a thread of its own.
    pub fn for_driver(config: &Config) -> Result<Self> {
        let mut collection = Collection::new(config);
        if config.events {
            collection.closes = Some(closes::start(config)?);
        }
        Ok(collection)
    }
}

/// The close families of the namespace `inode` (any: the only one,
/// outside `--all-netns`), when `--events` counts closes.
fn write_closes(
    shared: Option<&closes::Shared>,
    config: &Config,
    e: &mut Exposition<'_>,
    inode: Option<u64>,
) -> Result<()> {
    let Some(shared) = shared else {
        return Ok(());
    };
    let max_series = match &config.view {
        Some(crate::views::View::Exporter { max_series }) => *max_series,
        _ => usize::MAX,
    };
    let all = shared.lock().unwrap_or_else(|e| e.into_inner());
    let closes = match inode {
        Some(inode) => all.get(&inode),
        None => all.values().next(),
    };
    closes::write(e, closes, max_series)?;
    Ok(())
}

impl Collection {
    /// One collection as exposition text; a failure is counted in
    /// `nlstat_scrape_errors_total`, and so is a collection served with a
    /// table the kernel could not dump whole (reported on stderr).
    pub fn collect(&mut self, config: &Config, format: Format) -> Result<Vec<u8>> {
        let started = Instant::now();
        // A table the kernel could not dump whole is reported (and the
        // listing goes on) deep in collect/, on this thread or a namespace's;
        // collections run one at a time, behind the server's lock, so the
        // reports made meanwhile are this collection's.
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
            self.every_namespace(config, format)?.write(&mut out)?;
        } else {
            let mut e = Exposition::new(&mut out, format);
            self.namespace_metrics(config, &mut e)?;
            write_closes(self.closes.as_ref(), config, &mut e, None)?;
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
    /// each, each sample labelled with its `netns` and `netns_inode`, and
    /// gathered family by family. A namespace that fails is reported on
    /// stderr and left out.
    fn every_namespace(&mut self, config: &Config, format: Format) -> Result<Families> {
        let namespaces = crate::netns::all();
        let mut merged = Families::default();
        let mut failed = false;
        let closes = self.closes.clone();
        let joined_all = crate::drivers::all_netns::for_each_namespace(
            &config.program_name,
            &namespaces,
            &mut self.namespaces,
            |ns, slot| {
                let collection = slot.get_or_insert_with(|| Collection::new(config));
                let mut families = Families::default();
                let inode = ns.inode.to_string();
                let labels = [("netns", ns.key.as_str()), ("netns_inode", inode.as_str())];
                let mut e = Exposition::labelled(&mut families, format, &labels);
                let written = collection
                    .namespace_metrics(config, &mut e)
                    .and_then(|()| write_closes(closes.as_ref(), config, &mut e, Some(ns.inode)));
                match written {
                    Ok(()) => Ok(families),
                    Err(e) => {
                        eprintln!("{}: netns {}: {e}", config.program_name, ns.label);
                        Err(())
                    }
                }
            },
            |_, result| match result {
                Some(Ok(families)) => merged.append(families),
                Some(Err(())) => failed = true,
                None => {}
            },
        );
        if failed || !joined_all {
            self.errors += 1;
        }
        Ok(merged)
    }

    /// The metrics of the namespace the calling thread is in: sockets,
    /// interfaces, SNMP counters.
    fn namespace_metrics(&mut self, config: &Config, e: &mut Exposition<'_>) -> Result<()> {
        // sockets: the exporter view counts them; it prints no rows (its
        // keys have no `netns`: the exposition labels each namespace)
        let tick = crate::model::Tick::OWN;
        self.listing.tick(config, &tick, &mut std::io::sink())?;
        if let Some(view) = self.listing.view() {
            if let Some(parts) = view.parts() {
                sockets::write(e, parts.counts)?;
                listeners::write(e, parts.listeners)?;
                ephemeral::write(e, parts.ephemeral, parts.max_series)?;
                if let Some(backends) = parts.backends {
                    health::write(e, parts.listeners, &backends.busiest(parts.max_series))?;
                }
            }
            view.clear();
        }
        interfaces::write(e, &mut self.interfaces)?;
        snmp::write(e, &self.root, &mut self.buffer)
    }
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
