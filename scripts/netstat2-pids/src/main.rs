//! `netstat2-pids [--no-pids]`: every IPv4 and IPv6 TCP socket as one line
//! (local, remote, state, owning pids), through the netstat2 crate, the
//! way a program built on it lists sockets with their processes. Used by
//! scripts/bench.py as a peer of `nlstat -tanp` (and of `nlstat -tan`
//! with --no-pids).

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo, SocketInfo};
use std::io::Write;

fn main() {
    let pids = !std::env::args().any(|a| a == "--no-pids");
    let af = AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6;
    let sockets: Box<dyn Iterator<Item = Result<SocketInfo, netstat2::error::Error>>> = if pids {
        Box::new(netstat2::iterate_sockets_info(af, ProtocolFlags::TCP).expect("netstat2"))
    } else {
        Box::new(
            netstat2::iterate_sockets_info_without_pids(af, ProtocolFlags::TCP).expect("netstat2"),
        )
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut count = 0u64;
    for socket in sockets {
        let socket = socket.expect("netstat2 socket");
        if let ProtocolSocketInfo::Tcp(tcp) = &socket.protocol_socket_info {
            let _ = writeln!(
                out,
                "tcp {}:{} {}:{} {} {:?}",
                tcp.local_addr,
                tcp.local_port,
                tcp.remote_addr,
                tcp.remote_port,
                tcp.state,
                socket.associated_pids
            );
            count += 1;
        }
    }
    let _ = out.flush();
    eprintln!("{count} sockets");
}
