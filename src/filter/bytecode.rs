//! The expression compiled into the kernel's inet_diag bytecode
//! (`INET_DIAG_REQ_BYTECODE`), so that the kernel skips sockets nobody
//! asked for.
//!
//! A compiled fragment is a run of `struct inet_diag_bc_op` (code, yes,
//! no): running off its end means true, jumping 4 bytes past its end means
//! false. Every op's `yes` is its own length, so each jump target lies on
//! the chain the kernel's verifier (`inet_diag_bc_audit`) walks. and
//! concatenates (the left side's false jumps are moved past the right
//! side), or puts a JMP between its sides, not adds a JMP that turns the
//! end into a false jump.

use super::expr::{Cond, Expr, HostCond, Side};

pub const NOP: u8 = 0;
pub const JMP: u8 = 1;
pub const S_GE: u8 = 2;
pub const S_LE: u8 = 3;
pub const D_GE: u8 = 4;
pub const D_LE: u8 = 5;
pub const S_COND: u8 = 7;
pub const D_COND: u8 = 8;

/// `INET_DIAG_REQ_BYTECODE`, the request attribute carrying the program.
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;

fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let no = no.to_ne_bytes();
    [code, yes, no[0], no[1]]
}

fn no_of(program: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([program[at + 2], program[at + 3]])
}

/// One condition: false jumps to its length + 4.
fn leaf(cond: &Cond) -> Vec<u8> {
    match cond {
        Cond::Host(side, host) => host_op(*side, host),
        Cond::PortAtLeast(side, port) | Cond::PortAtMost(side, port) => {
            let at_least = matches!(cond, Cond::PortAtLeast(..));
            let code = match (side, at_least) {
                (Side::Src, true) => S_GE,
                (Side::Src, false) => S_LE,
                (Side::Dst, true) => D_GE,
                (Side::Dst, false) => D_LE,
            };
            let mut out = op(code, 8, 12).to_vec();
            out.extend_from_slice(&op(NOP, 0, *port));
            out
        }
        // No inet socket has a unix name: always false.
        Cond::UnixPath(..) => op(JMP, 4, 8).to_vec(),
    }
}

fn host_op(side: Side, host: &HostCond) -> Vec<u8> {
    let addr_len = match host.family {
        super::expr::AF_INET => 4,
        super::expr::AF_INET6 => 16,
        _ => 0,
    };
    let len = 4 + 8 + addr_len;
    let code = match side {
        Side::Src => S_COND,
        Side::Dst => D_COND,
    };
    let mut out = op(code, len as u8, len as u16 + 4).to_vec();
    out.push(host.family);
    out.push(host.prefix_len);
    out.extend_from_slice(&[0, 0]);
    let port: i32 = host.port.map_or(-1, i32::from);
    out.extend_from_slice(&port.to_ne_bytes());
    out.extend_from_slice(&host.addr[..addr_len]);
    out
}

/// Move the false jumps of `fragment` (to its end + 4) by `by` bytes.
fn patch(fragment: &mut [u8], by: usize) {
    let len = fragment.len();
    let mut at = 0;
    while at < len {
        let remaining = len - at;
        if usize::from(no_of(fragment, at)) == remaining + 4 {
            let moved = (remaining + 4 + by) as u16;
            fragment[at + 2..at + 4].copy_from_slice(&moved.to_ne_bytes());
        }
        at += usize::from(fragment[at + 1]);
    }
}

/// Compile an expression. `None` when it does not fit the bytecode's
/// 16-bit jumps (then user space does all the filtering).
pub fn compile(expr: &Expr) -> Option<Vec<u8>> {
    let program = fragment(expr);
    (program.len() + 8 <= usize::from(u16::MAX)).then_some(program)
}

fn fragment(expr: &Expr) -> Vec<u8> {
    match expr {
        Expr::Cond(cond) => leaf(cond),
        Expr::And(a, b) => {
            let mut left = fragment(a);
            let right = fragment(b);
            patch(&mut left, right.len());
            left.extend_from_slice(&right);
            left
        }
        Expr::Or(a, b) => {
            let mut left = fragment(a);
            let right = fragment(b);
            // left true: jump over the right side to the end
            left.extend_from_slice(&op(JMP, 4, (right.len() + 4) as u16));
            left.extend_from_slice(&right);
            left
        }
        Expr::Not(a) => {
            let mut inner = fragment(a);
            // inner true reaches the JMP, which jumps past the end: false;
            // inner false lands exactly on the end: true.
            inner.extend_from_slice(&op(JMP, 4, 8));
            inner
        }
    }
}

