//! A filter expression as a classic BPF socket filter for sock_diag's
//! close events: multicast has no inet_diag bytecode, but a socket filter
//! runs on every message before it is queued, so messages the expression
//! refuses never take room in the receive buffer.
//!
//! The program reads the netlink message as the kernel queues it: the
//! 16-byte `nlmsghdr`, then `inet_diag_msg` (family, state, ports in
//! network order, addresses). It decides as [`Expr::matches_inet`] does
//! (user space checks every message that passes again). Expressions with
//! unix name patterns, or too large for cBPF's 8-bit forward jumps, have
//! no program.

use super::expr::{AF_INET, AF_INET6, Cond, Expr, HostCond, Query, Side};

const NLMSG_HDRLEN: u32 = 16;
const FAMILY: u32 = NLMSG_HDRLEN;
const STATE: u32 = NLMSG_HDRLEN + 1;
const SPORT: u32 = NLMSG_HDRLEN + 4;
const DPORT: u32 = NLMSG_HDRLEN + 6;
const SRC: u32 = NLMSG_HDRLEN + 8;
const DST: u32 = NLMSG_HDRLEN + 24;

// the classic BPF opcodes used (linux/filter.h, linux/bpf_common.h)
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_IMM: u16 = 0x00;
const ALU_AND_K: u16 = 0x54;
const ALU_LSH_X: u16 = 0x6c;
const MISC_TAX: u16 = 0x07;
const JMP_JA: u16 = 0x05;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGE_K: u16 = 0x35;
const JMP_JGT_K: u16 = 0x25;
const RET_K: u16 = 0x06;

/// Instructions with symbolic jump targets, resolved by [`Builder::finish`].
#[derive(Default)]
struct Builder {
    code: Vec<(u16, u32, Option<usize>, Option<usize>)>,
    /// Each label's instruction index once placed.
    labels: Vec<Option<usize>>,
}

