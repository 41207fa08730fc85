//! `nlstat_sockets`: sockets by protocol, family and state, from the
//! exporter view's counts.

use crate::render::exposition::{Exposition, Kind};
use crate::views::counts::GroupCounts;
use crate::views::output::Shown;
use std::io;

/// The socket gauges (the same in both exposition formats).
pub(super) fn write(e: &mut Exposition<'_>, counts: &mut GroupCounts) -> io::Result<()> {
    e.family(
        "nlstat_sockets",
        Kind::Gauge,
        "Sockets by protocol, family and state (state as netstat words it, empty for none).",
    )?;
    for (key, n) in &counts.unnamed_rows() {
        let label = |s: &Shown| match s {
            Shown::Null => String::new(),
            other => other.text(),
        };
        let (proto, family, state) = (label(&key[0]), label(&key[1]), label(&key[2]));
        e.sample(
            "nlstat_sockets",
            &[("proto", &proto), ("family", &family), ("state", &state)],
            n,
        )?;
    }
    Ok(())
}
