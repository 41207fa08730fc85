//! Names for numbers: hosts through the system resolver, ports through the
//! services database, users through passwd. Every answer is cached for the
//! life of the process, so `-c` ticks after the first cost lookups only for
//! addresses not seen before.
//!
//! net-tools resolves one address at a time and a dead DNS server stalls it
//! for minutes; here every distinct address is looked up at once and the
//! table waits at most [`RESOLVE_DEADLINE`] before printing numbers for the
//! stragglers (whose answers still land in the cache for the next tick).

use crate::text::{Ipv6Text, format_ipv4, format_ipv6_netstat};
use rustc_hash::FxHashMap;
use std::ffi::CStr;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one batch of host lookups may hold up the table. Overridable
/// with `NLSTAT_RESOLVE_TIMEOUT_MS` (tests and slow resolvers), read into
/// [`crate::config::Inputs::resolve_timeout`].
pub const RESOLVE_DEADLINE: Duration = Duration::from_secs(3);

/// At most this many lookups run at once.
const MAX_CONCURRENT_LOOKUPS: usize = 64;

/// Which services table a port is looked up in (netstat passes "tcp",
/// "udp" or "raw"; UDP-Lite uses "udp").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceTable {
    Tcp,
    Udp,
    Raw,
}

#[derive(Default)]
struct Services {
    tcp: FxHashMap<u16, Box<str>>,
    udp: FxHashMap<u16, Box<str>>,
    raw: FxHashMap<u16, Box<str>>,
}

type HostMap = FxHashMap<IpAddr, Box<str>>;

/// Caches for every kind of name; kept across `-c` ticks.
pub struct NameCache {
    services: Option<std::sync::Arc<Services>>,
    users: FxHashMap<u32, Option<Box<str>>>,
    hosts: Arc<Mutex<HostMap>>,
    runtime: Option<tokio::runtime::Runtime>,
    deadline: Duration,
}

impl Default for NameCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NameCache {
    fn drop(&mut self) {
        // Lookups still blocked on a dead resolver must not hold up exit.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl NameCache {
    /// With the default deadline.
    pub fn new() -> Self {
        Self::with_deadline(RESOLVE_DEADLINE)
    }

    /// With the deadline the environment sets, if it does.
    pub fn for_inputs(inputs: &crate::config::Inputs) -> Self {
        Self::with_deadline(inputs.resolve_timeout.unwrap_or(RESOLVE_DEADLINE))
    }

    fn with_deadline(deadline: Duration) -> Self {
        NameCache {
            services: None,
            users: FxHashMap::default(),
            hosts: Arc::new(Mutex::new(FxHashMap::default())),
            runtime: None,
            deadline,
        }
    }

    /// The service name for `port`, or `None` when the database has none.
    pub fn service(&mut self, table: ServiceTable, port: u16) -> Option<&str> {
        let services = self.services.get_or_insert_with(shared_services);
        let map = match table {
            ServiceTable::Tcp => &services.tcp,
            ServiceTable::Udp => &services.udp,
            ServiceTable::Raw => &services.raw,
        };
        map.get(&port).map(|s| &**s)
    }

    /// The login name for `uid`, or `None` when passwd has no entry.
    pub fn user(&mut self, uid: u32) -> Option<&str> {
        self.users
            .entry(uid)
            .or_insert_with(|| lookup_user(uid))
            .as_deref()
    }

    /// Resolve every address in `addresses` not yet cached, concurrently,
    /// waiting at most the deadline.
    pub fn resolve_hosts(&mut self, addresses: impl IntoIterator<Item = IpAddr>) {
        let mut pending: Vec<IpAddr> = {
            let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            addresses
                .into_iter()
                .filter(|a| needs_lookup(a) && !hosts.contains_key(a))
                .collect()
        };
        pending.sort_unstable();
        pending.dedup();
        if pending.is_empty() {
            return;
        }
        if self.runtime.is_none() {
            // Without threads (a starved process) names stay numeric.
            self.runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(MAX_CONCURRENT_LOOKUPS)
                .enable_time()
                .build()
                .ok();
        }
        let Some(runtime) = self.runtime.as_ref() else {
            return;
        };
        let hosts = Arc::clone(&self.hosts);
        let deadline = self.deadline;
        runtime.block_on(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for address in pending {
                let hosts = Arc::clone(&hosts);
                tasks.spawn_blocking(move || {
                    let name = reverse_lookup(address);
                    hosts
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(address, name);
                });
            }
            let all_done = async { while tasks.join_next().await.is_some() {} };
            // Stragglers keep running on their threads; their answers still
            // reach the cache.
            let _ = tokio::time::timeout(deadline, all_done).await;
            tasks.detach_all();
        });
    }

