//! `--textfile`: the exposition written whole for node_exporter's
//! textfile collector.

use super::Collection;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::exposition::Format;
use std::io::Write;

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
