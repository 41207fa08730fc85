//! A close generator for `--events` benchmarks: TCP connections over
//! 127.0.0.1 opened, accepted and reset (SO_LINGER 0 on both ends) as fast
//! as one thread allows, so each connection is exactly two destroy events
//! at once. Run it in a namespace of its own (`ip netns exec`), pinned to
//! a core (`taskset`).
//!
//! Usage: `churn SECONDS PORTS [BASE]`: connections to PORTS listeners on
//! BASE.. (default 20000) in turn for SECONDS. Prints the connections
//! made, then closes the listeners (PORTS more events).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

fn reset_on_close(fd: i32) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd and a linger struct of the size passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| {
        args.get(i)
            .map_or(Some(default), |a| a.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("usage: churn SECONDS PORTS [BASE]");
                std::process::exit(2)
            })
    };
    let (seconds, ports, base) = (
        number(0, 10),
        number(1, 100) as u16,
        number(2, 20000) as u16,
    );
    let listeners: Vec<(TcpListener, SocketAddr)> = (0..ports)
        .map(|i| {
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, base + i));
            (
                TcpListener::bind(address).expect("bind a listener"),
                address,
            )
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut made: u64 = 0;
    'run: loop {
        for (listener, address) in &listeners {
            let client = TcpStream::connect(address).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            reset_on_close(client.as_raw_fd());
            reset_on_close(server.as_raw_fd());
            drop(client);
            drop(server);
            made += 1;
            if made.is_multiple_of(256) && Instant::now() >= deadline {
                break 'run;
            }
        }
    }
    let _ = writeln!(std::io::stdout(), "{made}");
}
