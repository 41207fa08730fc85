//! Record the raw sock_diag replies of the current network namespace into
//! recording files (see `nlstat::collect::recording`), for fixtures and
//! benchmarks that replay them without a live namespace.
//!
//! Usage: `record_dump OUT_DIR` writes `OUT_DIR/tcp.nlrec` (the IPv4 dump,
//! then the IPv6 dump, all states) and `OUT_DIR/unix.nlrec` (all states,
//! with names, peers and accept-queue peers, as nlstat asks).
//!
//! `DiagSocket` hands out record payloads only, so the receive loop is
//! repeated here to keep whole datagrams.

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};
use nlstat::collect::netlink::DiagSocket;
use nlstat::collect::recording::{RecordingWriter, messages};
use nlstat::collect::sock_diag;
use nlstat::model::{InetProto, tcp_state};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: record_dump OUT_DIR");
        std::process::exit(2);
    };
    if let Err(e) = record(Path::new(&dir)) {
        eprintln!("record_dump: {e}");
        std::process::exit(1);
    }
}

fn record(dir: &Path) -> io::Result<()> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut buffer = vec![0u8; 64 * 1024];

    let mut tcp = RecordingWriter::new(BufWriter::new(File::create(dir.join("tcp.nlrec"))?))?;
    let mut total = 0;
    for (sequence, v6) in [(1, false), (2, true)] {
        let request =
            sock_diag::inet_request(InetProto::Tcp, v6, tcp_state::ALL, Default::default());
        let bytes = DiagSocket::encode_request(request, sequence);
        total += dump(&mut socket, &bytes, &mut buffer, &mut tcp)?;
    }
    tcp.finish()?;
    eprintln!("tcp.nlrec: {total} records");

    let mut unix = RecordingWriter::new(BufWriter::new(File::create(dir.join("unix.nlrec"))?))?;
    let bytes = DiagSocket::encode_request(sock_diag::unix_request(tcp_state::ALL, false), 3);
    let total = dump(&mut socket, &bytes, &mut buffer, &mut unix)?;
    unix.finish()?;
    eprintln!("unix.nlrec: {total} records");
    Ok(())
}

/// Send one dump request and record every reply datagram up to and
/// including the one that ends the dump. Returns the number of records.
fn dump<W: Write>(
    socket: &mut Socket,
    request: &[u8],
    buffer: &mut [u8],
    out: &mut RecordingWriter<W>,
) -> io::Result<usize> {
    socket.send(request, 0)?;
    let mut records = 0;
    loop {
        let mut space = &mut buffer[..];
        let received = socket.recv(&mut space, 0)?.min(buffer.len());
        let datagram = &buffer[..received];
        out.datagram(datagram)?;
        for message in messages(datagram) {
            if message.is_control() {
                return Ok(records);
            }
            records += 1;
        }
    }
}
