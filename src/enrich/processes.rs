//! `-p`: which process holds each socket, from one scan of `/proc/*/fd`
//! into a hash map keyed by inode (net-tools and ss use small chained hash
//! tables that turn 200 000 sockets into tens of seconds).
//!
//! The scan uses raw `openat`/`readdir`/`readlinkat` on reused buffers, so it
//! allocates per process only when that process holds a socket.

use crate::collect::procfs::ProcRoot;
use crate::render::text::Text;
use rustc_hash::FxHashMap;
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;

/// `PID/name` as netstat prints it: at most 19 bytes.
pub type ProgramLabel = Text<19>;

/// inode → `PID/name`, first process found wins (as in netstat).
#[derive(Default)]
pub struct ProcessIndex {
    by_inode: FxHashMap<u64, u32>,
    labels: Vec<ProgramLabel>,
    /// Processes skipped because they vanished or denied access.
    pub skipped: usize,
    /// Whether some process' fd directory was unreadable (EACCES): netstat
    /// then prints a note on stderr.
    pub denied: bool,
}

impl ProcessIndex {
    /// The label for an inode, `-` when no process holds it.
    pub fn label(&self, inode: u64) -> &[u8] {
        match self.by_inode.get(&inode) {
            Some(&i) => self.labels[i as usize].as_bytes(),
            None => b"-",
        }
    }

    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }

    /// Scan every process under `root`.
    pub fn scan(root: &ProcRoot) -> ProcessIndex {
        let mut index = ProcessIndex::default();
        let Ok(root_path) = CString::new(root.0.as_os_str().as_bytes()) else {
            return index;
        };
        let proc_dir = unsafe { libc::opendir(root_path.as_ptr()) };
        if proc_dir.is_null() {
            index.denied = true;
            return index;
        }
        let proc_fd = unsafe { libc::dirfd(proc_dir) };
        let mut link = [0u8; 64];
        let mut path: Text<64> = Text::new();
        loop {
            let entry = unsafe { libc::readdir(proc_dir) };
            if entry.is_null() {
                break;
            }
            let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
            if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
                continue;
            }
            path.clear();
            path.push_bytes(name);
            path.push_str("/fd\0");
            let fd_dir_fd = unsafe {
                libc::openat(
                    proc_fd,
                    path.as_bytes().as_ptr().cast(),
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
                )
            };
            if fd_dir_fd < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EACCES) {
                    index.denied = true;
                }
                index.skipped += 1;
                continue;
            }
            let fd_dir = unsafe { libc::fdopendir(fd_dir_fd) };
            if fd_dir.is_null() {
                unsafe { libc::close(fd_dir_fd) };
                index.skipped += 1;
                continue;
            }
            let mut label: Option<u32> = None;
            loop {
                let fd_entry = unsafe { libc::readdir(fd_dir) };
                if fd_entry.is_null() {
                    break;
                }
                let fd_name = unsafe { (*fd_entry).d_name.as_ptr() };
                if !unsafe { *fd_name as u8 }.is_ascii_digit() {
                    continue;
                }
                let n = unsafe {
                    libc::readlinkat(
                        libc::dirfd(fd_dir),
                        fd_name,
                        link.as_mut_ptr().cast(),
                        link.len() - 1,
                    )
                };
                if n <= 0 {
                    continue;
                }
                let Some(inode) = socket_inode(&link[..n as usize]) else {
                    continue;
                };
                if index.by_inode.contains_key(&inode) {
                    continue;
                }
                let id = match label {
                    Some(id) => id,
                    None => {
                        let text = program_label(proc_fd, name);
                        index.labels.push(text);
                        let id = (index.labels.len() - 1) as u32;
                        label = Some(id);
                        id
                    }
                };
                index.by_inode.insert(inode, id);
            }
            unsafe { libc::closedir(fd_dir) };
        }
        unsafe { libc::closedir(proc_dir) };
        index
    }
}

/// `socket:[12345]` (or the old `[0000]:12345`) → 12345.
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = if let Some(rest) = link.strip_prefix(b"socket:[") {
        rest.strip_suffix(b"]")?
    } else {
        link.strip_prefix(b"[0000]:")?
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// netstat's `PID/name`: argv[0] from cmdline (basename when it starts
/// with `/`), cut to 19 bytes.
fn program_label(proc_fd: libc::c_int, pid: &[u8]) -> ProgramLabel {
    let mut label = ProgramLabel::new();
    label.push_bytes(pid);
    label.push_byte(b'/');
    let mut path: Text<64> = Text::new();
    path.push_bytes(pid);
    path.push_str("/cmdline\0");
    let fd = unsafe {
        libc::openat(
            proc_fd,
            path.as_bytes().as_ptr().cast(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return label;
    }
    let mut cmdline = [0u8; 512];
    let n = unsafe { libc::read(fd, cmdline.as_mut_ptr().cast(), cmdline.len() - 1) };
    unsafe { libc::close(fd) };
    if n <= 0 {
        return label;
    }
    label.push_bytes(command_name(&cmdline[..n as usize]));
    label
}

/// argv[0] of a cmdline, reduced to its basename when it is an absolute path.
pub fn command_name(cmdline: &[u8]) -> &[u8] {
    let argv0 = match cmdline.iter().position(|&b| b == 0) {
        Some(end) => &cmdline[..end],
        None => cmdline,
    };
    if argv0.first() == Some(&b'/')
        && let Some(slash) = argv0.iter().rposition(|&b| b == b'/')
    {
        return &argv0[slash + 1..];
    }
    argv0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_links() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"[0000]:77"), Some(77));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(b"/usr/bin/python3\0-u\0x.py\0"), b"python3");
        assert_eq!(command_name(b"nginx: worker\0"), b"nginx: worker");
        assert_eq!(command_name(b"holder\twith-tab\0"), b"holder\twith-tab");
        assert_eq!(command_name(b"./relative/x\0"), b"./relative/x");
    }

    #[test]
    fn label_cut_to_nineteen() {
        let mut label = ProgramLabel::new();
        label.push_str("2895/");
        label.push_bytes(command_name(b"/usr/local/bin/a-long-socket-holder-name\0"));
        assert_eq!(label.as_str(), "2895/a-long-socket-");
    }

    #[test]
    fn scan_finds_own_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
        let inode = socket_inode(link.as_os_str().as_bytes()).unwrap();
        let index = ProcessIndex::scan(&ProcRoot::default());
        let label = String::from_utf8_lossy(index.label(inode)).into_owned();
        assert!(
            label.starts_with(&format!("{}/", std::process::id())),
            "{label}"
        );
    }
}
