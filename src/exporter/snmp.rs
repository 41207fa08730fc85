//! `nlstat_snmp_<section>_<name>`: the kernel's protocol counters from
//! /proc/net/snmp, netstat and snmp6, read through
//! [`crate::statistics::counters`].

use crate::collect::procfs::ProcRoot;
use crate::error::{Error, Result};
use crate::render::exposition::{Exposition, Kind, snake_case};
use crate::statistics::counters::{self, SectionFilter, Value};

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

/// /proc/net/snmp, netstat and snmp6 as `nlstat_snmp_<section>_<name>`.
pub(super) fn write(e: &mut Exposition<'_>, root: &ProcRoot, buffer: &mut Vec<u8>) -> Result<()> {
    let all = SectionFilter::ALL;
    let mut samples: Vec<(String, String, Kind, Value)> = Vec::new();
    for (relative, pairs) in [
        ("net/snmp", true),
        ("net/netstat", true),
        ("net/snmp6", false),
    ] {
        if !root.read_into(relative, buffer)? {
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
            counters::pairs(&mut emit, buffer, all, None)
        } else {
            counters::key_values(&mut emit, buffer, all, None)
        };
        parsed.map_err(|e| Error::file(root.shown(relative).display().to_string(), e))?;
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for (metric, help, kind, value) in samples {
        if !seen.insert(metric.clone()) {
            continue;
        }
        e.family(&metric, kind, &help)?;
        let name = match kind {
            Kind::Counter => format!("{metric}_total"),
            // SNMP counters are numbers, never distributions
            Kind::Gauge | Kind::GaugeHistogram => metric,
        };
        match value {
            Value::Unsigned(v) => e.sample(&name, &[], v)?,
            Value::Signed(v) => e.sample(&name, &[], v)?,
        }
    }
    Ok(())
}
