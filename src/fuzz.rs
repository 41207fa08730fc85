//! Entry points for the fuzz targets in `fuzz/` (and for regression tests
//! of what they found): one function per parser of untrusted bytes, each
//! running that parser the way a run does and rendering what it parsed
//! (netstat text and JSON) into a sink, so a fuzzer explores the parser
//! and everything that prints its records.
//!
//! Nothing here has a result: the contract under test is that no input
//! panics, hangs or aborts (release builds abort on panic). Checks that
//! are true for every input (escaped output has no control byte, compiled
//! filter bytecode passes the kernel's verifier and agrees with the
//! expression) are asserted, so breaking them is a crash too.
//!
//! Inputs that hold several datagrams or files are cut with [`frames`].

use crate::collect::netlink::{DiagSocket, NetlinkDumper, Replay};
use crate::collect::procfs::{self, ProcRoot};
use crate::collect::{Collector, Extensions, sock_diag};
use crate::config::{Config, Mode, Output, Source};
use crate::enrich::names::NameCache;
use crate::model::{InetProto, InetSocket, SocketExt, Tick, UnixSocket, tcp_state};
use crate::render::json::{JsonLine, SocketObjects};
use crate::render::netstat::RowWriter;
use crate::sinks::table::TableOutput;
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Split `data` into frames, each a little-endian u16 length and that many
/// bytes; a last frame that claims more than is left takes what is left.
/// Short, so a fuzzer finds the boundaries; the seeds use it too.
pub fn frames(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (length, body) = match rest {
            [] => return None,
            [_] => {
                rest = &[];
                return None;
            }
            [a, b, body @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), body),
        };
        let (frame, after) = body.split_at(length.min(body.len()));
        rest = after;
        Some(frame)
    })
}

/// The inverse of [`frames`], for building seeds and regression inputs.
pub fn frame(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        let length = u16::try_from(part.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&part[..usize::from(length)]);
    }
    out
}

/// The flags byte most targets start with, as render settings.
fn config_from(flags: u8) -> Config {
    Config {
        output: if flags & 1 != 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        wide: flags & 2 != 0,
        numeric_ports: flags & 4 != 0,
        timers: flags & 8 != 0,
        // --info's extensions go with -o's: both read INET_DIAG_INFO
        info: flags & 8 != 0,
        extend: 1 + u32::from((flags >> 4) & 3),
        // never the resolver or NSS: a fuzzer must not wait on the network
        numeric_hosts: true,
        numeric_users: true,
        all: true,
        ..Config::default()
    }
}

thread_local! {
    /// One name cache per fuzzing process, as per run (it reads the
    /// services database once).
    static NAMES: std::cell::RefCell<NameCache> = std::cell::RefCell::new(NameCache::new());
}

/// Renders socket rows the way the listing does, into a sink.
struct Rows {
    text: RowWriter,
    json: SocketObjects,
    config: Config,
}

impl Rows {
    fn new(config: Config) -> Self {
        Rows {
            text: RowWriter::new(),
            json: SocketObjects::default(),
            config,
        }
    }

    fn inet(&mut self, socket: &InetSocket, ext: SocketExt) -> io::Result<()> {
        let mut sink = io::sink();
        NAMES.with_borrow_mut(|names| {
            if self.config.output.is_json() {
                self.json
                    .inet_row(&mut sink, socket, ext, &self.config, names, None)
            } else {
                self.text
                    .inet_row(&mut sink, socket, ext, &self.config, names, None)
            }
        })
    }

    fn unix(&mut self, socket: &UnixSocket<'_>) -> io::Result<()> {
        let mut sink = io::sink();
        if self.config.output.is_json() {
            self.json.unix_row(&mut sink, socket, None)
        } else {
            self.text.unix_row(&mut sink, socket, None)
        }
    }
}

fn proto_of(selector: u8) -> InetProto {
    match selector % 4 {
        0 => InetProto::Tcp,
        1 => InetProto::Udp,
        2 => InetProto::UdpLite,
        _ => InetProto::Raw,
    }
}

/// One `inet_diag_msg` payload (flags byte, then the payload).
pub fn sock_diag_inet(data: &[u8]) {
    let Some((&flags, payload)) = data.split_first() else {
        return;
    };
    let mut rows = Rows::new(config_from(flags));
    if let Ok((socket, ext)) = sock_diag::parse_inet_ext(proto_of(flags >> 6), payload) {
        let _ = rows.inet(&socket, ext);
    }
}

