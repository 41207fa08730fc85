//! `--netns NAME|PATH`: run in another network namespace, as
//! `ip netns exec NAME` does: the process joins the namespace before any
//! socket or thread exists (so every netlink socket, /proc/net file and
//! resolver lookup is that namespace's), and, for a named namespace, the
//! files under /etc/netns/NAME are laid over /etc in a private mount
//! namespace, as ip does.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where named namespaces live (iproute2's NETNS_RUN_DIR).
const NETNS_RUN_DIR: &str = "/run/netns";

/// The namespace file and, for a name, the name.
fn resolve(spec: &str) -> (PathBuf, Option<&str>) {
    if spec.contains('/') {
        (PathBuf::from(spec), None)
    } else {
        (Path::new(NETNS_RUN_DIR).join(spec), Some(spec))
    }
}

/// Join the network namespace `spec` (a name in /run/netns or a path such
/// as /proc/PID/ns/net) and, for a name, lay /etc/netns/NAME over /etc.
/// Must run before any thread is started. The error is one line naming
/// the namespace.
pub fn enter(spec: &str) -> Result<(), String> {
    join(spec)?;
    if let (_, Some(name)) = resolve(spec) {
        overlay_etc(name);
    }
    Ok(())
}

/// Why joining a namespace failed: opening its file, or setns.
enum JoinError {
    Open(std::io::Error),
    Setns(std::io::Error),
}

/// Join the network namespace at `path` (on the calling thread only).
fn join_path(path: &Path) -> Result<(), JoinError> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| JoinError::Open(std::io::Error::from_raw_os_error(libc::EINVAL)))?;
    // SAFETY: a valid C string; the fd is closed below.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(JoinError::Open(std::io::Error::last_os_error()));
    }
    // SAFETY: fd is an open descriptor.
    let rc = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    let e = std::io::Error::last_os_error();
    // SAFETY: fd is the descriptor opened above, closed once, here.
    unsafe { libc::close(fd) };
    if rc != 0 {
        return Err(JoinError::Setns(e));
    }
    Ok(())
}

/// Why `--all-netns` could not read a namespace.
pub struct ThreadJoinError {
    pub message: String,
    /// The namespace went away (its file is gone or no longer a
    /// namespace) rather than refusing us.
    pub vanished: bool,
}

/// Join `--all-netns`' namespace `ns` on the calling thread, with its
/// /etc/netns/NAME overlay when it has one (the thread must then end
/// with it: the overlay is a mount namespace of the thread's own). The
/// thread's own namespace needs no setns (nor the privilege for it).
pub fn join_thread(ns: &Namespace) -> Result<(), ThreadJoinError> {
    let here = inode_of(Path::new("/proc/thread-self/ns/net"));
    let result = if here == Some(ns.inode) {
        Ok(())
    } else {
        join_path(&ns.path)
    };
    match result {
        Ok(()) => {}
        Err(JoinError::Open(e)) => {
            return Err(ThreadJoinError {
                vanished: e.raw_os_error() == Some(libc::ENOENT),
                message: format!("{}: {}", ns.path.display(), crate::error::strerror(&e)),
            });
        }
        Err(JoinError::Setns(e)) => {
            return Err(ThreadJoinError {
                vanished: e.raw_os_error() == Some(libc::EINVAL),
                message: match e.raw_os_error() {
                    Some(libc::EINVAL) => {
                        format!("{} is no longer a network namespace", ns.path.display())
                    }
                    Some(libc::EPERM) => {
                        "permission denied (joining a network namespace needs CAP_SYS_ADMIN)".into()
                    }
                    _ => format!("setns: {}", crate::error::strerror(&e)),
                },
            });
        }
    }
    if ns.needs_own_mounts() {
        overlay_etc(&ns.label);
    }
    Ok(())
}

/// Join the network namespace `spec` only.
pub fn join(spec: &str) -> Result<(), String> {
    let (path, name) = resolve(spec);
    match join_path(&path) {
        Ok(()) => Ok(()),
        Err(JoinError::Open(e)) => Err(match (e.raw_os_error(), name) {
            (Some(libc::ENOENT), Some(n)) => {
                format!(
                    "--netns {n}: no such network namespace ({} has no {n})",
                    NETNS_RUN_DIR
                )
            }
            _ => format!(
                "--netns {spec}: {}: {}",
                path.display(),
                crate::error::strerror(&e)
            ),
        }),
        Err(JoinError::Setns(e)) => Err(match e.raw_os_error() {
            Some(libc::EINVAL) => {
                format!(
                    "--netns {spec}: {} is not a network namespace",
                    path.display()
                )
            }
            Some(libc::EPERM) => format!(
                "--netns {spec}: permission denied (joining a network namespace needs CAP_SYS_ADMIN)"
            ),
            _ => format!("--netns {spec}: {}", crate::error::strerror(&e)),
        }),
    }
}

