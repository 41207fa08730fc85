//! The `-p` owner map (socket inode -> processes): where it comes from
//! (the BPF task_file iterator or a /proc walk, per `--pid-source`) and
//! netstat's notes about it. One builder for every driver: one namespace
//! (`drivers::sockets` keeps its own map across ticks) or all of
//! them (`--all-netns`, one map shared by every namespace).

use crate::collect::bpf::Unavailable;
use crate::collect::procfs::ProcRoot;
use crate::config::{Config, PidSource};
use crate::enrich::processes::ProcessIndex;
use crate::error::{Error, Result};

pub fn bpf_error(reason: Unavailable) -> Error {
    Error::Bpf {
        option: "--pid-source bpf",
        reason: reason.0,
    }
}

/// `-v`: why `-p` reads /proc although the iterator was allowed to serve.
pub fn note_fallback(config: &Config, reason: &Unavailable) {
    if config.verbose {
        eprintln!(
            "{}: -p reads /proc (no BPF task_file iterator: {reason})",
            config.program_name
        );
    }
}

/// A process map backed by the BPF task_file iterator, loaded (not run
/// yet), when `--pid-source` and the machine allow it; `None`: read /proc
/// instead (with `auto`, silently unless `-v`). With `bpf`, a failure is
/// the error, before anything is printed.
pub fn owners_from_iterator(config: &Config, root: &ProcRoot) -> Result<Option<ProcessIndex>> {
    match config.pid_source {
        PidSource::Proc => Ok(None),
        PidSource::Bpf => ProcessIndex::with_iterator(config, root, true)
            .map(Some)
            .map_err(bpf_error),
        PidSource::Auto => {
            let reason = if root.0 != ProcRoot::default().0 {
                Unavailable(format!(
                    "/proc is {} (NLSTAT_PROC_ROOT), the iterator sees the real one",
                    root.0.display()
                ))
            } else {
                match ProcessIndex::with_iterator(config, root, false) {
                    Ok(index) => return Ok(Some(index)),
                    Err(reason) => reason,
                }
            };
            note_fallback(config, &reason);
            Ok(None)
        }
    }
}

/// netstat's stderr note when some process' fds could not be read.
pub fn report_denied(index: &ProcessIndex) {
    if !index.denied {
        return;
    }
    // netstat prints it before the table's header (see stdio::mark)
    let note = if index.is_empty() {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        format!("(No info could be read for \"-p\": geteuid()={euid} but you should be root.)\n")
    } else {
        "(Not all processes could be identified, non-owned process info\n will not be shown, you would have to be root to see it all.)\n".to_string()
    };
    crate::io::stdio::write_stderr_at_mark(note.as_bytes());
}

/// The map shared by several listings (`--all-netns`) for this tick: made
/// whole the first time (from the BPF iterator where it may serve, else one
/// /proc walk), then refreshed incrementally from the last tick's `kept`.
pub fn shared_map(
    kept: Option<ProcessIndex>,
    config: &Config,
    root: &ProcRoot,
) -> Result<ProcessIndex> {
    let index = match kept {
        Some(mut index) => {
            if index.from_kernel() {
                index.into_incremental(root);
            }
            index.refresh(root, false).map_err(bpf_error)?;
            index
        }
        None => match owners_from_iterator(config, root)? {
            Some(mut index) => {
                index.refresh(root, true).map_err(bpf_error)?;
                if let Some(reason) = index.fallback.take() {
                    note_fallback(config, &reason);
                }
                index
            }
            None => ProcessIndex::scan(root, config.terminal),
        },
    };
    report_denied(&index);
    Ok(index)
}