/// One received close event datagram (flags byte, then the datagram), as
/// a text row and a JSON `closed` object.
pub fn sock_diag_events(data: &[u8]) {
    let Some((&flags, datagram)) = data.split_first() else {
        return;
    };
    let mut rows = Rows::new(config_from(flags));
    if let Some(closed) = crate::collect::events::parse_closed(datagram) {
        let _ = rows.inet(&closed.socket, closed.ext);
        NAMES.with_borrow_mut(|names| {
            let time = std::time::SystemTime::UNIX_EPOCH;
            let _ = rows
                .json
                .closed_row(&mut io::sink(), &closed, time, &rows.config, names);
        });
    }
}

/// A `--replay` recording (flags byte: bit 0 set, the rest is an
/// uncompressed frame stream the harness wraps in a valid header).
pub fn replay(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    crate::collect::tape::read_all(rest, flags & 1 != 0);
}

/// One `unix_diag_msg` payload (flags byte, then the payload).
pub fn sock_diag_unix(data: &[u8]) {
    let Some((&flags, payload)) = data.split_first() else {
        return;
    };
    let mut rows = Rows::new(config_from(flags));
    if let Ok(record) = sock_diag::parse_unix(payload) {
        let _: Vec<u32> = record.pending_peers().collect();
        let _ = rows.unix(&record.to_socket(2));
    }
}

/// A private, empty directory to stand in for /proc (created once per
/// process, removed at exit).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("nlstat-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("net")).expect("fuzz scratch directory");
        std::fs::create_dir_all(dir.join("sys/net/ipv4")).expect("fuzz scratch directory");
        extern "C" fn remove_scratch() {
            if let Some(dir) = DIR.get() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        // SAFETY: registering a plain function to run at exit.
        unsafe { libc::atexit(remove_scratch) };
        dir
    })
}

