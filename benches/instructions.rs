//! Instruction counts (callgrind's `Ir`) of nlstat's hot paths, each run
//! once under valgrind by iai-callgrind: unlike wall time, the count of a
//! run does not depend on what else the machine is doing, so CI can hold
//! it against a committed baseline (`scripts/instructions-guard.py`,
//! `benches/instructions-baseline.txt`; see doc/performance.md,
//! "Instruction-count guard").
//!
//! `cargo bench --bench instructions` (needs valgrind and
//! `iai-callgrind-runner` of the same version as the iai-callgrind crate).
//!
//! **The population.** 100 000 TCP sockets expanded from the recorded dump
//! `tests/fixtures/tcp.nlrec` (480 socket messages: 436 IPv4, 44 IPv6; see
//! tests/fixtures/README.md): socket `i` is a byte copy of recorded message
//! `i mod 480` (its netlink header and attributes included), in copy
//! `k = i div 480`, with three fields of its `inet_diag_msg` changed so
//! that copies are distinct sockets: every port in the ephemeral range
//! (16384 and above, the recording namespace's `ip_local_port_range`)
//! moves by `k * 211` within that range (both ends of a connection move
//! alike, listener ports stay), a nonzero inode gains `k << 20`
//! (TIME_WAIT's inode 0 stays), and the upper half of the cookie becomes
//! `k`. The messages are packed into datagrams of at most 32 KiB (as the
//! kernel fills a dump's) and framed as a recording, ending with the
//! recorded NLMSG_DONE; every benchmark reads them through
//! [`Recording::records`], as the tests replay a dump.
//!
//! Everything a benchmark needs (the population, the configuration from
//! the command line, the sink, the output buffer) is built by its setup
//! function, which callgrind does not count; the benchmark function itself
//! is what the kernel's dump would be handed to.

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use nlstat::cli::{Parsed, parse};
use nlstat::collect::netlink::message_at;
use nlstat::collect::recording::{Recording, RecordingWriter};
use nlstat::collect::sock_diag::parse_inet_ext;
use nlstat::config::Config;
use nlstat::enrich::inode_map::InodeMap;
use nlstat::enrich::names::NameCache;
use nlstat::filter::{CompiledQuery, Placement, SocketFilter};
use nlstat::model::{InetProto, Tick, tcp_state};
use nlstat::sinks::{SocketOutput, SocketSink};
use std::hint::black_box;

const TCP: &[u8] = include_bytes!("../tests/fixtures/tcp.nlrec");

/// Sockets per benchmark.
const SOCKETS: usize = 100_000;
/// The largest datagram of the population (the kernel's dump buffers).
const DATAGRAM: usize = 32 * 1024;
/// The recording namespace's ephemeral ports start here.
const EPHEMERAL_LOW: u32 = 16384;
/// How far each copy moves an ephemeral port (a prime, so the copies'
/// ports spread over the range).
const PORT_STRIDE: u32 = 211;
/// `struct nlmsghdr`'s size: the `inet_diag_msg` starts after it.
const NLMSG_HDRLEN: usize = 16;

/// The recorded socket messages (whole: header, `inet_diag_msg`,
/// attributes) and the first NLMSG_DONE.
fn recorded() -> (Vec<&'static [u8]>, &'static [u8]) {
    let recording = Recording::new(TCP).expect("fixture is a recording for this byte order");
    let mut sockets = Vec::new();
    let mut done = None;
    for datagram in recording.datagrams() {
        let mut offset = 0;
        while let Some(Ok((message, next))) = message_at(datagram, offset) {
            let whole = &datagram[offset..next.min(datagram.len())];
            if message.is_control() {
                done.get_or_insert(whole);
            } else {
                sockets.push(whole);
            }
            offset = next;
        }
    }
    (
        sockets,
        done.expect("the fixture's dump ends with NLMSG_DONE"),
    )
}

/// Copy `copy` of a recorded `inet_diag_msg` (see the module's doc).
fn vary(message: &mut [u8], copy: u32) {
    for at in [4, 6] {
        let port = u32::from(u16::from_be_bytes([message[at], message[at + 1]]));
        if port >= EPHEMERAL_LOW {
            let moved = EPHEMERAL_LOW
                + (port - EPHEMERAL_LOW + copy * PORT_STRIDE) % (65536 - EPHEMERAL_LOW);
            message[at..at + 2].copy_from_slice(&(moved as u16).to_be_bytes());
        }
    }
    message[48..52].copy_from_slice(&copy.to_ne_bytes());
    let inode = u32::from_ne_bytes(message[68..72].try_into().unwrap());
    if inode != 0 {
        message[68..72].copy_from_slice(&(inode + (copy << 20)).to_ne_bytes());
    }
}

