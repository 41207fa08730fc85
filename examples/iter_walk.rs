//! What a BPF socket iterator's walk costs, for `scripts/bench.py
//! --kernel-counts`: `iter_walk tcp|udp|unix [empty|records]` walks the
//! table once in the current network namespace with nlstat's program
//! (`records`, the default: one 72-byte record per socket, read back) or
//! with a program that writes nothing (`empty`: the kernel's walk alone),
//! and prints how many records came back.

use nlstat::collect::socket_iter::{SocketIters, Walk};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let walk = match args.first().map(String::as_str) {
        Some("tcp") => Walk::Tcp,
        Some("udp") => Walk::Udp,
        Some("unix") => Walk::Unix,
        _ => usage(),
    };
    let empty = match args.get(1).map(String::as_str) {
        None | Some("records") => false,
        Some("empty") => true,
        Some(_) => usage(),
    };
    let inputs = nlstat::config::Inputs::from_env();
    let loaded = if empty {
        SocketIters::load_empty(&inputs, &[walk])
    } else {
        SocketIters::load(&inputs, &[walk], (false, false))
    };
    let mut iters = loaded.unwrap_or_else(|e| {
        eprintln!("iter_walk: {e}");
        std::process::exit(1)
    });
    let mut records = 0u64;
    let walked = iters.walk(walk, u32::MAX, |_| {
        records += 1;
        Ok(())
    });
    if let Err(e) = walked {
        eprintln!("iter_walk: {e}");
        std::process::exit(1);
    }
    println!("{records}");
}

fn usage() -> ! {
    eprintln!("usage: iter_walk tcp|udp|unix [empty|records]");
    std::process::exit(2)
}
