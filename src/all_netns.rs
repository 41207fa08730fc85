//! `--all-netns`: every network namespace of the host in one run.
//!
//! The process map for `-p` is built once, from one /proc scan (socket
//! inodes are unique host-wide); then one child per namespace, forked
//! while nlstat has no other thread, joins its namespace (its own netlink
//! sockets, its own /proc/net) and writes its tables into a pipe, up to
//! one child per core at a time. The parent prints them in a fixed order:
//! its own namespace first, then the named ones by name, then the others
//! by inode, each under a line naming it (JSON rows carry `netns` and
//! `netns_inode` instead).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::netns::Namespace;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

/// What one namespace's child produced.
struct Output {
    bytes: Vec<u8>,
    status: i32,
}

/// Run one child per namespace and print their tables in order.
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    let namespaces = crate::netns::all();
    if config.programs {
        crate::sockets::prescan_processes(&crate::proc_root(), config)?;
    }
    let mut child_config = config.clone();
    child_config.all_netns = false;
    // the children run side by side already: no second dump thread each
    child_config.parallel_families = false;
    let width = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut status = 0;
    for batch in namespaces.chunks(width) {
        let outputs = run_batch(&child_config, batch);
        for (ns, output) in batch.iter().zip(outputs) {
            let Some(output) = output else { continue };
            if config.json {
                for line in output.bytes.split_inclusive(|&b| b == b'\n') {
                    match line.strip_prefix(b"{") {
                        Some(rest) => {
                            let mut key = Vec::new();
                            crate::render::json::push_string(&mut key, ns.key.as_bytes());
                            out.write_all(b"{\"netns\":")?;
                            out.write_all(&key)?;
                            write!(out, ",\"netns_inode\":{},", ns.inode)?;
                            out.write_all(rest)?;
                        }
                        None => out.write_all(line)?,
                    }
                }
            } else {
                writeln!(out, "Network namespace {} (inode {}):", ns.label, ns.inode)?;
                out.write_all(&output.bytes)?;
            }
            if status == 0 && output.status != VANISHED {
                status = output.status;
            }
        }
        out.flush()?;
    }
    Ok(status)
}

/// Fork a child for each namespace of the batch and collect what they
/// write. A namespace that cannot be opened (it went away) is reported on
/// stderr and skipped.
fn run_batch(config: &Config, batch: &[Namespace]) -> Vec<Option<Output>> {
    let mut children: Vec<Option<(libc::pid_t, std::fs::File)>> = Vec::new();
    for ns in batch {
        children.push(spawn(config, ns));
    }
    // read every pipe to its end, all at once, so no child blocks on a
    // full pipe while another is read
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); children.len()];
    let mut open: Vec<bool> = children.iter().map(Option::is_some).collect();
    while open.iter().any(|o| *o) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut which: Vec<usize> = Vec::new();
        for (i, child) in children.iter().enumerate() {
            if let (true, Some((_, file))) = (open[i], child) {
                fds.push(libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(file),
                    events: libc::POLLIN,
                    revents: 0,
                });
                which.push(i);
            }
        }
        // SAFETY: fds is a valid array of pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        for (fd, &i) in fds.iter().zip(&which) {
            if fd.revents == 0 {
                continue;
            }
            let Some((_, file)) = children[i].as_mut() else {
                continue;
            };
            let mut chunk = [0u8; 65536];
            match file.read(&mut chunk) {
                Ok(0) | Err(_) => open[i] = false,
                Ok(n) => buffers[i].extend_from_slice(&chunk[..n]),
            }
        }
    }
    children
        .into_iter()
        .zip(buffers)
        .map(|(child, bytes)| {
            let (pid, _) = child?;
            let mut raw = 0;
            // SAFETY: pid is our child.
            unsafe { libc::waitpid(pid, &mut raw, 0) };
            let status = if libc::WIFEXITED(raw) {
                libc::WEXITSTATUS(raw)
            } else {
                1
            };
            Some(Output { bytes, status })
        })
        .collect()
}

fn spawn(config: &Config, ns: &Namespace) -> Option<(libc::pid_t, std::fs::File)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        eprintln!(
            "{}: netns {}: pipe: {}",
            config.program_name,
            ns.label,
            std::io::Error::last_os_error()
        );
        return None;
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    // SAFETY: nlstat has no other thread here (the process scan's threads
    // have been joined), so the child may run Rust code after fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return None;
    }
    if pid == 0 {
        unsafe { libc::close(read_end) };
        let code = child(config, ns, write_end);
        // SAFETY: leave without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    unsafe { libc::close(write_end) };
    // SAFETY: read_end is ours alone now.
    Some((pid, unsafe { std::fs::File::from_raw_fd(read_end) }))
}

/// A child's status for a namespace that went away before it could join:
/// reported, but not a failure of the run.
const VANISHED: i32 = 125;

fn child(config: &Config, ns: &Namespace, write_end: libc::c_int) -> i32 {
    let spec = ns.path.to_string_lossy().into_owned();
    if let Err(message) = crate::netns::join(&spec) {
        eprintln!("{}: netns {}: {message}", config.program_name, ns.label);
        return VANISHED;
    }
    // SAFETY: write_end is ours alone.
    let file = unsafe { std::fs::File::from_raw_fd(write_end) };
    let mut writer = std::io::BufWriter::with_capacity(64 * 1024, file);
    let result = crate::run(config, &mut writer).and_then(|status| {
        writer.flush().map_err(Error::Output)?;
        Ok(status)
    });
    match result {
        Ok(status) => status,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!("{}: netns {}: {e}", config.program_name, ns.label);
            1
        }
    }
}
