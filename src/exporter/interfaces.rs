//! `nlstat_interface_*`: each interface's counters (one RTM_GETLINK dump,
//! as /proc/net/dev counts them).

use crate::error::Result;
use crate::interfaces::Interfaces;
use crate::render::exposition::{Exposition, Kind};

/// The counter families, in the order of an interface's counters.
const METRICS: [&str; 8] = [
    "receive_bytes",
    "receive_packets",
    "receive_errors",
    "receive_drops",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errors",
    "transmit_drops",
];

pub(super) fn write(e: &mut Exposition<'_>, interfaces: &mut Interfaces) -> Result<()> {
    let devices = interfaces.device_counters()?;
    for (i, metric) in METRICS.iter().enumerate() {
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
    Ok(())
}
