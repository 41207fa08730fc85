//! `-p` from the BPF task_file iterator and from the /proc walk, each
//! against netstat, on owners that are hard to get right
//! (tests/netstat_diff/owners.py: a process with thousands of descriptors,
//! threads sharing a file table, a thread with a table of its own, sockets
//! passed between processes or only in flight, processes exiting during
//! the walk, sockets of another user), and every way the iterator can be
//! unavailable (no BTF, garbage BTF, a verifier rejection, no privilege, a
//! child pid namespace), where nlstat must print exactly what netstat
//! prints. The BTF reader is checked against bpftool's dump of the
//! running kernel's BTF.

use crate::json_sockets::json_lines;
use crate::support::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Output, Stdio};

/// owners.py running in a namespace, with the facts it printed.
struct Owners {
    child: Child,
    stdin: Option<ChildStdin>,
    facts: HashMap<String, String>,
}

impl Owners {
    fn start(ns: &Namespace) -> Owners {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netstat_diff/owners.py");
        let mut child = ns
            .command("python3", &[script.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 owners.py");
        let line = first_line(&mut child);
        let rest = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("owners.py did not start: {line:?}"));
        let facts = rest
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let stdin = child.stdin.take();
        Owners {
            child,
            stdin,
            facts,
        }
    }

    fn pid(&self, name: &str) -> &str {
        &self.facts[name]
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// Whether the iterator loads here (root on a kernel with BTF and
/// iter/task_file). Under CI it must; elsewhere a test skips with why.
fn iterator_loads(ns: &Namespace) -> bool {
    let out = ns.run(nlstat(), &["--pid-source", "bpf", "-tnp"]);
    if out.status.success() {
        return true;
    }
    let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
    skip_or_fail(
        &format!(
            "{}: the BPF task_file iterator cannot be loaded here: {why}",
            current_test()
        ),
        in_ci(),
    );
    false
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// netstat's row for a local address, and its last column (the owner).
fn owner_of(table: &str, local: &str) -> String {
    let row = table
        .lines()
        .find(|l| l.split_whitespace().nth(3) == Some(local))
        .unwrap_or_else(|| panic!("no row for {local} in:\n{table}"));
    row.split_whitespace().last().unwrap().to_string()
}

const MASKS: Masks = Masks {
    timers: true,
    embryo_order: true,
};

/// Both sources against netstat on the hard owners, with the standard
/// population beside them; netstat's own output is checked first for what
/// each case must show, so a population that stopped doing what it says
/// fails instead of passing on both sides.
#[test]
fn both_sources_match_netstat_on_hard_owners() {
    let Some(ns) = Namespace::create("own") else {
        return;
    };
    let _population = Population::start(&ns);
    let owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    let table = text(&ns.run(NETSTAT, &["-tlnp"]).stdout);
    let main = format!("{}/python3", owners.pid("main"));
    let expect = [
        ("127.0.0.1:20000", format!("{}/python3", owners.pid("many"))),
        ("127.0.0.1:21499", format!("{}/python3", owners.pid("many"))),
        ("127.0.0.1:31002", main.clone()),
        ("127.0.0.1:32000", "-".to_string()),
        ("127.0.0.1:33000", main.clone()),
        ("127.0.0.1:33001", main.clone()),
        ("127.0.0.1:33002", "-".to_string()),
        (
            "127.0.0.1:34000",
            format!("{}/python3", owners.pid("churn")),
        ),
        (
            "127.0.0.1:35000",
            format!("{}/python3", owners.pid("nobody")),
        ),
        (
            "127.0.0.1:35001",
            format!("{}/python3", owners.pid("setuid")),
        ),
    ];
    for (local, owner) in &expect {
        assert_eq!(
            &owner_of(&table, local),
            owner,
            "netstat's owner of {local}"
        );
    }
    let flag_sets: &[&[&str]] = &[
        &["-tanp"],
        &["-tlnp"],
        &["-uanp"],
        &["-xap"],
        &["-anpe"],
        &["-tanpoW"],
        &["-v", "-tanp"],
        &["-tanp", "sport = :33001 or sport = :20007"],
    ];
    let mut results = Vec::new();
    for source in ["bpf", "proc"] {
        for args in flag_sets {
            // netstat has no filters: compare with the rows it would keep
            if args.len() == 2 && args[1].starts_with("sport") {
                let ours = ns.run(nlstat(), &["--pid-source", source, args[0], args[1]]);
                let theirs = text(&ns.run(NETSTAT, &[args[0]]).stdout);
                let kept: String = theirs
                    .lines()
                    .filter(|l| {
                        !l.starts_with("tcp")
                            || [":33001", ":20007"]
                                .iter()
                                .any(|p| l.split_whitespace().nth(3).unwrap().ends_with(p))
                    })
                    .map(|l| format!("{l}\n"))
                    .collect();
                let ours = text(&ours.stdout);
                results.push(if ours == kept {
                    Ok(())
                } else {
                    Err(format!(
                        "{source} {args:?}:\n{}",
                        describe_diff(&kept, &ours)
                    ))
                });
                continue;
            }
            results.push(compare(&ns, args, &["--pid-source", source], MASKS));
            // as root netstat prints nothing on stderr, nor must nlstat
            // (the iterator loads: -v has no reason to give)
            let ours = ns.run(nlstat(), &[&["--pid-source", source][..], args].concat());
            results.push(if ours.stderr.is_empty() {
                Ok(())
            } else {
                Err(format!("{source} {args:?} stderr: {}", text(&ours.stderr)))
            });
        }
    }
    assert_all(results);
}

/// JSON rows name the owner netstat prints for the same inode; both
/// sources, and the views that show programs.
#[test]
fn json_and_views_name_netstats_owners() {
    let Some(ns) = Namespace::create("ownj") else {
        return;
    };
    let _owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    // netstat's owner per inode (-e adds the inode column before it)
    let theirs = text(&ns.run(NETSTAT, &["-tanpe"]).stdout);
    let mut expected: BTreeMap<u64, String> = BTreeMap::new();
    let mut per_owner: BTreeMap<String, usize> = BTreeMap::new();
    for line in theirs.lines().filter(|l| l.starts_with("tcp")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let owner = fields[fields.len() - 1].to_string();
        let inode: u64 = fields[fields.len() - 2].parse().unwrap();
        *per_owner.entry(owner.clone()).or_default() += 1;
        if inode != 0 {
            expected.insert(inode, owner);
        }
    }
    assert!(expected.len() > 1500, "the population's listeners");
    let mut failures = Vec::new();
    for source in ["bpf", "proc"] {
        let out = ns.run(nlstat(), &["--pid-source", source, "-tanp", "--json"]);
        let rows = json_lines(&out.stdout);
        let mut seen = 0;
        for row in &rows {
            let Some(inode) = row["inode"].as_u64().filter(|&i| i != 0) else {
                continue;
            };
            let owner = match (row["pid"].as_u64(), row["program"].as_str()) {
                (Some(pid), Some(program)) => {
                    let mut label = format!("{pid}/{program}");
                    label.truncate(19);
                    label
                }
                _ => "-".to_string(),
            };
            seen += 1;
            if expected.get(&inode) != Some(&owner) {
                failures.push(format!(
                    "{source}: inode {inode}: netstat {:?}, JSON {owner}",
                    expected.get(&inode)
                ));
            }
        }
        if seen != expected.len() {
            failures.push(format!(
                "{source}: {seen} JSON rows with an inode, netstat {}",
                expected.len()
            ));
        }
        // --group-by pid,program counts netstat's rows per owner
        let out = ns.run(
            nlstat(),
            &[
                "--pid-source",
                source,
                "-tanp",
                "--json",
                "--group-by",
                "pid,program",
            ],
        );
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for row in json_lines(&out.stdout) {
            let owner = match (row["pid"].as_u64(), row["program"].as_str()) {
                (Some(pid), Some(program)) => format!("{pid}/{program}"),
                _ => "-".to_string(),
            };
            counted.insert(owner, row["count"].as_u64().unwrap() as usize);
        }
        if counted != per_owner {
            failures.push(format!(
                "{source}: --group-by pid,program {counted:?}, netstat {per_owner:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--all-netns -tanp`: the namespace's section is netstat's -tanp inside
/// it, from either source (the map is built once for every namespace).
#[test]
fn all_netns_sections_from_both_sources() {
    let Some(ns) = Namespace::create("owna") else {
        return;
    };
    let _owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    let header = format!("Network namespace {} (inode ", ns.name);
    for source in ["bpf", "proc"] {
        let out = Command::new(nlstat())
            .args(["--pid-source", source, "--all-netns", "-tanp"])
            .output()
            .unwrap();
        let all = text(&out.stdout);
        let mut section = String::new();
        let mut inside = false;
        for line in all.lines() {
            if line.starts_with("Network namespace ") && line.ends_with("):") {
                inside = line.starts_with(&header);
                continue;
            }
            if inside {
                section.push_str(line);
                section.push('\n');
            }
        }
        let theirs = text(&ns.run(NETSTAT, &["-tanp"]).stdout);
        assert_eq!(
            section,
            theirs,
            "--pid-source {source} --all-netns:\n{}",
            describe_diff(&theirs, &section)
        );
    }
}

/// Processes exit during every walk (owners.py's churn): twenty iterator
/// runs in a row, each the table netstat prints.
#[test]
fn iterator_runs_while_processes_exit() {
    let Some(ns) = Namespace::create("ownc") else {
        return;
    };
    let _owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    let before = text(&ns.run(NETSTAT, &["-tlnp"]).stdout);
    let mut results = Vec::new();
    for run in 0..20 {
        let ours = text(&ns.run(nlstat(), &["--pid-source", "bpf", "-tlnp"]).stdout);
        results.push(if ours == before {
            Ok(())
        } else {
            Err(format!("run {run}:\n{}", describe_diff(&before, &ours)))
        });
    }
    let after = text(&ns.run(NETSTAT, &["-tlnp"]).stdout);
    assert_eq!(before, after, "netstat itself saw the table change");
    assert_all(results);
}

/// `-c -p`: every tick is netstat's table, from either source (the
/// iterator runs again each tick; /proc keeps its incremental map).
#[test]
fn continuous_ticks_from_both_sources() {
    let Some(ns) = Namespace::create("ownt") else {
        return;
    };
    let _owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    let once = text(&ns.run(NETSTAT, &["-tlnp"]).stdout);
    for source in ["bpf", "proc"] {
        let out = ns.run(
            "timeout",
            &[
                "-s",
                "INT",
                "1.8",
                nlstat(),
                "--pid-source",
                source,
                "-c",
                "-tlnp",
            ],
        );
        let twice = format!("{once}{once}");
        let ours = text(&out.stdout);
        assert_eq!(
            ours,
            twice,
            "two ticks from {source}:\n{}",
            describe_diff(&twice, &ours)
        );
    }
}

fn with_env(ns: &Namespace, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = ns.command(nlstat(), args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run nlstat")
}

/// Lines of `ours` that are not in `theirs`, in order.
fn extra_lines(theirs: &str, ours: &str) -> Vec<String> {
    let mut left: Vec<&str> = theirs.lines().collect();
    let mut extra = Vec::new();
    for line in ours.lines() {
        match left.iter().position(|l| *l == line) {
            Some(i) => {
                left.remove(i);
            }
            None => extra.push(line.to_string()),
        }
    }
    extra
}

/// No BTF, garbage BTF, a cut BTF and a program the verifier rejects:
/// `auto` prints exactly what netstat prints (`-v` adds one line saying
/// why), `bpf` fails with one line naming the reason.
#[test]
fn unavailable_iterator_falls_back_to_proc() {
    let Some(ns) = Namespace::create("ownf") else {
        return;
    };
    let _owners = Owners::start(&ns);
    if !iterator_loads(&ns) {
        return;
    }
    let scratch = TempDir::new(&format!("{}-btf", ns.name));
    let garbage = scratch.join("garbage");
    std::fs::write(&garbage, b"this is not BTF, only text standing in for it\n").unwrap();
    let cut = scratch.join("cut");
    let real = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    std::fs::write(&cut, &real[..real.len() / 2]).unwrap();
    let missing = scratch.join("missing");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("NLSTAT_BTF_PATH", missing.to_str().unwrap())],
            "No such file",
        ),
        (
            vec![("NLSTAT_BTF_PATH", garbage.to_str().unwrap())],
            "not BTF",
        ),
        (
            vec![("NLSTAT_BTF_PATH", cut.to_str().unwrap())],
            "truncated BTF",
        ),
        (vec![("NLSTAT_BPF_REJECT", "1")], "invalid mem access"),
    ];
    let theirs = ns.run(NETSTAT, &["-tanp"]);
    let mut results = Vec::new();
    for (env, reason) in &cases {
        let what = format!("{env:?}");
        let auto = with_env(&ns, env, &["-tanp"]);
        results.push(same_output(&["-tanp", &what], &theirs, &auto));
        let proc = with_env(&ns, env, &["--pid-source", "proc", "-tanp"]);
        results.push(same_output(&["--pid-source proc", &what], &theirs, &proc));
        // -v: netstat's output plus one line with the reason, on stderr
        let verbose = with_env(&ns, env, &["-v", "-tanp"]);
        let theirs_v = ns.run(NETSTAT, &["-v", "-tanp"]);
        let extra = extra_lines(&text(&theirs_v.stderr), &text(&verbose.stderr));
        let ok = verbose.stdout == theirs_v.stdout
            && extra.len() == 1
            && extra[0].contains("-p reads /proc")
            && extra[0].contains(reason);
        results.push(if ok {
            Ok(())
        } else {
            Err(format!("-v {what}: extra stderr {extra:?}"))
        });
        // bpf: nothing on stdout, one line on stderr, status 1
        let strict = with_env(&ns, env, &["--pid-source", "bpf", "-tanp"]);
        let err = text(&strict.stderr);
        let ok = strict.status.code() == Some(1)
            && strict.stdout.is_empty()
            && err.lines().count() == 1
            && err.contains("--pid-source bpf: ")
            && err.contains(reason);
        results.push(if ok {
            Ok(())
        } else {
            Err(format!(
                "--pid-source bpf {what}: status {:?}, stderr {err:?}",
                strict.status.code()
            ))
        });
    }
    assert_all(results);
}

/// As uid 65534 nothing may load BPF programs: `auto` is netstat's output,
/// stdout and stderr (its note about unreadable processes included), and
/// `bpf` says which privilege is missing.
#[test]
fn unprivileged_runs_fall_back_with_netstats_note() {
    let Some(ns) = Namespace::create("ownu") else {
        return;
    };
    let _owners = Owners::start(&ns);
    let as_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let run = |program: &str, args: &[&str]| {
        let mut all = as_nobody.to_vec();
        all.push(program);
        all.extend_from_slice(args);
        ns.run("setpriv", &all)
    };
    let mut results = Vec::new();
    for args in [&["-tanp"][..], &["-uanp"], &["-xap"], &["-tlnp", "--json"]] {
        let theirs = run(
            NETSTAT,
            if args[1..].contains(&"--json") {
                &args[..1]
            } else {
                args
            },
        );
        let ours = run(nlstat(), args);
        if args.contains(&"--json") {
            // the same note on stderr; rows are compared elsewhere
            results.push(if ours.stderr == theirs.stderr {
                Ok(())
            } else {
                Err(format!("{args:?} stderr: {}", text(&ours.stderr)))
            });
            continue;
        }
        results.push(same_output(args, &theirs, &ours));
    }
    let strict = run(nlstat(), &["--pid-source", "bpf", "-tanp"]);
    let err = text(&strict.stderr);
    results.push(
        if strict.status.code() == Some(1) && err.lines().count() == 1 && err.contains("CAP_BPF") {
            Ok(())
        } else {
            Err(format!("--pid-source bpf as nobody: {err:?}"))
        },
    );
    assert_all(results);
}

/// In a pid namespace of its own (`unshare --pid --mount-proc`) the
/// iterator's pids are the host's: nlstat notices (its own socket's pid
/// is not its /proc/self) and reads /proc. There, with one process that
/// opened a socket as root and then switched to uid 65534 (so only root
/// can read its fds), netstat as uid 65534 finds no process it can read
/// and says `No info could be read`; nlstat must say exactly that too
/// (it once counted its own netlink sockets as an identified process).
#[test]
fn child_pid_namespace_and_unreadable_owner() {
    let Some(ns) = Namespace::create("ownp") else {
        return;
    };
    let driver = r#"
import json, os, socket, subprocess, sys, time
nlstat, netstat = sys.argv[1], sys.argv[2]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    s = socket.socket()
    s.bind(("127.0.0.1", 36000))
    s.listen(1)
    os.setgid(65534)
    os.setuid(65534)
    os.write(w, b"x")
    time.sleep(120)
    os._exit(0)
os.read(r, 1)
nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
runs = {
    "netstat": [netstat, "-tanp"],
    "auto": [nlstat, "-tanp"],
    "verbose": [nlstat, "-v", "-tanp"],
    "bpf": [nlstat, "--pid-source", "bpf", "-tanp"],
    "nobody_netstat": nobody + [netstat, "-tanp"],
    "nobody_auto": nobody + [nlstat, "-tanp"],
    "nobody_proc": nobody + [nlstat, "--pid-source", "proc", "-tanp"],
}
out = {"holder": pid}
for name, argv in runs.items():
    p = subprocess.run(argv, capture_output=True, text=True)
    out[name] = [p.stdout, p.stderr, p.returncode]
os.kill(pid, 9)
print(json.dumps(out))
"#;
    let out = ns.run(
        "unshare",
        &[
            "--pid",
            "--fork",
            "--mount-proc",
            "python3",
            "-c",
            driver,
            nlstat(),
            NETSTAT,
        ],
    );
    assert!(
        out.status.success(),
        "the pid-namespace driver failed: {}",
        text(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |name: &str| {
        let v = &result[name];
        (
            v[0].as_str().unwrap().to_string(),
            v[1].as_str().unwrap().to_string(),
            v[2].as_i64().unwrap(),
        )
    };
    let holder = result["holder"].as_i64().unwrap();
    let netstat = get("netstat");
    assert!(
        netstat.0.contains(&format!("{holder}/python3")),
        "netstat as root names the holder: {}",
        netstat.0
    );
    assert_eq!(get("auto"), netstat, "root, auto, in a child pid namespace");
    let verbose = get("verbose");
    assert_eq!(verbose.0, netstat.0);
    assert!(
        verbose.1.contains("another pid namespace") && verbose.1.lines().count() == 1,
        "-v says why: {:?}",
        verbose.1
    );
    let bpf = get("bpf");
    assert!(
        bpf.2 == 1 && bpf.0.is_empty() && bpf.1.contains("another pid namespace"),
        "--pid-source bpf in a child pid namespace: {bpf:?}"
    );
    let nobody_netstat = get("nobody_netstat");
    assert!(
        nobody_netstat
            .1
            .starts_with("(No info could be read for \"-p\": geteuid()=65534"),
        "netstat as nobody: {:?}",
        nobody_netstat.1
    );
    assert_eq!(get("nobody_auto"), nobody_netstat, "nobody, auto");
    assert_eq!(
        get("nobody_proc"),
        nobody_netstat,
        "nobody, --pid-source proc"
    );
}

/// The BTF reader against bpftool's dump of the running kernel's BTF: the
/// number of types, and every offset the program loads.
#[test]
fn btf_offsets_match_bpftool() {
    if !require_tools(&["bpftool"]) {
        return;
    }
    let dump = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "raw",
        ])
        .output();
    let dump = match dump {
        Ok(o) if o.status.success() => text(&o.stdout),
        other => {
            skip_or_fail(
                &format!("{}: bpftool btf dump failed: {other:?}", current_test()),
                in_ci(),
            );
            return;
        }
    };
    // [id] KIND 'name' ... then indented members: 'name' type_id=N bits_offset=M
    struct Type {
        kind: String,
        name: String,
        members: Vec<(String, u32, u64)>,
    }
    let mut types: BTreeMap<u32, Type> = BTreeMap::new();
    let mut last = 0;
    for line in dump.lines() {
        if let Some(rest) = line.strip_prefix('[') {
            let (id, rest) = rest.split_once("] ").unwrap();
            let mut words = rest.splitn(3, ' ');
            let kind = words.next().unwrap().to_string();
            let name = words.next().unwrap_or("").trim_matches('\'').to_string();
            last = id.parse().unwrap();
            types.insert(
                last,
                Type {
                    kind,
                    name,
                    members: Vec::new(),
                },
            );
        } else if let Some(rest) = line.strip_prefix('\t') {
            let name = rest.split('\'').nth(1).unwrap_or("").to_string();
            let field = |key: &str| {
                rest.split_whitespace()
                    .find_map(|w| w.strip_prefix(key))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            if let (Some(type_id), Some(bits)) = (field("type_id="), field("bits_offset=")) {
                types
                    .get_mut(&last)
                    .unwrap()
                    .members
                    .push((name, type_id as u32, bits));
            }
        }
    }
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    let btf = nlstat::collect::btf::parse(&bytes).expect("the kernel's BTF parses");
    assert_eq!(btf.type_count(), *types.keys().last().unwrap() as usize);
    let layout = nlstat::enrich::task_files::Layout::from_btf(&btf).unwrap();
    // bpftool's view: a member by name, through anonymous members
    fn find(types: &BTreeMap<u32, Type>, id: u32, name: &str, base: u64) -> Option<(u64, u32)> {
        for (member, type_id, bits) in &types[&id].members {
            if member == name {
                return Some((base + bits, *type_id));
            }
        }
        types[&id]
            .members
            .iter()
            .filter(|(m, _, _)| m == "(anon)")
            .find_map(|(_, t, bits)| find(types, *t, name, base + bits))
    }
    let by_name = |kind: &str, name: &str| {
        *types
            .iter()
            .find(|(_, t)| t.kind == kind && t.name == name)
            .unwrap()
            .0
    };
    let pointee = |ptr: u32| -> u32 {
        let line = dump
            .lines()
            .find(|l| l.starts_with(&format!("[{ptr}] PTR ")))
            .unwrap();
        line.rsplit("type_id=").next().unwrap().parse().unwrap()
    };
    let ctx = by_name("STRUCT", "bpf_iter__task_file");
    let byte = |id: u32, name: &str| find(&types, id, name, 0).unwrap();
    let (meta_bits, meta_ptr) = byte(ctx, "meta");
    let (task_bits, task_ptr) = byte(ctx, "task");
    let (fd_bits, _) = byte(ctx, "fd");
    let (file_bits, file_ptr) = byte(ctx, "file");
    let (task, file, meta) = (pointee(task_ptr), pointee(file_ptr), pointee(meta_ptr));
    let (inode_bits, inode_ptr) = byte(file, "f_inode");
    let inode = pointee(inode_ptr);
    let checks = [
        ("ctx.meta", layout.ctx_meta.offset, meta_bits),
        ("ctx.task", layout.ctx_task.offset, task_bits),
        ("ctx.fd", layout.ctx_fd.offset, fd_bits),
        ("ctx.file", layout.ctx_file.offset, file_bits),
        (
            "bpf_iter_meta.seq",
            layout.meta_seq.offset,
            byte(meta, "seq").0,
        ),
        (
            "task_struct.pid",
            layout.task_pid.offset,
            byte(task, "pid").0,
        ),
        (
            "task_struct.tgid",
            layout.task_tgid.offset,
            byte(task, "tgid").0,
        ),
        ("file.f_inode", layout.file_inode.offset, inode_bits),
        (
            "inode.i_mode",
            layout.inode_mode.offset,
            byte(inode, "i_mode").0,
        ),
        (
            "inode.i_ino",
            layout.inode_ino.offset,
            byte(inode, "i_ino").0,
        ),
    ];
    for (what, ours, bits) in checks {
        assert_eq!(ours as u64 * 8, bits, "{what}");
    }
    assert_eq!(
        layout.attach_btf_id,
        by_name("FUNC", "bpf_iter_task_file"),
        "the attach point"
    );
}