impl Builder {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push((code, k, None, None));
    }

    /// A conditional jump: to `yes` when it holds, else to `no`.
    fn jump(&mut self, code: u16, k: u32, yes: usize, no: usize) {
        self.code.push((code, k, Some(yes), Some(no)));
    }

    /// Continue at the next instruction when the comparison holds, else
    /// go to `no`.
    fn require(&mut self, code: u16, k: u32, no: usize) {
        let next = self.label();
        self.jump(code, k, next, no);
        self.place(next);
    }

    fn goto(&mut self, label: usize) {
        self.code.push((JMP_JA, 0, Some(label), None));
    }

    fn finish(self) -> Option<Vec<libc::sock_filter>> {
        let mut program = Vec::with_capacity(self.code.len());
        for (at, (code, k, yes, no)) in self.code.iter().copied().enumerate() {
            let offset = |label: Option<usize>| -> Option<u32> {
                match label {
                    None => Some(0),
                    Some(l) => u32::try_from(self.labels[l]?.checked_sub(at + 1)?).ok(),
                }
            };
            let (jt, jf, k) = if code == JMP_JA {
                (0, 0, offset(yes)?)
            } else {
                (
                    u8::try_from(offset(yes)?).ok()?,
                    u8::try_from(offset(no)?).ok()?,
                    k,
                )
            };
            program.push(libc::sock_filter { code, jt, jf, k });
        }
        (program.len() <= 4096).then_some(program)
    }

    /// Jump to `yes` when `expr` holds for the message, else to `no`.
    fn expr(&mut self, expr: &Expr, yes: usize, no: usize) -> Option<()> {
        match expr {
            Expr::Not(e) => self.expr(e, no, yes),
            Expr::And(a, b) => {
                let second = self.label();
                self.expr(a, second, no)?;
                self.place(second);
                self.expr(b, yes, no)
            }
            Expr::Or(a, b) => {
                let second = self.label();
                self.expr(a, yes, second)?;
                self.place(second);
                self.expr(b, yes, no)
            }
            Expr::Cond(cond) => {
                self.cond(cond, no)?;
                self.goto(yes);
                Some(())
            }
        }
    }

    /// Fall through when `cond` holds, else go to `no`.
    fn cond(&mut self, cond: &Cond, no: usize) -> Option<()> {
        let side = match cond {
            Cond::Host(side, _) | Cond::PortAtLeast(side, _) | Cond::PortAtMost(side, _) => *side,
            Cond::UnixPath(..) => return None,
        };
        let (port, address) = match side {
            Side::Src => (SPORT, SRC),
            Side::Dst => (DPORT, DST),
        };
        match cond {
            Cond::PortAtLeast(_, p) => {
                self.op(LD_H_ABS, port);
                self.require(JMP_JGE_K, u32::from(*p), no);
            }
            Cond::PortAtMost(_, p) => {
                self.op(LD_H_ABS, port);
                let next = self.label();
                self.jump(JMP_JGT_K, u32::from(*p), no, next);
                self.place(next);
            }
            Cond::Host(_, host) => self.host(host, port, address, no)?,
            Cond::UnixPath(..) => return None,
        }
        Some(())
    }

    /// [`HostCond::matches`] on one end of the message.
    fn host(&mut self, host: &HostCond, port: u32, address: u32, no: usize) -> Option<()> {
        if let Some(p) = host.port {
            self.op(LD_H_ABS, port);
            self.require(JMP_JEQ_K, u32::from(p), no);
        }
        match host.family {
            0 if host.prefix_len == 0 => {}
            // an address without a family is not something ss's parser makes
            0 => return None,
            AF_INET6 => {
                self.op(LD_B_ABS, FAMILY);
                self.require(JMP_JEQ_K, u32::from(AF_INET6), no);
                self.prefix(&host.addr, host.prefix_len.min(128), address, no);
            }
            AF_INET => {
                // an IPv4 prefix also matches an IPv4-mapped IPv6 address
                let (v4, mapped, done) = (self.label(), self.label(), self.label());
                self.op(LD_B_ABS, FAMILY);
                self.jump(JMP_JEQ_K, u32::from(AF_INET), v4, mapped);
                self.place(mapped);
                self.require(JMP_JEQ_K, u32::from(AF_INET6), no);
                for (at, word) in [(0, 0), (4, 0), (8, 0x0000_ffff)] {
                    self.op(LD_W_ABS, address + at);
                    self.require(JMP_JEQ_K, word, no);
                }
                self.prefix(&host.addr[..4], host.prefix_len.min(32), address + 12, no);
                self.goto(done);
                self.place(v4);
                self.prefix(&host.addr[..4], host.prefix_len.min(32), address, no);
                self.place(done);
            }
            _ => return None,
        }
        Some(())
    }

    /// The first `bits` bits at `at` equal `addr`'s, a 32-bit word at a
    /// time (loads are big-endian, as the address is).
    fn prefix(&mut self, addr: &[u8], bits: u8, at: u32, no: usize) {
        let mut left = u32::from(bits);
        for (i, chunk) in addr.chunks(4).enumerate() {
            if left == 0 {
                break;
            }
            let word = u32::from_be_bytes(chunk.try_into().unwrap_or([0; 4]));
            let mask = if left >= 32 {
                u32::MAX
            } else {
                !(u32::MAX >> left)
            };
            self.op(LD_W_ABS, at + 4 * i as u32);
            if mask != u32::MAX {
                self.op(ALU_AND_K, mask);
            }
            self.require(JMP_JEQ_K, word & mask, no);
            left = left.saturating_sub(32);
        }
    }
}

/// The socket filter for `query`'s states and expression, if cBPF can
/// say it; `None` when there is nothing to filter or it cannot.
pub fn compile(query: &Query) -> Option<Vec<libc::sock_filter>> {
    if query.states.is_none() && query.expr.is_none() {
        return None;
    }
    let mut b = Builder::default();
    let (accept, reject) = (b.label(), b.label());
    if let Some(states) = query.states {
        // 1 << state (a state past 31 counts as 31, as user space has it),
        // tested against the mask
        b.op(LD_B_ABS, STATE);
        let (clamp, shift) = (b.label(), b.label());
        b.jump(JMP_JGT_K, 31, clamp, shift);
        b.place(clamp);
        b.op(LD_IMM, 31);
        b.place(shift);
        b.op(MISC_TAX, 0);
        b.op(LD_IMM, 1);
        b.op(ALU_LSH_X, 0);
        b.op(ALU_AND_K, states);
        let next = b.label();
        b.jump(JMP_JEQ_K, 0, reject, next);
        b.place(next);
    }
    match &query.expr {
        Some(expr) => b.expr(expr, accept, reject)?,
        None => b.goto(accept),
    }
    b.place(accept);
    b.op(RET_K, u32::MAX);
    b.place(reject);
    b.op(RET_K, 0);
    b.finish()
}

/// A model of the kernel's side for tests and fuzz targets: a classic BPF
/// interpreter for the opcodes [`compile`] emits, and the first bytes of
/// a destroy message for a socket.
#[cfg(any(test, fuzzing))]
pub mod model {
    use super::*;
    use crate::model::InetSocket;
    use std::net::IpAddr;

