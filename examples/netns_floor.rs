//! The floor for `--all-netns -tan`: in one process, threads join every
//! network namespace in /run/netns (setns on the thread, as nlstat does)
//! and dump its TCP sockets over sock_diag, every record thrown away.
//! `scripts/netns-scale.py` times it beside nlstat and the shell loops.
//!
//! Usage: `netns_floor [both|separate] [THREADS]`: `both` is the one-walk
//! request nlstat sends for both families (TCPDIAG_GETSOCK), `separate` an
//! IPv4 then an IPv6 dump (default `both`, one thread per core). Prints the
//! record count.

use nlstat::collect::netlink::DiagSocket;
use nlstat::collect::sock_diag;
use nlstat::model::{InetProto, tcp_state};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let both = match args.first().map_or("both", String::as_str) {
        "both" => true,
        "separate" => false,
        other => fail(&format!("unknown mode {other} (both or separate)")),
    };
    let threads = args
        .get(1)
        .map(|t| t.parse().unwrap_or_else(|_| fail("THREADS is a number")))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut paths: Vec<_> = std::fs::read_dir("/run/netns")
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    // what /proc/net/tcp lists: every state but TCP_BOUND_INACTIVE
    let states = tcp_state::ALL & !(1 << 13);
    let next = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Ok(file) = std::fs::File::open(path) else {
                        continue;
                    };
                    // SAFETY: a valid descriptor; joins this thread only.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        continue;
                    }
                    let mut diag = DiagSocket::open().unwrap_or_else(|e| fail(&e.to_string()));
                    let mut records = 0usize;
                    let mut count = |_: &[u8]| {
                        records += 1;
                        Ok(())
                    };
                    if both {
                        let request =
                            sock_diag::tcp_both_families_request(states, Default::default(), 1);
                        diag.dump_raw(&request, "tcp", &mut count)
                    } else {
                        diag.dump(
                            sock_diag::inet_request(
                                InetProto::Tcp,
                                false,
                                states,
                                Default::default(),
                            ),
                            "tcp",
                            &mut count,
                        )
                        .and_then(|_| {
                            diag.dump(
                                sock_diag::inet_request(
                                    InetProto::Tcp,
                                    true,
                                    states,
                                    Default::default(),
                                ),
                                "tcp6",
                                &mut count,
                            )
                        })
                    }
                    .unwrap_or_else(|e| fail(&e.to_string()));
                    total.fetch_add(records, Ordering::Relaxed);
                }
            });
        }
    });
    println!("{}", total.load(Ordering::Relaxed));
}

fn fail(message: &str) -> ! {
    eprintln!("netns_floor: {message}\nusage: netns_floor [both|separate] [THREADS]");
    std::process::exit(2)
}
