//! Parsing and rendering cost per socket, from recorded sock_diag dumps
//! (tests/fixtures), so it can be measured without a live namespace and
//! without the kernel's share of the time.
//!
//! `cargo bench --bench render` (a few seconds per benchmark).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlstat::cli::{Parsed, parse};
use nlstat::collect::recording::Recording;
use nlstat::collect::sock_diag::{parse_inet, parse_unix};
use nlstat::config::Config;
use nlstat::enrich::names::NameCache;
use nlstat::model::InetProto;
use nlstat::render::netstat::{RowWriter, write_inet_header, write_unix_header};
use std::hint::black_box;
use std::time::Duration;

const TCP: &[u8] = include_bytes!("../tests/fixtures/tcp.nlrec");
const UNIX: &[u8] = include_bytes!("../tests/fixtures/unix.nlrec");

fn config(args: &[&str]) -> Config {
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    match parse(&args) {
        Parsed::Run(config) => *config,
        other => panic!("{args:?} does not parse to a run: {other:?}"),
    }
}

fn recording(bytes: &'static [u8]) -> Recording<'static> {
    Recording::new(bytes).expect("fixture is a recording for this byte order")
}

fn parse_only(c: &mut Criterion) {
    let tcp = recording(TCP);
    let unix = recording(UNIX);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(tcp.records().count() as u64));
    group.bench_function("walk tcp messages", |b| {
        b.iter(|| tcp.records().map(|r| black_box(r).len()).sum::<usize>())
    });
    group.bench_function("tcp parse_inet", |b| {
        b.iter(|| {
            for payload in tcp.records() {
                let _ = black_box(parse_inet(InetProto::Tcp, payload));
            }
        })
    });
    group.throughput(Throughput::Elements(unix.records().count() as u64));
    group.bench_function("unix parse_unix", |b| {
        b.iter(|| {
            for payload in unix.records() {
                let _ = black_box(parse_unix(payload));
            }
        })
    });
    group.finish();
}

fn parse_and_render(c: &mut Criterion) {
    let tcp = recording(TCP);
    let unix = recording(UNIX);
    let mut group = c.benchmark_group("parse+render");
    group.throughput(Throughput::Elements(tcp.records().count() as u64));
    for args in [
        ["netstat", "-tan"],
        ["netstat", "-tane"],
        ["netstat", "-tanW"],
    ] {
        let config = config(&args);
        let mut names = NameCache::new();
        let mut rows = RowWriter::new();
        let mut out = Vec::with_capacity(128 * 1024);
        group.bench_function(format!("tcp {}", args[1]), |b| {
            b.iter(|| {
                out.clear();
                write_inet_header(&mut out, &config).unwrap();
                for payload in tcp.records() {
                    if let Ok(socket) = parse_inet(InetProto::Tcp, payload) {
                        rows.inet_row(
                            &mut out,
                            &socket,
                            nlstat::model::SocketExt::NONE,
                            &config,
                            &mut names,
                            None,
                        )
                        .unwrap();
                    }
                }
                black_box(out.len())
            })
        });
    }
    group.throughput(Throughput::Elements(unix.records().count() as u64));
    let config = config(&["netstat", "-xa"]);
    let mut rows = RowWriter::new();
    let mut out = Vec::with_capacity(16 * 1024);
    group.bench_function("unix -xa", |b| {
        b.iter(|| {
            out.clear();
            write_unix_header(&mut out, &config).unwrap();
            for payload in unix.records() {
                if let Ok(record) = parse_unix(payload) {
                    // the reference count needs the whole dump (collect's
                    // job); a constant keeps this to parse + format
                    rows.unix_row(&mut out, &record.to_socket(2), None).unwrap();
                }
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = parse_only, parse_and_render
}
criterion_main!(benches);