/// ip netns exec's /etc/netns/NAME overlay: each file there is bound over
/// the file of the same name in /etc, in a mount namespace of our own.
/// Best effort, as in ip: without the overlay, /etc is used as it is.
fn overlay_etc(name: &str) {
    let dir = Path::new("/etc/netns").join(name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    // SAFETY: plain syscalls on static or owned C strings.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return;
        }
        let root = CString::new("/").expect("no NUL");
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_SLAVE | libc::MS_REC,
            std::ptr::null(),
        );
    }
    for entry in entries.flatten() {
        let source = entry.path();
        let target = Path::new("/etc").join(entry.file_name());
        let (Ok(s), Ok(t)) = (
            CString::new(source.as_os_str().as_bytes()),
            CString::new(target.as_os_str().as_bytes()),
        ) else {
            continue;
        };
        // SAFETY: valid C strings.
        unsafe {
            libc::mount(
                s.as_ptr(),
                t.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            );
        }
    }
}

/// One network namespace of the host, as `--all-netns` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// Its name in /run/netns, `pid PID` of a process in it, or `self`.
    pub label: String,
    /// The JSON value of `netns`: the name, `pid:PID`, or `self`.
    pub key: String,
    pub inode: u64,
    pub path: PathBuf,
    /// Named in /run/netns (then `label` is the name).
    pub named: bool,
}

impl Namespace {
    /// Whether reading it needs /etc/netns/NAME laid over /etc, as `ip
    /// netns exec NAME` does.
    pub fn needs_own_mounts(&self) -> bool {
        self.named && Path::new("/etc/netns").join(&self.label).is_dir()
    }
}

/// The calling thread's network namespace as the `netns` view key names
/// it: `spec` (`--netns`), else `self`; and its inode.
pub fn current(spec: Option<&str>) -> (u64, String) {
    let inode = inode_of(Path::new("/proc/thread-self/ns/net")).unwrap_or(0);
    (inode, spec.unwrap_or("self").to_string())
}

fn inode_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Every distinct network namespace: nlstat's own first, then the named
/// ones by name, then those only a process is in, by inode. Each is named
/// by its name in /run/netns, else `pid PID` after the lowest pid in it
/// (nlstat's own too; `self` only when no process in it can be seen).
pub fn all() -> Vec<Namespace> {
    let mut named: Vec<(String, PathBuf)> = std::fs::read_dir(NETNS_RUN_DIR)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    named.sort();
    let named: Vec<(String, PathBuf, u64)> = named
        .into_iter()
        .filter_map(|(name, path)| inode_of(&path).map(|inode| (name, path, inode)))
        .collect();
    let mut by_pid: Vec<(u64, u32, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let path = entry.path().join("ns/net");
            if let Some(inode) = inode_of(&path) {
                by_pid.push((inode, pid, path));
            }
        }
    }
    by_pid.sort();
    let by_name = |name: &str, path: &Path, inode| Namespace {
        label: name.to_string(),
        key: name.to_string(),
        inode,
        path: path.to_path_buf(),
        named: true,
    };
    let by_process = |pid: u32, path: &Path, inode| Namespace {
        label: format!("pid {pid}"),
        key: format!("pid:{pid}"),
        inode,
        path: path.to_path_buf(),
        named: false,
    };
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Vec::new();
    let own = Path::new("/proc/self/ns/net");
    if let Some(inode) = inode_of(own) {
        seen.insert(inode);
        let mut ns = if let Some((name, _, _)) = named.iter().find(|n| n.2 == inode) {
            by_name(name, own, inode)
        } else if let Some((_, pid, _)) = by_pid.iter().find(|p| p.0 == inode) {
            by_process(*pid, own, inode)
        } else {
            Namespace {
                label: "self".into(),
                key: "self".into(),
                inode,
                path: own.to_path_buf(),
                named: false,
            }
        };
        // joined by its own path: the name's file may go meanwhile
        ns.path = own.to_path_buf();
        out.push(ns);
    }
    for (name, path, inode) in &named {
        if seen.insert(*inode) {
            out.push(by_name(name, path, *inode));
        }
    }
    for (inode, pid, path) in &by_pid {
        if seen.insert(*inode) {
            out.push(by_process(*pid, path, *inode));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(
            resolve("lb1"),
            (PathBuf::from("/run/netns/lb1"), Some("lb1"))
        );
        assert_eq!(
            resolve("/proc/1/ns/net"),
            (PathBuf::from("/proc/1/ns/net"), None)
        );
    }

    #[test]
    fn an_unknown_name_is_named() {
        let e = enter("nlstat-no-such-namespace").unwrap_err();
        assert!(e.contains("nlstat-no-such-namespace"), "{e}");
        assert_eq!(e.lines().count(), 1);
        let e = enter("/etc/hostname").unwrap_err();
        assert!(e.contains("/etc/hostname"), "{e}");
    }
}