/// The population as a recording (see the module's doc).
fn population() -> Vec<u8> {
    let (sockets, done) = recorded();
    let mut writer = RecordingWriter::new(Vec::with_capacity(SOCKETS * 128)).unwrap();
    let mut datagram = Vec::with_capacity(DATAGRAM);
    for i in 0..SOCKETS {
        let message = sockets[i % sockets.len()];
        if datagram.len() + message.len() > DATAGRAM {
            writer.datagram(&datagram).unwrap();
            datagram.clear();
        }
        let at = datagram.len();
        datagram.extend_from_slice(message);
        vary(
            &mut datagram[at + NLMSG_HDRLEN..],
            (i / sockets.len()) as u32,
        );
    }
    writer.datagram(&datagram).unwrap();
    writer.datagram(done).unwrap();
    writer.finish().unwrap()
}

fn config(args: &[&str]) -> Config {
    let args: Vec<std::ffi::OsString> = ["netstat"].iter().chain(args).map(Into::into).collect();
    match parse(&args) {
        Parsed::Run(config) => *config,
        other => panic!("{args:?} does not parse to a run: {other:?}"),
    }
}

/// What a socket listing holds during a tick, made before counting.
struct Listing {
    dump: Vec<u8>,
    config: Config,
    sink: SocketOutput,
    names: NameCache,
    /// The filter expression, evaluated in user space only (as
    /// `NLSTAT_FILTER_IN=user` runs it).
    compiled: Option<CompiledQuery>,
    out: Vec<u8>,
}

fn listing(args: &[&str]) -> Listing {
    let config = config(args);
    let compiled = nlstat::views::lowered_query(&config).map(|query| {
        let placement = Placement {
            kernel: false,
            user: true,
        };
        CompiledQuery::new(&query, placement)
    });
    Listing {
        dump: population(),
        sink: SocketOutput::for_config(&config),
        names: NameCache::for_inputs(&config.inputs),
        compiled,
        // room for every row: the buffer never grows while counting
        out: Vec::with_capacity(SOCKETS * 256),
        config,
    }
}

/// The socket walk of a tick, as `drivers::sockets` runs it for one
/// table: every message parsed, the filter's verdict, the sink's row; a
/// view writes its table at the end.
fn walk(mut listing: Listing) -> Listing {
    let Listing {
        dump,
        config,
        sink,
        names,
        compiled,
        out,
    } = &mut listing;
    let filter = SocketFilter::from_config(config, compiled.as_ref());
    sink.begin_tick(&Tick::OWN);
    sink.inet_header(out, config).unwrap();
    let dump = Recording::new(dump.as_slice()).unwrap();
    for payload in dump.records() {
        if let Ok((socket, ext)) = parse_inet_ext(InetProto::Tcp, payload)
            && filter.keep_inet(&socket)
        {
            sink.inet_row(out, &socket, ext, config, names, None)
                .unwrap();
        }
    }
    if let Some(view) = sink.view() {
        view.finish(out, config, names, None, &config.inputs.proc_root)
            .unwrap();
    }
    listing
}

fn setup_text() -> Listing {
    listing(&["-tan"])
}

fn setup_json() -> Listing {
    listing(&["--json", "-tan"])
}

fn setup_filter() -> Listing {
    listing(&[
        "-tan",
        "( dport = :8000 or sport > :40000 ) and not src 127.2.0.0/16",
    ])
}

fn setup_group_by() -> Listing {
    listing(&["-tan", "--group-by", "state,local_port"])
}

fn lines(out: &[u8]) -> usize {
    out.iter().filter(|&&b| b == b'\n').count()
}

// The teardowns (not counted either) check that a run did the work it is
// counted for: a path that silently stopped parsing or printing would
// otherwise pass the guard as a large improvement.

fn rows_written(listing: Listing) {
    assert_eq!(
        lines(&listing.out),
        SOCKETS + 2,
        "title, header, a row per socket"
    );
}

fn objects_written(listing: Listing) {
    assert_eq!(lines(&listing.out), SOCKETS, "an object per socket");
}

fn filtered_rows_written(listing: Listing) {
    // the population's client ends towards :8000 and connections from
    // high ports, but not from 127.2/16 (with title and header)
    assert_eq!(lines(&listing.out), 26_552, "the filter's rows");
}

fn groups_written(listing: Listing) {
    // 36 725 distinct (state, local port) keys, and the header
    assert_eq!(lines(&listing.out), 36_726, "a row per key");
}