/// The request attribute: `nla_len`, `nla_type`, the program.
pub fn attribute(program: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() + 4);
    out.extend_from_slice(&((program.len() + 4) as u16).to_ne_bytes());
    out.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    out.extend_from_slice(program);
    out
}

/// The kernel's bytecode interpreter and verifier, re-told: the oracle
/// that unit tests and the `filter` fuzz target hold compiled programs
/// against. Both expect a program [`compile`] produced (`audit` first):
/// they index it without checks and panic on an op the compiler never
/// emits, which is what an oracle should do. Compiled only for them.
#[cfg(any(fuzzing, test))]
pub mod model {
    use super::*;
    use crate::model::InetSocket;

    /// The kernel's inet_diag_bc_run, for checking programs without one.
    pub fn run(program: &[u8], socket: &InetSocket) -> bool {
        let mut len = program.len() as isize;
        let mut at = 0usize;
        while len > 0 {
            let code = program[at];
            let yes_step = usize::from(program[at + 1]);
            let no_step = usize::from(no_of(program, at));
            let yes = match code {
                NOP => true,
                JMP => false,
                S_GE => socket.local_port >= no_of(program, at + 4),
                S_LE => socket.local_port <= no_of(program, at + 4),
                D_GE => socket.remote_port >= no_of(program, at + 4),
                D_LE => socket.remote_port <= no_of(program, at + 4),
                S_COND | D_COND => {
                    let family = program[at + 4];
                    let prefix_len = program[at + 5];
                    let port = i32::from_ne_bytes(program[at + 8..at + 12].try_into().unwrap());
                    let mut addr = [0u8; 16];
                    let addr_len = match family {
                        2 => 4,
                        10 => 16,
                        _ => 0,
                    };
                    addr[..addr_len].copy_from_slice(&program[at + 12..at + 12 + addr_len]);
                    let host = HostCond {
                        family,
                        prefix_len,
                        addr,
                        port: (port >= 0).then_some(port as u16),
                    };
                    if code == S_COND {
                        host.matches(socket.local, socket.local_port)
                    } else {
                        host.matches(socket.remote, socket.remote_port)
                    }
                }
                other => panic!("unknown op {other}"),
            };
            let step = if yes { yes_step } else { no_step };
            len -= step as isize;
            at += step;
        }
        len == 0
    }

    /// The kernel's inet_diag_bc_audit: every jump lands on the yes chain.
    pub fn audit(program: &[u8]) -> bool {
        let chain: Vec<usize> = {
            let mut at = 0;
            let mut starts = Vec::new();
            while at < program.len() {
                starts.push(program.len() - at);
                at += usize::from(program[at + 1]);
            }
            starts
        };
        let mut at = 0;
        while at < program.len() {
            let len = program.len() - at;
            let code = program[at];
            let min_len = match code {
                S_COND | D_COND => {
                    4 + 8
                        + match program[at + 4] {
                            0 => 0,
                            2 => 4,
                            10 => 16,
                            _ => return false,
                        }
                }
                S_GE | S_LE | D_GE | D_LE => 8,
                NOP | JMP => 4,
                _ => return false,
            };
            let (yes, no) = (
                usize::from(program[at + 1]),
                usize::from(no_of(program, at)),
            );
            if code != NOP {
                if no < min_len || no > len + 4 || no & 3 != 0 {
                    return false;
                }
                if no < len && !chain.contains(&(len - no)) {
                    return false;
                }
            }
            if yes < min_len || yes > len + 4 || yes & 3 != 0 {
                return false;
            }
            at += yes;
        }
        at == program.len()
    }
}

/// The random expressions the differential tests also use (shared there,
/// where an integration test can reach it).
#[cfg(test)]
#[path = "../../tests/netstat_diff/random_filters.rs"]
mod random_filters;

#[cfg(test)]
pub(crate) mod tests {
    use super::model::{audit, run};
    use super::random_filters::random_expressions;
    use super::*;
    use crate::filter::expr::parse;
    use crate::model::InetSocket;

    fn socket(local: &str, lport: u16, remote: &str, rport: u16) -> InetSocket {
        InetSocket::tcp(
            1,
            (local.parse().unwrap(), lport),
            (remote.parse().unwrap(), rport),
        )
    }

