//! experiment
use nlstat::collect::netlink::DiagSocket;
use nlstat::collect::sock_diag;
use nlstat::model::{InetProto, tcp_state};
use std::sync::atomic::{AtomicUsize, Ordering};

fn compat_request(states: u32) -> Vec<u8> {
    let mut req = vec![0u8; 16 + 60];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&18u16.to_ne_bytes()); // TCPDIAG_GETSOCK
    req[6..8].copy_from_slice(&((1u16) | 0x300).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[16] = 2; // family (ignored)
    req[16 + 4 + 48..16 + 4 + 48 + 4].copy_from_slice(&states.to_ne_bytes());
    req
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("v46", String::as_str).to_string();
    let threads: usize = args.get(1).map_or(2, |s| s.parse().unwrap());
    let mut names: Vec<_> = std::fs::read_dir("/run/netns")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    let next = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    let states = std::env::var("STATES")
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(tcp_state::ALL & !(1 << 13));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = names.get(i) else { break };
                    let f = std::fs::File::open(path).unwrap();
                    use std::os::fd::AsRawFd;
                    assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
                    let mut diag = DiagSocket::open().unwrap();
                    let mut n = 0usize;
                    let mut count = |_: &[u8]| {
                        n += 1;
                        Ok(())
                    };
                    match mode.as_str() {
                        "compat" => {
                            diag.dump_raw(&compat_request(states), "compat", &mut count)
                                .unwrap();
                        }
                        m => {
                            for v6 in [false, true] {
                                if (v6 && m == "v4") || (!v6 && m == "v6") {
                                    continue;
                                }
                                diag.dump(
                                    sock_diag::inet_request(InetProto::Tcp, v6, states, false),
                                    "x",
                                    &mut count,
                                )
                                .unwrap();
                            }
                        }
                    }
                    total.fetch_add(n, Ordering::Relaxed);
                }
            });
        }
    });
    println!("{}", total.load(Ordering::Relaxed));
}