    /// The text netstat shows for a host: its name when resolving, numbers
    /// otherwise, with netstat's special cases for wildcard and v4-mapped
    /// addresses. Call [`resolve_hosts`](Self::resolve_hosts) first.
    pub fn host_text(&self, address: IpAddr, numeric: bool, out: &mut Ipv6Text) {
        out.clear();
        match address {
            IpAddr::V4(v4) => {
                if !numeric
                    && needs_lookup(&address)
                    && let Some(name) = self.cached(&address)
                {
                    out.push_str(&name);
                    return;
                }
                format_ipv4(v4, out);
            }
            IpAddr::V6(v6) => {
                if !numeric && v6.is_unspecified() {
                    out.push_str("[::]");
                    return;
                }
                if !numeric && let Some(name) = self.cached(&address) {
                    out.push_str(&name);
                    fix_v4_mapped(v6, out);
                    return;
                }
                format_ipv6_netstat(v6, out);
            }
        }
    }

    fn cached(&self, address: &IpAddr) -> Option<Box<str>> {
        self.hosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .cloned()
    }
}

/// net-tools prints 0.0.0.0 and 0.x.y.z (network names) without asking
/// the host resolver, and `[::]` for the IPv6 wildcard.
fn needs_lookup(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.octets()[0] != 0,
        IpAddr::V6(v6) => !v6.is_unspecified(),
    }
}

/// net-tools' fix for v4-mapped text: keep what follows the last colon
/// before the first dot ("::ffff:1.2.3.4" → "1.2.3.4").
pub fn fix_v4_mapped(address: Ipv6Addr, text: &mut Ipv6Text) {
    if address.to_ipv4_mapped().is_none() {
        return;
    }
    let bytes = text.as_bytes();
    let Some(dot) = bytes.iter().position(|&b| b == b'.') else {
        return;
    };
    if let Some(colon) = bytes[..dot].iter().rposition(|&b| b == b':') {
        text.drain_front(colon + 1);
    }
}