    fn sockets() -> Vec<InetSocket> {
        let mut out = Vec::new();
        for (l, r) in [
            ("10.1.2.3", "10.9.8.7"),
            ("127.0.0.1", "192.168.1.1"),
            ("::1", "::1"),
            ("fd00::5", "2001:db8::1"),
            ("::ffff:10.1.2.3", "::ffff:127.0.0.1"),
            ("0.0.0.0", "0.0.0.0"),
        ] {
            for (lp, rp) in [(22, 40000), (443, 80), (80, 0), (8080, 443)] {
                out.push(socket(l, lp, r, rp));
            }
        }
        out
    }

    fn expr_of(text: &str) -> Expr {
        parse(&[text.to_string()], false).unwrap().expr.unwrap()
    }

    #[test]
    fn leaf_layouts() {
        let program = compile(&expr_of("sport >= :1024")).unwrap();
        assert_eq!(program, [&op(S_GE, 8, 12)[..], &op(NOP, 0, 1024)].concat());
        let program = compile(&expr_of("dst 10.0.0.0/8")).unwrap();
        assert_eq!(&program[..4], &op(D_COND, 16, 20));
        assert_eq!(&program[4..8], &[2, 8, 0, 0]);
        assert_eq!(&program[8..12], &(-1i32).to_ne_bytes());
        assert_eq!(&program[12..], &[10, 0, 0, 0]);
    }

    #[test]
    fn jump_offsets_of_and_or_not() {
        // a or b: a, JMP over b, b
        let program = compile(&expr_of("sport = :1 or sport = :2")).unwrap();
        assert_eq!(program.len(), 12 + 4 + 12);
        assert_eq!(&program[..4], &op(S_COND, 12, 16));
        assert_eq!(&program[12..16], &op(JMP, 4, 16));
        assert_eq!(&program[16..20], &op(S_COND, 12, 16));
        // a and b: a's false jump moved past b
        let program = compile(&expr_of("sport = :1 and sport = :2")).unwrap();
        assert_eq!(&program[..4], &op(S_COND, 12, 28));
        assert_eq!(&program[12..16], &op(S_COND, 12, 16));
        // not a: a, then a JMP from its true end to false
        let program = compile(&expr_of("not sport = :1")).unwrap();
        assert_eq!(&program[12..16], &op(JMP, 4, 8));
        // not inside and: the JMP's false jump is moved too
        let program = compile(&expr_of("! sport = :1 dport = :2")).unwrap();
        assert_eq!(&program[12..16], &op(JMP, 4, 8 + 12));
        assert!(audit(&program));
    }

    /// Random expressions: the program, run as the kernel runs it, decides
    /// every socket as the user-space evaluation does, and passes the
    /// kernel's audit.
    #[test]
    fn programs_agree_with_user_space_on_random_expressions() {
        let atoms = [
            "sport = :22",
            "dport = :80",
            "sport >= :443",
            "dport <= :443",
            "sport > :80",
            "dport < :1024",
            "dport != :0",
            "src 10.0.0.0/8",
            "dst 192.168.0.0/16",
            "src [::1]",
            "dst [2001:db8::]/32",
            "src 127.0.0.1",
            "dst 127.0.0.1:443",
            "src *:8080",
            "src [fd00::]/8:443",
            "dst 0.0.0.0/0",
            "src /tmp/x",
        ];
        let sockets = sockets();
        // a bare `a b` too: its precedence is the parser's to get right
        for text in random_expressions(&atoms, 0x2545_f491_4f6c_dd1d, 4, true).take(400) {
            let expr = expr_of(&text);
            let program = compile(&expr).unwrap();
            assert!(audit(&program), "audit refuses {text}");
            for s in &sockets {
                assert_eq!(run(&program, s), expr.matches_inet(s), "{text} on {s:?}");
            }
        }
    }

    #[test]
    fn prefixes_and_mapped_addresses() {
        let s = socket("::ffff:10.1.2.3", 1, "::1", 2);
        assert!(expr_of("src 10.1.0.0/16").matches_inet(&s));
        assert!(!expr_of("src 10.2.0.0/16").matches_inet(&s));
        assert!(!expr_of("src [fd00::]/8").matches_inet(&s));
        assert!(expr_of("dst [::1]").matches_inet(&s));
    }
}