/// Write `files` (relative path, contents; empty contents remove the file)
/// under the scratch root and return that root.
fn proc_tree(files: &[(&str, Option<&[u8]>)]) -> ProcRoot {
    let dir = scratch();
    for (relative, contents) in files {
        let path = dir.join(relative);
        match contents {
            Some(bytes) => std::fs::write(&path, bytes).expect("write a scratch file"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    ProcRoot(dir.to_path_buf())
}

/// A whole sock_diag dump replayed through the collector: flags byte
/// (table, family, output settings), then framed datagrams (see
/// [`frames`]) answering the request, sequence numbers rewritten to match.
/// The table's /proc fallback finds an empty /proc.
pub fn sock_diag_dump(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut replay = Replay::renumbering();
    for datagram in frames(rest) {
        replay = replay.datagram(datagram);
    }
    let root = proc_tree(&[]);
    let mut collector = Collector::with_diag(
        Source::Auto,
        root,
        DiagSocket::with_transport(Box::new(replay)),
    );
    let mut rows = Rows::new(config_from(flags & 0x0f));
    let v6 = flags & 0x10 != 0;
    let bytecode: Option<&[u8]> = (flags & 0x20 != 0).then_some(&[0, 4, 8, 0][..]);
    match flags >> 6 {
        3 => {
            let _ = collector.unix_table(tcp_state::ALL, flags & 0x20 != 0, true, |s| {
                rows.unix(s)?;
                Ok(())
            });
        }
        selector => {
            let _ = collector.inet_table(
                proto_of(selector),
                v6,
                tcp_state::ALL,
                Extensions {
                    timers: flags & 8 != 0,
                    health: flags & 8 != 0,
                },
                bytecode,
                |s, ext| {
                    rows.inet(s, ext)?;
                    Ok(())
                },
            );
        }
    }
}

/// RTM_GETROUTE replies (framed datagrams) replayed into `-r`: flags byte
/// (`-e` level, JSON), then the datagrams.
pub fn rtnl_route(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut replay = Replay::renumbering();
    for datagram in frames(rest) {
        replay = replay.datagram(datagram);
    }
    let socket = crate::routes::rtnl::RouteSocket::with_dumper(NetlinkDumper::with_transport(
        Box::new(replay),
    ));
    let mut routes = crate::routes::Routes::with_socket(proc_tree(&[]), Some(socket));
    let config = Config {
        mode: Mode::Routes,
        af_names: vec!["inet"],
        ..config_from(flags)
    };
    let _ = routes.tick(&config, &Tick::OWN, &mut io::sink());
}

/// RTM_GETLINK then RTM_GETADDR replies (framed datagrams, the first
/// dump's until its NLMSG_DONE) replayed into `-i`: flags byte (`-e`, `-a`,
/// JSON), then the datagrams; /proc/net/if_inet6 is the first frame.
pub fn rtnl_interfaces(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = frames(rest);
    let if_inet6 = parts.next().unwrap_or_default();
    let mut replay = Replay::renumbering();
    for datagram in parts {
        replay = replay.datagram(datagram);
    }
    let socket = crate::interfaces::rtnl::RouteSocket::with_dumper(NetlinkDumper::with_transport(
        Box::new(replay),
    ));
    let root = proc_tree(&[("net/if_inet6", Some(if_inet6))]);
    let mut interfaces = crate::interfaces::Interfaces::with_socket(root, Some(socket));
    let config = Config {
        mode: Mode::Interfaces,
        all: flags & 0x40 != 0,
        ..config_from(flags)
    };
    let _ = interfaces.tick(&config, &Tick::OWN, &mut io::sink());
}

/// One RTM_NEWLINK and one RTM_NEWADDR payload (two frames) straight into
/// the interface printers, short, long and JSON.
pub fn rtnl_link(data: &[u8]) {
    use crate::interfaces::{inet6, render, rtnl};
    let mut parts = frames(data);
    let (Some(link), address) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(link) = rtnl::parse_link(link) else {
        return;
    };
    let address = address.and_then(|a| rtnl::parse_ipv4(a).ok().flatten());
    let inet6: Vec<inet6::Inet6Address> = parts
        .next()
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .filter_map(inet6::parse_line)
        .map(|(_, a)| a)
        .collect();
    let stats = link.stats;
    for output in [Output::NetstatText, Output::JsonLines] {
        let config = Config {
            output,
            ..Config::default()
        };
        let mut sink = TableOutput::for_tick(&config, &Tick::OWN);
        for long in [false, true] {
            let record = render::InterfaceRecord {
                name: &link.name,
                link: &link,
                stats: stats.as_ref(),
                long: long.then_some((address.as_ref(), || inet6.iter())),
            };
            let _ = sink.record(&mut io::sink(), &record);
        }
    }
}

/// /proc/net/{tcp,udp,udplite,raw}[6] text: flags byte (table, output
/// settings), then the file.
pub fn proc_inet(data: &[u8]) {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let mut rows = Rows::new(config_from(flags));
    let _ = procfs::inet_lines(proto_of(flags >> 6), text, |s| {
        rows.inet(s, SocketExt::NONE)?;
        Ok(())
    });
}

/// /proc/net/unix text: flags byte, then the file.
pub fn proc_unix(data: &[u8]) {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let mut rows = Rows::new(config_from(flags));
    for socket in procfs::unix_lines(text).flatten() {
        let _ = rows.unix(&socket);
    }
}

/// /proc/net/snmp and /proc/net/netstat (two frames), then snmp6 and
/// sctp/snmp (two more), through `-s` as a run reads them (the files are
/// written to a scratch /proc): flags byte (which of -s, -s6, JSON, the
/// protocol selection), then the frames.
pub fn proc_statistics(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = frames(rest);
    let mut next = || parts.next();
    let root = proc_tree(&[
        ("net/snmp", next()),
        ("net/netstat", next()),
        ("net/snmp6", next()),
    ]);
    let protocols = crate::config::Protocols {
        tcp: flags & 0x10 != 0,
        udp: flags & 0x20 != 0,
        raw: flags & 0x40 != 0,
        udplite: flags & 0x80 != 0,
        sctp: true,
        ..Default::default()
    };
    let config = Config {
        mode: Mode::Statistics,
        output: if flags & 1 != 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        af_names: if flags & 2 != 0 {
            vec!["inet6"]
        } else {
            vec!["inet"]
        },
        protocols,
        ..Config::default()
    };
    let _ = crate::statistics::Statistics::new(root).tick(&config, &Tick::OWN, &mut io::sink());
}

/// /proc/net/igmp and igmp6 (two frames) through `-g`.
pub fn proc_igmp(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = frames(rest);
    let mut next = || parts.next();
    let root = proc_tree(&[("net/igmp", next()), ("net/igmp6", next())]);
    let config = Config {
        output: if flags & 1 != 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        numeric_hosts: true,
        families: crate::config::Families {
            inet: true,
            inet6: true,
            ..Default::default()
        },
        ..Config::default()
    };
    let _ = NAMES.with_borrow_mut(|names| {
        crate::groups::write_groups_at(&mut io::sink(), &config, &Tick::OWN, names, &root)
    });
}

/// /proc/net/ipv6_route through `-6 -r` (flags byte: JSON, `-C`/`-F`).
pub fn proc_ipv6_route(data: &[u8]) {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let root = proc_tree(&[("net/ipv6_route", Some(text))]);
    let config = Config {
        mode: Mode::Routes,
        output: if flags & 1 != 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        route_cache: flags & 2 != 0,
        route_fib: flags & 4 != 0,
        af_names: vec!["inet6"],
        numeric_hosts: true,
        ..Config::default()
    };
    let _ = crate::routes::Routes::new(&crate::config::Inputs {
        proc_root: root,
        ..Default::default()
    })
    .tick(&config, &Tick::OWN, &mut io::sink());
}

/// /proc/net/sockstat, sockstat6, netstat and the two ip_local_* sysctls
/// (five frames), as `--summary`, `--listeners` and `--ephemeral` read
/// them.
pub fn proc_sockstat(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = frames(rest);
    let mut next = || parts.next();
    let root = proc_tree(&[
        ("net/sockstat", next()),
        ("net/sockstat6", next()),
        ("net/netstat", next()),
        ("sys/net/ipv4/ip_local_port_range", next()),
        ("sys/net/ipv4/ip_local_reserved_ports", next()),
    ]);
    let config = Config {
        output: if flags & 1 != 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        ..Config::default()
    };
    let _ = crate::views::write_sockstat(&mut io::sink(), &config, &JsonLine::new(), &root);
    let _ = crate::views::listen_counters(&root);
    let (lo, hi) = crate::views::port_range(&root);
    if let Ok(text) = std::fs::read_to_string(root.path("sys/net/ipv4/ip_local_reserved_ports")) {
        let _ = crate::views::reserved_count(&text, lo, hi);
    }
}

/// /proc/net/if_inet6 lines, as `-ie` reads them.
pub fn proc_if_inet6(data: &[u8]) {
    use crate::interfaces::{inet6, render};
    for line in data.split(|&b| b == b'\n') {
        if let Some((name, address)) = inet6::parse_line(line) {
            let _ = name.base();
            let _ = render::scope_text(address.scope);
        }
    }
}

/// /proc/PID/cmdline → netstat's `PID/name` label and the whole name.
pub fn proc_cmdline(data: &[u8]) {
    let name = crate::enrich::processes::command_name(data);
    let mut label = crate::enrich::processes::ProgramLabel::new();
    label.push_str("4194304/");
    label.push_bytes(name);
    let mut line = JsonLine::new();
    line.begin("socket").str("program", name);
    let _ = line.end(&mut io::sink());
}

/// No host name in a fuzzed filter is sent to the resolver.
fn offline() {
    crate::filter::expr::OFFLINE.with(|offline| offline.set(true));
}

/// The command line: NUL-separated arguments (argv[0] first).
pub fn cli(data: &[u8]) {
    offline();
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let _ = crate::cli::parse(&args);
}

/// A filter expression (NUL-separated words), then sockets to hold it
/// against (the second frame, 40 bytes a socket), then a unix socket name
/// (the third): the parser, the bytecode compiler, the kernel verifier's
/// model on the program, the program run by the kernel's rules agreeing
/// with the expression run in user space on every socket, and the name
/// patterns on the name.
pub fn filter(data: &[u8]) {
    use crate::filter::bytecode::{self, model};
    offline();
    let mut parts = frames(data);
    let (Some(words), sockets, name) = (
        parts.next(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or(b"/run/x.sock"),
    ) else {
        return;
    };
    let words: Vec<String> = words
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let unix_only = words.first().is_some_and(|w| w.len() % 2 == 1);
    let Ok(query) = crate::filter::expr::parse(&words, unix_only) else {
        return;
    };
    let Some(expr) = &query.expr else {
        return;
    };
    let _ = expr.matches_unix(Some(name), Some(b"@peer\0x"));
    // the close events' socket filter decides as the expression and states
    if let Some(program) = crate::filter::cbpf::compile(&query) {
        use crate::filter::cbpf::model as cbpf;
        for raw in sockets.chunks_exact(40) {
            let socket = socket_from(raw);
            let states = query
                .states
                .is_none_or(|m| m & (1u32 << socket.state.min(31)) != 0);
            assert_eq!(
                cbpf::run(&program, &cbpf::packet(&socket)),
                states && expr.matches_inet(&socket),
                "socket filter and expression disagree on {socket:?}"
            );
        }
    }
    let Some(program) = bytecode::compile(expr) else {
        return;
    };
    assert!(
        model::audit(&program),
        "the kernel would refuse {program:?}"
    );
    let _ = bytecode::attribute(&program);
    for raw in sockets.chunks_exact(40) {
        let socket = socket_from(raw);
        assert_eq!(
            model::run(&program, &socket),
            expr.matches_inet(&socket),
            "bytecode and expression disagree on {socket:?}"
        );
    }
}

/// A socket from 40 fuzzed bytes: family, ports, addresses.
fn socket_from(raw: &[u8]) -> InetSocket {
    let port = |at: usize| u16::from_be_bytes([raw[at], raw[at + 1]]);
    let address = |at: usize| -> IpAddr {
        if raw[0] & 1 == 0 {
            IpAddr::V4(Ipv4Addr::new(
                raw[at],
                raw[at + 1],
                raw[at + 2],
                raw[at + 3],
            ))
        } else {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&raw[at..at + 16]);
            if raw[0] & 2 != 0 {
                // IPv4-mapped, which IPv4 prefixes also match
                octets[..12].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
    };
    InetSocket::tcp(raw[1] % 13, (address(4), port(2)), (address(22), port(20)))
}

/// The terminal escaper: whatever goes in, what comes out holds no control
/// byte but newlines, is UTF-8, and equals the input when that was plain.
pub fn terminal(data: &[u8]) {
    use crate::render::terminal::TerminalSafe;
    let mut out = TerminalSafe::new(Vec::new(), true);
    // cut the input at an arbitrary point, as two writes
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let _ = out.write_all(&data[..cut]);
    let _ = out.write_all(&data[cut..]);
    let _ = out.flush();
    let shown = out.into_inner();
    let text = std::str::from_utf8(&shown).expect("escaped output is UTF-8");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character got through: {text:?}"
    );
    if data
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n')
    {
        assert_eq!(shown, data);
    }
}

/// A BTF blob as the kernel's /sys/kernel/btf/vmlinux would hold it: the
/// reader, every lookup on every type id, and the task_file iterator's
/// layout and program when the blob describes them.
pub fn btf(data: &[u8]) {
    use crate::collect::btf::{self, Kind};
    use crate::enrich::task_files::{Layout, program};
    let Ok(types) = btf::parse(data) else {
        return;
    };
    // ids past the last one too: lookups must answer None, not panic
    let last = u32::try_from(types.type_count())
        .unwrap_or(u32::MAX)
        .saturating_add(2);
    for id in 0..last.min(4096) {
        let _ = types.kind(id);
        let _ = types.name(id);
        let _ = types.size_of(id);
        let _ = types.params(id);
        if let Some(target) = types.resolve(id) {
            let _ = types.pointee(target);
            for name in [
                "pid", "tgid", "f_inode", "i_mode", "i_ino", "meta", "seq", "task",
            ] {
                let _ = types.member(target, name);
            }
        }
    }
    let _ = types.find(Kind::Struct, "task_struct");
    let _ = types.find_each(&[(Kind::Struct, "file"), (Kind::Func, "bpf_iter_task_file")]);
    if let Ok(layout) = Layout::from_btf(&types) {
        assert!(!program(&layout, false).is_empty());
        let _ = program(&layout, true);
    }
    socket_iter_layouts(&types);
}

/// The socket iterators' layouts and every program variant, when the blob
/// describes them: a program always ends with its exit.
fn socket_iter_layouts(types: &crate::collect::btf::Btf) {
    use crate::collect::socket_iter::{Layout, Walk, Wanted, program};
    for walk in [Walk::Tcp, Walk::Udp, Walk::Unix] {
        let Ok(layout) = Layout::from_btf(types, walk) else {
            continue;
        };
        for bits in 0..8u8 {
            let wanted = Wanted {
                inodes: bits & 1 != 0,
                info: bits & 2 != 0,
                reject: bits & 4 != 0,
            };
            let p = program(&layout, wanted);
            assert_eq!(p.last(), Some(&[0x95, 0, 0, 0, 0, 0, 0, 0]));
        }
    }
}

/// The socket iterators' seq-file bytes: every whole record read as an
/// inet socket of each table and as a unix socket, never a panic, and the
/// state a filter selects on is the reported one except for TIME_WAIT's
/// substate and request sockets.
pub fn socket_iter_records(data: &[u8]) {
    use crate::collect::socket_iter::{ExtBuffer, Walk, record_size, records};
    use crate::model::{InetProto, tcp_state};
    // the first byte chooses the record size: with the info block or not
    let Some((&choice, data)) = data.split_first() else {
        return;
    };
    let size = record_size(choice & 1 != 0);
    let mut buffer = ExtBuffer::default();
    let mut seen = 0;
    for record in records(data, size) {
        seen += 1;
        let _ = record.ext(&mut buffer);
        for proto in [InetProto::Tcp, InetProto::Udp] {
            let socket = record.inet_socket(proto);
            assert_eq!(socket.is_v6(), record.is_v6() == Some(true));
        }
        let _ = record.unix_socket().state_word();
        let selected = record.selected_state(Walk::Tcp);
        let shown = record.inet_socket(InetProto::Tcp).state;
        if record.state != tcp_state::NEW_SYN_RECV {
            assert_eq!(selected, shown);
        }
    }
    assert_eq!(seen, data.len() / size);
}

/// The iterator's seq-file bytes, read in chunks cut where the first byte
/// says: whole records become the owner map (the smallest tgid keeps an
/// inode, as the walk keeps the first process in /proc order), which must
/// agree with a plain HashMap built from the same records.
pub fn task_file_records(data: &[u8]) {
    use crate::enrich::inode_map::InodeMap;
    use crate::enrich::task_files::records;
    use std::collections::HashMap;
    let Some((&chunk, mut rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut map = InodeMap::default();
    let mut expected: HashMap<u64, u32> = HashMap::new();
    let mut pending: Vec<u8> = Vec::new();
    while !rest.is_empty() {
        let (read, after) = rest.split_at(chunk.min(rest.len()));
        rest = after;
        pending.extend_from_slice(read);
        let (whole, used) = records(&pending);
        for record in whole {
            map.prefetch(record.inode);
            map.insert_unless(record.inode, record.tgid, |held| held <= record.tgid);
            let owner = expected.entry(record.inode).or_insert(record.tgid);
            *owner = (*owner).min(record.tgid);
        }
        pending.drain(..used);
    }
    assert!(pending.len() < crate::enrich::task_files::RECORD_SIZE);
    assert_eq!(map.len(), expected.len());
    for (&inode, &owner) in &expected {
        assert_eq!(map.get(inode), Some(owner));
    }
    assert_eq!(map.iter().count(), expected.len());
}

/// A socket's health attributes through their parser and both renderers:
/// flags byte (low nibble the TCP state, 0x10 ss's `-o`, 0x20 its `-n`),
/// then framed `INET_DIAG_INFO`, `INET_DIAG_SKMEMINFO` and
/// `INET_DIAG_CONG` payloads and a congestion control's detail (its first
/// byte the attribute type: 3 Vegas, 9 DCTCP, 16 BBR, others none; a
/// missing frame is a missing attribute). A member is present exactly
/// when the payload covers it; the text is one line (the tab first) and
/// the JSON one well-formed object.
pub fn tcp_info(data: &[u8]) {
    use crate::collect::tcp_info::{CcInfo, FIELDS, SkMemInfo, TcpInfo};
    use crate::render::ss_info::{self, Health, Style};
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = frames(rest);
    let health = Health {
        state: flags & 0x0f,
        info: parts.next().map(TcpInfo::new),
        skmem: parts.next().map(SkMemInfo::new),
        cong: parts.next(),
        cc: parts.next().and_then(|cc| {
            let (&kind, payload) = cc.split_first()?;
            CcInfo::new(u16::from(kind), payload)
        }),
    };
    if let Some(info) = health.info {
        let covered = |end: usize| end <= info.len();
        for field in FIELDS {
            assert_eq!(
                info.get(*field).is_some(),
                covered(field.end()),
                "{}",
                field.name
            );
        }
        let present = FIELDS.iter().filter(|f| covered(f.end())).count();
        assert_eq!(info.fields().count(), present);
    }
    if let Some(cc) = health.cc {
        let present = cc.kind.fields().iter().map_while(|f| cc.get(*f)).count();
        assert_eq!(cc.fields().count(), present);
    }
    let style = Style {
        options: flags & 0x10 != 0,
        numeric: flags & 0x20 != 0,
    };
    let mut text = Vec::new();
    ss_info::write_line(&mut text, &health, style);
    assert_eq!(text.first(), Some(&b'\t'));
    if !health.cong.is_some_and(|c| c.contains(&b'\n')) {
        assert!(
            !text.contains(&b'\n'),
            "{:?}",
            String::from_utf8_lossy(&text)
        );
    }
    let mut line = JsonLine::new();
    line.begin("socket");
    ss_info::write_json(&mut line, &health);
    let mut json = Vec::new();
    line.end(&mut json).expect("a Vec takes every write");
    assert!(
        well_formed_object(&json),
        "{:?}",
        String::from_utf8_lossy(&json)
    );
}

/// One JSON object and a newline, its braces balanced outside strings,
/// with no control byte inside them (a cheap stand-in for a parser: the
/// escaping itself is [`crate::render::json::push_string`]'s, checked by
/// the tests).
fn well_formed_object(line: &[u8]) -> bool {
    let Some(body) = line.strip_suffix(b"\n") else {
        return false;
    };
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for (at, &byte) in body.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                0..=0x1f => return false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b'\n' => return false,
            _ => {}
        }
        // the outer object closes at the last byte, not before
        if depth == 0 && at + 1 != body.len() {
            return false;
        }
    }
    depth == 0 && !in_string && body.first() == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let data = frame(&[b"ab", b"", b"cde"]);
        let parts: Vec<&[u8]> = frames(&data).collect();
        assert_eq!(parts, [&b"ab"[..], b"", b"cde"]);
        // a last frame longer than the rest takes the rest
        let parts: Vec<&[u8]> = frames(&[9, 0, 1, 2]).collect();
        assert_eq!(parts, [&[1u8, 2][..]]);
        assert_eq!(frames(&[7]).count(), 0);
    }

    #[test]
    fn tcp_info_takes_every_length_and_checks_its_json() {
        let info: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let skmem = [7u8; 40];
        for len in [0, 1, 7, 8, 103, 104, 127, 232, 280, 300] {
            tcp_info(
                &[
                    &[0x31][..],
                    &frame(&[&info[..len], &skmem[..len % 41], b"cubic\0"]),
                ]
                .concat(),
            );
        }
        // each congestion control struct at every length, and past it
        for kind in [3u8, 9, 16, 0] {
            let cc: Vec<u8> = std::iter::once(kind).chain(1..=24).collect();
            for len in 0..=cc.len() {
                tcp_info(
                    &[
                        &[0x21][..],
                        &frame(&[&info[..280], &skmem, b"bbr\0", &cc[..len]]),
                    ]
                    .concat(),
                );
            }
        }
        assert!(well_formed_object(b"{\"a\":{\"b\":1},\"c\":\"}{\"}\n"));
        assert!(!well_formed_object(b"{\"a\":1}{}\n"));
        assert!(!well_formed_object(b"{\"a\":{}\n"));
        assert!(!well_formed_object(b"{\"a\":\"\n\"}\n"));
    }

    /// Every entry point takes the empty input and garbage.
    #[test]
    fn entry_points_take_anything() {
        let inputs: [&[u8]; 4] = [b"", b"\xff", &[0u8; 300], b"\x01\x02garbage\n\x00\x1b[2J"];
        for input in inputs {
            sock_diag_inet(input);
            sock_diag_unix(input);
            sock_diag_dump(input);
            rtnl_route(input);
            rtnl_interfaces(input);
            rtnl_link(input);
            proc_inet(input);
            proc_unix(input);
            proc_statistics(input);
            proc_igmp(input);
            proc_ipv6_route(input);
            proc_sockstat(input);
            proc_if_inet6(input);
            proc_cmdline(input);
            btf(input);
            task_file_records(input);
            cli(input);
            filter(input);
            terminal(input);
            tcp_info(input);
        }
    }
}
