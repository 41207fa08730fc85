//! `--info` on unix sockets: their memory (`UNIX_DIAG_MEMINFO`) under each
//! row and as `skmem` in JSON, against `ss -xam` on the same sockets.
//! Nothing is masked: the sockets are idle while both run.

use crate::json_sockets::json_lines;
use crate::support::*;
use std::collections::BTreeMap;
use std::process::Stdio;

/// Unix sockets of every type, some with data queued, held idle.
const HOLDER: &str = r#"
import socket, sys, time
held = []
a, b = socket.socketpair(); a.send(b"x" * 3000); held += [a, b]
for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
    l = socket.socket(socket.AF_UNIX, kind); l.bind("\0nlstat-info-%d" % kind); l.listen(4)
    c = socket.socket(socket.AF_UNIX, kind); c.connect("\0nlstat-info-%d" % kind)
    held += [l, c]
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind("\0nlstat-info-dgram")
e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); e.sendto(b"y" * 500, "\0nlstat-info-dgram")
held += [d, e]
print("READY", flush=True)
time.sleep(float(sys.argv[1]))
"#;

/// ss's `skmem:(...)` per inode.
fn ss_memory(ns: &Namespace) -> BTreeMap<u64, String> {
    let out = ns.run("ss", &["-xamH"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let inode = tokens.get(5)?.parse().ok()?;
            let skmem = tokens.iter().find(|t| t.starts_with("skmem:("))?;
            Some((inode, skmem.to_string()))
        })
        .collect()
}

#[test]
fn unix_memory_matches_ss() {
    let Some(ns) = Namespace::create("infox") else {
        return;
    };
    if !require_tools(&["ss"]) {
        return;
    }
    let mut holder = ns
        .command("python3", &["-c", HOLDER, "30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the unix sockets");
    assert_eq!(first_line(&mut holder).trim(), "READY");
    let theirs = ss_memory(&ns);
    assert!(theirs.len() >= 7, "ss sees the sockets: {theirs:?}");

    // text: the line under a row is that socket's memory, as ss prints it
    let text = ns.run(nlstat(), &["-xa", "--info"]);
    assert_eq!(
        text.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let mut ours = BTreeMap::new();
    let mut last_inode = None;
    for line in text.lines() {
        if let Some(memory) = line.strip_prefix("\t ") {
            let inode = last_inode.take().expect("a memory line follows a row");
            ours.insert(inode, memory.to_string());
        } else if line.starts_with("unix ") {
            last_inode = line[50..58].trim().parse::<u64>().ok().filter(|&i| i != 0);
        }
    }
    assert_eq!(ours, theirs);

    // JSON: the same numbers, named
    let json = ns.run(nlstat(), &["-xa", "--info", "--json"]);
    let mut named = BTreeMap::new();
    for o in json_lines(&json.stdout) {
        let Some(skmem) = o.get("skmem") else {
            assert_eq!(
                o["inode"], 0,
                "only a connection in an accept queue has none: {o}"
            );
            continue;
        };
        let slot = |name: &str| skmem[name].as_u64().unwrap();
        named.insert(
            o["inode"].as_u64().unwrap(),
            format!(
                "skmem:(r{},rb{},t{},tb{},f{},w{},o{},bl{},d{})",
                slot("rmem_alloc"),
                slot("rcvbuf"),
                slot("wmem_alloc"),
                slot("sndbuf"),
                slot("fwd_alloc"),
                slot("wmem_queued"),
                slot("optmem"),
                slot("backlog"),
                slot("drops")
            ),
        );
    }
    assert_eq!(named, theirs);

    // without --info the table is netstat's (connections still in an
    // accept queue, inode 0, come where sock_diag lists them: moved to one
    // place in both, as every unix comparison here does)
    let plain = ns.run(nlstat(), &["-xa"]);
    let netstat = ns.run(NETSTAT, &["-xa"]);
    assert_eq!(
        canonical_embryos(&String::from_utf8_lossy(&plain.stdout)),
        canonical_embryos(&String::from_utf8_lossy(&netstat.stdout))
    );
    let _ = holder.kill();
    let _ = holder.wait();
}
