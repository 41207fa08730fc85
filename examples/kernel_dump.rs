//! The floor for a socket listing: one sock_diag dump with no formatting,
//! every record discarded. `scripts/bench.py` times it next to nlstat, ss
//! and netstat so their ratios to the kernel's own cost are visible.
//!
//! Usage: `kernel_dump [tcp|udp|unix] [4|6|46] [all|shown|listen|0xMASK] [info]`
//! (default `tcp 46 all`); prints the record count on stdout. `all` is the
//! mask nlstat asks with today, `shown` leaves out TCP_BOUND_INACTIVE;
//! `info` asks for the extensions `--info` asks for (tcp_info, congestion
//! control, socket memory), so its floor is the same request.

use nlstat::collect::netlink::DiagSocket;
use nlstat::collect::sock_diag::{self, Extensions};
use nlstat::model::{InetProto, tcp_state};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let proto = args.first().map_or("tcp", String::as_str);
    let families = args.get(1).map_or("46", String::as_str);
    let states = match args.get(2).map_or("all", String::as_str) {
        "listen" => 1 << tcp_state::LISTEN,
        "all" => tcp_state::ALL,
        // what /proc/net/tcp lists: all but TCP_BOUND_INACTIVE (13), whose
        // bit makes the kernel walk the bind hash of every namespace
        "shown" => tcp_state::ALL & !(1 << 13),
        other => other
            .strip_prefix("0x")
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .unwrap_or_else(|| usage(&format!("unknown state set {other}"))),
    };
    let extensions = Extensions {
        timers: false,
        health: args.get(3).is_some_and(|a| a == "info"),
    };
    let mut diag = DiagSocket::open().unwrap_or_else(|e| fail(&e.to_string()));
    let mut records = 0u64;
    let mut count = |_: &[u8]| {
        records += 1;
        Ok(())
    };
    if proto == "unix" {
        let request = sock_diag::unix_request(states, false);
        diag.dump(request, "unix", &mut count)
            .unwrap_or_else(|e| fail(&e.to_string()));
    } else {
        let proto = match proto {
            "tcp" => InetProto::Tcp,
            "udp" => InetProto::Udp,
            other => usage(&format!("unknown protocol {other}")),
        };
        for v6 in [false, true] {
            if !families.contains(if v6 { '6' } else { '4' }) {
                continue;
            }
            let request = sock_diag::inet_request(proto, v6, states, extensions);
            diag.dump(request, proto.label(v6), &mut count)
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
    }
    println!("{records}");
}

fn usage(message: &str) -> ! {
    fail(&format!(
        "{message}\nusage: kernel_dump [tcp|udp|unix] [4|6|46] [all|shown|listen|0xMASK] [info]"
    ))
}

fn fail(message: &str) -> ! {
    eprintln!("kernel_dump: {message}");
    std::process::exit(2)
}