    /// A classic BPF interpreter for the opcodes [`compile`] emits, over a
    /// message laid out as the kernel queues a destroy message.
    pub fn run(program: &[libc::sock_filter], packet: &[u8]) -> bool {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let load = |at: u32, n: usize| -> u32 {
            let at = at as usize;
            packet[at..at + n]
                .iter()
                .fold(0, |v, b| (v << 8) | u32::from(*b))
        };
        loop {
            let i = program[pc];
            pc += 1;
            let jump = |cond: bool| if cond { i.jt } else { i.jf } as usize;
            match i.code {
                LD_W_ABS => a = load(i.k, 4),
                LD_H_ABS => a = load(i.k, 2),
                LD_B_ABS => a = load(i.k, 1),
                LD_IMM => a = i.k,
                ALU_AND_K => a &= i.k,
                ALU_LSH_X => a = a.checked_shl(x).unwrap_or(0),
                MISC_TAX => x = a,
                JMP_JA => pc += i.k as usize,
                JMP_JEQ_K => pc += jump(a == i.k),
                JMP_JGE_K => pc += jump(a >= i.k),
                JMP_JGT_K => pc += jump(a > i.k),
                RET_K => return i.k != 0,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    /// The destroy message's first bytes for `socket`.
    pub fn packet(socket: &InetSocket) -> Vec<u8> {
        let mut p = vec![0u8; 16 + 72];
        let octets = |a: IpAddr| match a {
            IpAddr::V4(v4) => {
                let mut o = [0u8; 16];
                o[..4].copy_from_slice(&v4.octets());
                o
            }
            IpAddr::V6(v6) => v6.octets(),
        };
        p[16] = if socket.is_v6() { AF_INET6 } else { AF_INET };
        p[17] = socket.state;
        p[20..22].copy_from_slice(&socket.local_port.to_be_bytes());
        p[22..24].copy_from_slice(&socket.remote_port.to_be_bytes());
        p[24..40].copy_from_slice(&octets(socket.local));
        p[40..56].copy_from_slice(&octets(socket.remote));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::model::{packet, run};
    use super::*;
    use crate::model::InetSocket;

    fn query(words: &str) -> Query {
        let words: Vec<String> = words.split_whitespace().map(String::from).collect();
        crate::filter::expr::parse(&words, false).unwrap()
    }

    /// The program decides as the user-space expression on sockets of both
    /// families, mapped addresses, every port edge and state.
    #[test]
    fn programs_decide_as_the_expression() {
        let sockets: Vec<InetSocket> = [
            ("10.0.0.1", 80, "10.0.0.2", 40000, 7),
            ("10.0.1.1", 8080, "192.168.1.9", 1024, 7),
            ("::ffff:10.0.0.1", 80, "::ffff:10.0.0.9", 1023, 7),
            ("2001:db8::1", 443, "2001:db8:1::2", 65535, 7),
            ("::1", 5000, "::1", 5001, 1),
            ("127.0.0.1", 0, "0.0.0.0", 0, 10),
        ]
        .iter()
        .map(|(l, lp, r, rp, state)| {
            let mut s =
                InetSocket::tcp(*state, (l.parse().unwrap(), *lp), (r.parse().unwrap(), *rp));
            s.state = *state;
            s
        })
        .collect();
        let filters = [
            "sport = :80",
            "dport >= :1024",
            "dport <= :1023 or sport = :443",
            "src 10.0.0.0/16",
            "src 10.0.0.1",
            "dst 2001:db8::/32 and not dport = :65535",
            "src [::1] and dport > :5000",
            "not ( src 10.0.0.0/8 or dst 192.168.0.0/16 )",
            "dst 10.0.0.9/31",
            "state close",
            "state established sport = :5000",
            "exclude close",
            "dst 0.0.0.0/0",
            "src 10.0.1.1:8080",
        ];
        for words in filters {
            let q = query(words);
            let program = compile(&q).unwrap_or_else(|| panic!("{words}: no program"));
            for s in &sockets {
                let states_ok = q.states.is_none_or(|m| m & (1 << s.state) != 0);
                let expected = states_ok && q.expr.as_ref().is_none_or(|e| e.matches_inet(s));
                assert_eq!(run(&program, &packet(s)), expected, "{words} on {s:?}");
            }
        }
    }

    #[test]
    fn unix_patterns_and_empty_queries_have_no_program() {
        let words = vec!["src".to_string(), "/run/*".to_string()];
        let q = crate::filter::expr::parse(&words, true).unwrap();
        assert!(compile(&q).is_none());
        assert!(compile(&Query::default()).is_none());
    }
}