/// getnameinfo with NI_NAMEREQD: the name, or the numeric text when the
/// resolver has none (what net-tools prints in that case).
fn reverse_lookup(address: IpAddr) -> Box<str> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the sockaddr is a zeroed plain C struct of the size passed
    // with it, `host` is writable for the length passed, and getnameinfo
    // NUL-terminates what it writes there; no service buffer is given.
    let rc = unsafe {
        match address {
            IpAddr::V4(v4) => {
                let mut sin: libc::sockaddr_in = std::mem::zeroed();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                libc::getnameinfo(
                    &sin as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            IpAddr::V6(v6) => {
                let mut sin6: libc::sockaddr_in6 = std::mem::zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_addr.s6_addr = v6.octets();
                libc::getnameinfo(
                    &sin6 as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc == 0 {
        // SAFETY: getnameinfo succeeded, so `host` holds a NUL-terminated name.
        let name = unsafe { CStr::from_ptr(host.as_ptr()) };
        return name.to_string_lossy().into();
    }
    let mut text = Ipv6Text::new();
    match address {
        IpAddr::V4(v4) => format_ipv4(v4, &mut text),
        IpAddr::V6(v6) => crate::text::format_ipv6(v6, &mut text),
    }
    text.as_str().into()
}

// The protocols database walk; the libc crate does not bind these.
unsafe extern "C" {
    fn setprotoent(stay_open: libc::c_int);
    fn getprotoent() -> *mut libc::protoent;
    fn endprotoent();
}

fn lookup_user(uid: u32) -> Option<Box<str>> {
    let mut buffer = vec![0 as libc::c_char; 4096];
    loop {
        // SAFETY: passwd is a plain C struct; all-zero (null pointers) is a
        // valid value of it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is to a live local or to `buffer`, whose
        // length is passed; getpwuid_r is the reentrant form.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string in
        // `buffer`, which is still alive.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        return Some(name.to_string_lossy().into());
    }
}

/// The services and protocols databases as the calling thread sees them,
/// read once per distinct pair of files. getservent and getprotoent walk
/// one stream per process, so two threads must never read at once (with
/// `--all-netns` every namespace's thread names ports); a namespace with
/// /etc/netns/NAME/services of its own sees other files, hence the key.
/// A process-wide cache because the lock must be: every thread's
/// [`NameCache`] shares it.
fn shared_services() -> std::sync::Arc<Services> {
    use std::os::unix::fs::MetadataExt;
    type Key = [(u64, u64, i64); 2];
    static LOADED: Mutex<Vec<(Key, std::sync::Arc<Services>)>> = Mutex::new(Vec::new());
    let identity =
        |path: &str| std::fs::metadata(path).map_or((0, 0, 0), |m| (m.dev(), m.ino(), m.mtime()));
    let key = [identity("/etc/services"), identity("/etc/protocols")];
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, services)) = loaded.iter().find(|(k, _)| *k == key) {
        return std::sync::Arc::clone(services);
    }
    let services = std::sync::Arc::new(load_services());
    loaded.push((key, std::sync::Arc::clone(&services)));
    services
}

/// Read the services and protocols databases once, the way net-tools
/// builds its lists: a later entry for the same port and protocol wins, and
/// raw sockets are named from the protocols database.
fn load_services() -> Services {
    let mut services = Services::default();
    // SAFETY: the getservent/getprotoent streams are process-wide, and
    // only this function reads them, under shared_services()'s lock; each
    // entry and its strings are read (and copied) before the next call
    // overwrites them, and a null entry ends each walk.
    unsafe {
        libc::setservent(1);
        loop {
            let entry = libc::getservent();
            if entry.is_null() {
                break;
            }
            let entry = &*entry;
            let name: Box<str> = CStr::from_ptr(entry.s_name).to_string_lossy().into();
            let port = u16::from_be(entry.s_port as u16);
            match CStr::from_ptr(entry.s_proto).to_bytes() {
                b"tcp" => {
                    services.tcp.insert(port, name);
                }
                b"udp" => {
                    services.udp.insert(port, name);
                }
                b"raw" => {
                    services.raw.insert(port, name);
                }
                _ => {}
            }
        }
        libc::endservent();
        setprotoent(1);
        loop {
            let entry = getprotoent();
            if entry.is_null() {
                break;
            }
            let entry = &*entry;
            let name: Box<str> = CStr::from_ptr(entry.p_name).to_string_lossy().into();
            if let Ok(number) = u16::try_from(entry.p_proto) {
                services.raw.insert(number, name);
            }
        }
        endprotoent();
    }
    services
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_print_without_lookup() {
        let cache = NameCache::new();
        let mut out = Ipv6Text::new();
        cache.host_text("0.0.0.0".parse().unwrap(), false, &mut out);
        assert_eq!(out.as_str(), "0.0.0.0");
        cache.host_text("::".parse().unwrap(), false, &mut out);
        assert_eq!(out.as_str(), "[::]");
        cache.host_text("::".parse().unwrap(), true, &mut out);
        assert_eq!(out.as_str(), "::");
    }

    #[test]
    fn v4_mapped_loses_prefix() {
        let cache = NameCache::new();
        let mut out = Ipv6Text::new();
        cache.host_text("::ffff:127.0.0.1".parse().unwrap(), true, &mut out);
        assert_eq!(out.as_str(), "127.0.0.1");
    }

    #[test]
    fn services_database_names_well_known_ports() {
        let mut cache = NameCache::new();
        // /etc/services on every Debian system names these.
        if std::path::Path::new("/etc/services").exists() {
            assert_eq!(cache.service(ServiceTable::Tcp, 22), Some("ssh"));
        }
        assert!(cache.service(ServiceTable::Tcp, 4711).is_none());
    }

    #[test]
    fn root_has_a_name() {
        let mut cache = NameCache::new();
        assert_eq!(cache.user(0), Some("root"));
    }
}