// `nlstat -tan`: parse every message and write netstat's row.
#[library_benchmark]
#[bench::sockets(setup = setup_text, teardown = rows_written)]
fn tcp_text(listing: Listing) -> Listing {
    black_box(walk(listing))
}

// `nlstat --json -tan`: parse every message and write its JSON object.
#[library_benchmark]
#[bench::sockets(setup = setup_json, teardown = objects_written)]
fn tcp_json(listing: Listing) -> Listing {
    black_box(walk(listing))
}

// `nlstat -tan FILTER` with the filter evaluated in user space on every
// socket (the kernel's bytecode does it otherwise), and the kept rows
// written as text.
#[library_benchmark]
#[bench::sockets(setup = setup_filter, teardown = filtered_rows_written)]
fn tcp_filter_user(listing: Listing) -> Listing {
    black_box(walk(listing))
}

// `nlstat -tan --group-by state,local_port`: every socket counted under
// its key, then the table of counts (36 725 keys, most of them the client
// ends' ports) sorted and written.
#[library_benchmark]
#[bench::sockets(setup = setup_group_by, teardown = groups_written)]
fn tcp_group_by(listing: Listing) -> Listing {
    black_box(walk(listing))
}

/// What `-p`'s owner map is built from and looked up with.
struct Owners {
    /// The task_file iterator's records: (inode, owner's slot), grouped
    /// by process as the iterator hands them out.
    records: Vec<(u64, u32)>,
    /// The owners' pids, by slot.
    pids: Vec<u32>,
    /// The rows' inodes, in dump order.
    rows: Vec<u64>,
    map: InodeMap,
}

/// Processes holding the population's sockets.
const PROCESSES: u32 = 64;
/// Records (or rows) between a slot's prefetch and its use, as
/// `enrich::processes` and `drivers::rows` look ahead.
const AHEAD: usize = 16;

/// The population's inodes, each held by one of [`PROCESSES`] processes
/// (socket `i` by process `i * 37 mod 64`), and every listener also by
/// the next process (a forked worker: the smaller pid must win), as the
/// iterator would report them.
fn setup_owners() -> Owners {
    let dump = population();
    let dump = Recording::new(&dump).unwrap();
    let mut rows = Vec::with_capacity(SOCKETS);
    let mut held: Vec<Vec<u64>> = vec![Vec::new(); PROCESSES as usize];
    for (i, payload) in dump.records().enumerate() {
        let (socket, _) = parse_inet_ext(InetProto::Tcp, payload).unwrap();
        rows.push(socket.inode);
        if socket.inode == 0 {
            continue;
        }
        let owner = (i as u32 * 37) % PROCESSES;
        held[owner as usize].push(socket.inode);
        if socket.state == tcp_state::LISTEN {
            held[((owner + 1) % PROCESSES) as usize].push(socket.inode);
        }
    }
    let records = held
        .iter()
        .enumerate()
        .flat_map(|(slot, inodes)| inodes.iter().map(move |&inode| (inode, slot as u32)))
        .collect();
    Owners {
        records,
        pids: (0..PROCESSES).map(|slot| 1000 + 7 * slot).collect(),
        rows,
        map: InodeMap::default(),
    }
}

// The `-p` owner map: built from the iterator's records (the smallest
// pid keeps an inode), then looked up once per row, each slot prefetched
// [`AHEAD`] places before, as the map is built and read for `-tanp`.
#[library_benchmark]
#[bench::sockets(setup = setup_owners, teardown = owners_found)]
fn owner_map(mut owners: Owners) -> (u64, Owners) {
    let Owners {
        records,
        pids,
        rows,
        map,
    } = &mut owners;
    map.reserve(records.len());
    for (i, &(inode, slot)) in records.iter().enumerate() {
        if let Some(&(later, _)) = records.get(i + AHEAD) {
            map.prefetch(later);
        }
        map.insert_unless(inode, slot, |kept| {
            pids[kept as usize] <= pids[slot as usize]
        });
    }
    let mut found = 0u64;
    for (i, &inode) in rows.iter().enumerate() {
        if let Some(&later) = rows.get(i + AHEAD) {
            map.prefetch(later);
        }
        if let Some(slot) = map.get(inode) {
            found += u64::from(pids[slot as usize]);
        }
    }
    black_box((found, owners))
}

fn owners_found((found, owners): (u64, Owners)) {
    // every nonzero inode is owned (inode 0, TIME_WAIT, is in no map)
    assert_eq!(owners.map.len(), 93_746, "distinct socket inodes");
    assert!(found > 0);
}

library_benchmark_group!(
    name = hot_paths;
    benchmarks = tcp_text, tcp_json, tcp_filter_user, tcp_group_by, owner_map
);

main!(library_benchmark_groups = hot_paths);
