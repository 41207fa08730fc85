//! ss's filter language: `state`/`exclude` words and an expression of
//! `src`/`dst` host conditions and `sport`/`dport` comparisons joined by
//! `and`, `or`, `not` and parentheses, with ss's grammar (and and or bind
//! equally, left to right; a missing operator means and) and meaning (the
//! kernel's inet_diag bytecode semantics, which [`Expr::matches_inet`]
//! reproduces for sockets the kernel did not filter).

use crate::model::{InetSocket, tcp_state};
use std::net::{IpAddr, ToSocketAddrs};

/// Which end of a socket a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Src,
    Dst,
}

/// The kernel's `struct inet_diag_hostcond`: an address prefix of a family
/// (or any family when `family` is 0) and a port (`None`: any port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCond {
    pub family: u8,
    pub prefix_len: u8,
    pub addr: [u8; 16],
    pub port: Option<u16>,
}

impl HostCond {
    /// Any address of any family, on `port` (or any port for `None`).
    pub fn any_address(port: Option<u16>) -> HostCond {
        HostCond {
            family: 0,
            prefix_len: 0,
            addr: [0; 16],
            port,
        }
    }
}

pub const AF_INET: u8 = libc::AF_INET as u8;
pub const AF_INET6: u8 = libc::AF_INET6 as u8;

/// One condition of the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `src`/`dst` ADDR[/LEN][:PORT], `sport`/`dport` `=` PORT.
    Host(Side, HostCond),
    /// `sport`/`dport` `>=` PORT.
    PortAtLeast(Side, u16),
    /// `sport`/`dport` `<=` PORT.
    PortAtMost(Side, u16),
    /// `src`/`dst` PATTERN on unix sockets: a shell pattern on the name.
    UnixPath(Side, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Cond(Cond),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed filter: the states it names (a mask of kernel TCP state bits)
/// and its expression.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub states: Option<u32>,
    pub expr: Option<Expr>,
}

/// ss's state bits: the kernel's TCP states 0 (unknown) to 11 (closing).
const SS_ALL: u32 = (1 << 12) - 1;

fn bit(state: u8) -> u32 {
    1 << state
}

/// The state names [`state_mask`] takes, as the help text lists them.
pub const STATE_NAMES: &[&str] = &[
    "established",
    "syn-sent",
    "syn-recv",
    "fin-wait-1",
    "fin-wait-2",
    "time-wait",
    "closed",
    "close-wait",
    "last-ack",
    "listening",
    "closing",
];

/// The state groups [`state_mask`] takes.
pub const STATE_GROUPS: &[&str] = &["all", "connected", "synchronized", "bucket", "big"];

/// The words that begin a filter's parts, as [`parse`] reads them (the
/// shell completions offer these; `state` and `exclude` are followed by
/// one of [`STATE_NAMES`] or [`STATE_GROUPS`]).
pub const FILTER_WORDS: &[&str] = &[
    "state", "exclude", "src", "dst", "sport", "dport", "and", "or", "not",
];

/// A state name or group as ss knows it.
pub fn state_mask(word: &str) -> Option<u32> {
    use tcp_state::*;
    Some(match word.to_ascii_lowercase().as_str() {
        "all" => SS_ALL,
        "connected" => SS_ALL & !(bit(LISTEN) | bit(CLOSE)),
        "synchronized" => SS_ALL & !(bit(LISTEN) | bit(CLOSE) | bit(SYN_SENT)),
        "bucket" => bit(SYN_RECV) | bit(TIME_WAIT),
        "big" => SS_ALL & !(bit(SYN_RECV) | bit(TIME_WAIT)),
        "established" => bit(ESTABLISHED),
        "syn-sent" => bit(SYN_SENT),
        "syn-recv" | "syn-rcv" => bit(SYN_RECV),
        "fin-wait-1" => bit(FIN_WAIT1),
        "fin-wait-2" => bit(FIN_WAIT2),
        "time-wait" => bit(TIME_WAIT),
        "closed" | "close" | "unconnected" => bit(CLOSE),
        "close-wait" => bit(CLOSE_WAIT),
        "last-ack" => bit(LAST_ACK),
        "listening" | "listen" => bit(LISTEN),
        "closing" => bit(CLOSING),
        "unknown" => bit(0),
        _ => return None,
    })
}

/// A filter the user got wrong: the word and what was expected instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn error(found: Option<&str>, expected: &str) -> ParseError {
    match found {
        Some(word) => ParseError(format!("unexpected `{word}', expected {expected}")),
        None => ParseError(format!("the expression ends early, expected {expected}")),
    }
}

/// Split the arguments into words: blanks separate them, and parentheses
/// are words of their own even when written against another word.
fn words(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for arg in args {
        for piece in arg.split([' ', '\t', '\n']) {
            let mut current = String::new();
            for c in piece.chars() {
                if c == '(' || c == ')' {
                    if !current.is_empty() {
                        out.push(std::mem::take(&mut current));
                    }
                    out.push(c.to_string());
                } else {
                    current.push(c);
                }
            }
            if !current.is_empty() {
                out.push(current);
            }
        }
    }
    out
}

#[cfg(any(fuzzing, test))]
thread_local! {
    /// Set by the fuzz entry points on their thread: a fuzzer must not send
    /// the resolver a query per input (then every host name is one that
    /// does not resolve). Per thread, so unit tests running beside them
    /// still resolve; not in release builds at all. Not a parameter: the
    /// entry points reach the parser through the public parse functions,
    /// which should not grow an argument only fuzzing uses.
    pub(crate) static OFFLINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether host names in a filter are looked up: always, but on a thread
/// the fuzz entry points took offline.
fn resolves_host_names() -> bool {
    #[cfg(any(fuzzing, test))]
    return !OFFLINE.with(std::cell::Cell::get);
    #[cfg(not(any(fuzzing, test)))]
    true
}

/// Service names look-up for ports (`:http`), in the services database.
fn service_port(name: &str, udp: bool) -> Option<u16> {
    let name = std::ffi::CString::new(name).ok()?;
    let proto: &[u8] = if udp { b"udp\0" } else { b"tcp\0" };
    // SAFETY: both strings are NUL-terminated; the result is read at once.
    let entry = unsafe { libc::getservbyname(name.as_ptr(), proto.as_ptr().cast()) };
    if entry.is_null() {
        return None;
    }
    // SAFETY: a non-null servent from the call above, read before any
    // other services-database call can overwrite it.
    Some(u16::from_be(unsafe { (*entry).s_port } as u16))
}

fn parse_port(text: &str, word: &str) -> Result<u16, ParseError> {
    if text.is_empty() {
        return Err(error(Some(word), "a port after `:'"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u16>()
            .map_err(|_| error(Some(word), "a port from 0 to 65535"));
    }
    service_port(text, false)
        .or_else(|| service_port(text, true))
        .ok_or_else(|| error(Some(word), "a port number or a service name"))
}

/// `sport`/`dport` operand: `:PORT`, `PORT` or `*:PORT`.
fn port_operand(word: &str) -> Result<u16, ParseError> {
    let text = word
        .strip_prefix("*:")
        .or_else(|| word.strip_prefix(':'))
        .unwrap_or(word);
    parse_port(text, word)
}

fn host_cond(address: IpAddr, prefix_len: Option<u8>, port: Option<u16>) -> HostCond {
    let mut addr = [0u8; 16];
    let (family, full) = match address {
        IpAddr::V4(v4) => {
            addr[..4].copy_from_slice(&v4.octets());
            (AF_INET, 32)
        }
        IpAddr::V6(v6) => {
            addr.copy_from_slice(&v6.octets());
            (AF_INET6, 128)
        }
    };
    HostCond {
        family,
        prefix_len: prefix_len.unwrap_or(full),
        addr,
        port,
    }
}

/// `src`/`dst` operand: `ADDR`, `ADDR/LEN`, `[V6]`, `[V6]/LEN`, any of
/// them with `:PORT`, `*`/`*:PORT`/`:PORT`, a host name (every address it
/// resolves to), or a unix name pattern (`/path*`, `@abstract`,
/// `unix:PATTERN`).
fn host_operand(word: &str, unix_only: bool) -> Result<Expr, ParseError> {
    if let Some(pattern) = word.strip_prefix("unix:") {
        return Ok(Expr::Cond(Cond::UnixPath(Side::Src, pattern.to_string())));
    }
    if unix_only || word.starts_with('/') || word.starts_with('@') {
        return Ok(Expr::Cond(Cond::UnixPath(Side::Src, word.to_string())));
    }
    let (host, port) = if let Some(rest) = word.strip_prefix('[') {
        // [V6] or [V6]/LEN, then :PORT
        let close = rest
            .find(']')
            .ok_or_else(|| error(Some(word), "`]' after an IPv6 address"))?;
        // the prefix inside the brackets (ss: `[fd00::/8]`) or after
        // them (`[fd00::]/8`)
        let after = &rest[close + 1..];
        let (prefix, port) = match after.find(':') {
            Some(colon) => (&after[..colon], Some(&after[colon + 1..])),
            None => (after, None),
        };
        (format!("{}{prefix}", &rest[..close]), port)
    } else {
        match word.rfind(':') {
            // one colon: host:port; several: a bare IPv6 address
            Some(colon) if word.matches(':').count() == 1 => {
                (word[..colon].to_string(), Some(&word[colon + 1..]))
            }
            _ => (word.to_string(), None),
        }
    };
    let port = match port {
        None | Some("" | "*") => None,
        Some(p) => Some(parse_port(p, word)?),
    };
    if host.is_empty() || matches!(host.as_str(), "*" | "default" | "all" | "any") {
        return Ok(Expr::Cond(Cond::Host(
            Side::Src,
            HostCond::any_address(port),
        )));
    }
    let (address, prefix_len) = match host.split_once('/') {
        Some((a, len)) => {
            let len: u8 = len
                .parse()
                .map_err(|_| error(Some(word), "a prefix length after `/'"))?;
            (a.to_string(), Some(len))
        }
        None => (host.clone(), None),
    };
    if let Ok(ip) = address.parse::<IpAddr>() {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if prefix_len.is_some_and(|l| l > max) {
            return Err(error(Some(word), "a prefix length within the address"));
        }
        return Ok(Expr::Cond(Cond::Host(
            Side::Src,
            host_cond(ip, prefix_len, port),
        )));
    }
    if prefix_len.is_some()
        || !address
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(error(Some(word), "an address, a prefix or a host name"));
    }
    // A host name: every address it resolves to (ss's meaning).
    if !resolves_host_names() {
        return Err(error(Some(word), "an address or a host name that resolves"));
    }
    let mut addresses: Vec<IpAddr> = (address.as_str(), 0)
        .to_socket_addrs()
        .map_err(|_| error(Some(word), "an address or a host name that resolves"))?
        .map(|a| a.ip())
        .collect();
    addresses.sort();
    addresses.dedup();
    let mut conds = addresses
        .into_iter()
        .map(|ip| Expr::Cond(Cond::Host(Side::Src, host_cond(ip, None, port))));
    let first = conds
        .next()
        .ok_or_else(|| error(Some(word), "a host name with an address"))?;
    Ok(conds.fold(first, |acc, c| Expr::Or(Box::new(acc), Box::new(c))))
}

/// Give a `src`-side operand its real side.
fn on_side(expr: Expr, side: Side) -> Expr {
    match expr {
        Expr::Cond(Cond::Host(_, h)) => Expr::Cond(Cond::Host(side, h)),
        Expr::Cond(Cond::UnixPath(_, p)) => Expr::Cond(Cond::UnixPath(side, p)),
        Expr::Or(a, b) => Expr::Or(Box::new(on_side(*a, side)), Box::new(on_side(*b, side))),
        other => other,
    }
}

/// How deep `not` and parentheses may nest, and how many conditions (each
/// address a host name resolves to counting as one) an expression may
/// hold. Everything that walks an expression (the parser, the bytecode
/// compiler, the matchers, dropping it) recurses over it; without the
/// bounds 5 000 `not`s on the command line overflowed the stack (an
/// abort; found probing the parser past the fuzz targets' 4 KiB inputs).
/// ss's own parser stops near 10 000.
pub const MAX_NESTING: usize = 100;
pub const MAX_CONDITIONS: usize = 1000;

struct Parser {
    words: Vec<String>,
    at: usize,
    /// Only unix tables are shown: every src/dst operand is a name pattern
    /// (as ss reads them with `-x`).
    unix_only: bool,
    /// `not`s and `(`s open around the word being read.
    nesting: usize,
    /// Conditions read so far.
    conditions: usize,
}

/// Conditions in an expression, counted without recursion (it may be the
/// long chain a host name with many addresses becomes).
fn conditions(expr: &Expr) -> usize {
    let mut count = 0;
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Cond(_) => count += 1,
            Expr::Not(a) => stack.push(a),
            Expr::And(a, b) | Expr::Or(a, b) => {
                stack.push(a);
                stack.push(b);
            }
        }
    }
    count
}

const CONDITION: &str = "a condition (src, dst, sport, dport, not or `(')";

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.words.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let word = self.words.get(self.at).cloned();
        self.at += 1;
        word
    }

    /// ss's `exprlist`: conditions joined left to right by and/or (equal
    /// precedence), a missing operator meaning and.
    fn list(&mut self) -> Result<Expr, ParseError> {
        let mut acc = self.expr()?;
        loop {
            match self.peek() {
                None | Some(")") => return Ok(acc),
                Some("|" | "||" | "or") => {
                    self.next();
                    acc = Expr::Or(Box::new(acc), Box::new(self.expr()?));
                }
                Some("&" | "&&" | "and") => {
                    self.next();
                    acc = Expr::And(Box::new(acc), Box::new(self.expr()?));
                }
                Some(_) => acc = Expr::And(Box::new(acc), Box::new(self.expr()?)),
            }
        }
    }

    /// One level deeper for `not` or `(`, refused past [`MAX_NESTING`].
    fn deeper(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ParseError(format!(
                "`not' and `(' nest more than {MAX_NESTING} deep"
            )));
        }
        Ok(())
    }

    /// Count `count` more conditions, refused past [`MAX_CONDITIONS`].
    fn counted(&mut self, expr: Expr, count: usize) -> Result<Expr, ParseError> {
        self.conditions += count;
        if self.conditions > MAX_CONDITIONS {
            return Err(ParseError(format!(
                "more than {MAX_CONDITIONS} conditions (a host name counts one per address)"
            )));
        }
        Ok(expr)
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let word = self.next();
        match word.as_deref() {
            Some("(") => {
                self.deeper()?;
                let inner = self.list()?;
                self.nesting -= 1;
                match self.next().as_deref() {
                    Some(")") => Ok(inner),
                    other => Err(error(other, "`)'")),
                }
            }
            Some("!" | "not") => {
                self.deeper()?;
                let inner = self.expr()?;
                self.nesting -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(w @ ("src" | "dst")) => {
                let side = if w == "src" { Side::Src } else { Side::Dst };
                if matches!(self.peek(), Some("=" | "==" | "eq")) {
                    self.next();
                }
                let operand = self.next();
                match operand.as_deref() {
                    None => Err(error(None, "an address after src/dst")),
                    Some(o) if is_keyword(o) => Err(error(Some(o), "an address after src/dst")),
                    Some(o) => {
                        let operand = on_side(host_operand(o, self.unix_only)?, side);
                        let count = conditions(&operand);
                        self.counted(operand, count)
                    }
                }
            }
            Some(w @ ("sport" | "dport")) => {
                let side = if w == "sport" { Side::Src } else { Side::Dst };
                let op = match self.peek() {
                    Some(
                        o @ (">=" | "ge" | "geq" | "<=" | "le" | "leq" | ">" | "gt" | "<" | "lt"
                        | "=" | "==" | "eq" | "!=" | "ne" | "neq"),
                    ) => {
                        let o = o.to_string();
                        self.next();
                        o
                    }
                    _ => "=".to_string(),
                };
                let operand = self.next();
                let port = match operand.as_deref() {
                    None => return Err(error(None, "a port after sport/dport")),
                    Some(o) if is_keyword(o) => {
                        return Err(error(Some(o), "a port after sport/dport"));
                    }
                    Some(o) => port_operand(o)?,
                };
                let eq = Expr::Cond(Cond::Host(side, HostCond::any_address(Some(port))));
                let not = |e: Expr| Expr::Not(Box::new(e));
                let cond = match op.as_str() {
                    ">=" | "ge" | "geq" => Expr::Cond(Cond::PortAtLeast(side, port)),
                    "<=" | "le" | "leq" => Expr::Cond(Cond::PortAtMost(side, port)),
                    ">" | "gt" => not(Expr::Cond(Cond::PortAtMost(side, port))),
                    "<" | "lt" => not(Expr::Cond(Cond::PortAtLeast(side, port))),
                    "!=" | "ne" | "neq" => not(eq),
                    _ => eq,
                };
                self.counted(cond, 1)
            }
            Some(w @ ("dev" | "fwmark" | "cgroup" | "autobound")) => Err(ParseError(format!(
                "`{w}' conditions are not supported; use src, dst, sport or dport"
            ))),
            other => Err(error(other, CONDITION)),
        }
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "(" | ")"
            | "!"
            | "not"
            | "and"
            | "&&"
            | "&"
            | "or"
            | "||"
            | "|"
            | "src"
            | "dst"
            | "sport"
            | "dport"
            | "state"
            | "exclude"
            | "excl"
    )
}

/// Parse the positional arguments: `state`/`exclude` words (anywhere
/// outside parentheses; ss wants them first) and the expression. With
/// `unix_only`, src/dst operands are unix name patterns.
pub fn parse(args: &[String], unix_only: bool) -> Result<Query, ParseError> {
    let all = words(args);
    let mut states: Option<u32> = None;
    let mut rest = Vec::new();
    let mut depth = 0i32;
    let mut iter = all.into_iter();
    while let Some(word) = iter.next() {
        match word.as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            _ => {}
        }
        if depth == 0 && matches!(word.as_str(), "state" | "exclude" | "excl") {
            let name = iter.next();
            let mask = match name.as_deref() {
                Some(n) => state_mask(n).ok_or_else(|| {
                    error(
                        Some(n),
                        "a state (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, \
                         time-wait, closed, close-wait, last-ack, listening, closing) or a \
                         group (all, connected, synchronized, bucket, big)",
                    )
                })?,
                None => return Err(error(None, "a state name after `state'")),
            };
            states = Some(if word == "state" {
                states.unwrap_or(0) | mask
            } else {
                states.unwrap_or(SS_ALL) & !mask
            });
            continue;
        }
        rest.push(word);
    }
    let expr = if rest.is_empty() {
        None
    } else {
        let mut parser = Parser {
            words: rest,
            at: 0,
            unix_only,
            nesting: 0,
            conditions: 0,
        };
        let expr = parser.list()?;
        if let Some(extra) = parser.peek() {
            return Err(error(
                Some(extra),
                "an operator or the end (unbalanced `)')",
            ));
        }
        Some(expr)
    };
    // as in ss, states that cancel out leave the default
    Ok(Query {
        states: states.filter(|&m| m != 0),
        expr,
    })
}

/// `bitstring_match`: the first `bits` bits of `a` and `b` are equal.
fn prefix_matches(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[whole] ^ b[whole]) & mask == 0
}

impl HostCond {
    /// inet_diag_bc_run's S_COND/D_COND on one end of a socket.
    pub fn matches(&self, address: IpAddr, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let (family, octets): (u8, [u8; 16]) = match address {
            IpAddr::V4(v4) => {
                let mut o = [0; 16];
                o[..4].copy_from_slice(&v4.octets());
                (AF_INET, o)
            }
            IpAddr::V6(v6) => (AF_INET6, v6.octets()),
        };
        if self.family != 0 && self.family != family {
            // an IPv4 prefix matches an IPv4-mapped IPv6 address
            if family == AF_INET6 && self.family == AF_INET {
                let mapped = octets[..10] == [0; 10] && octets[10..12] == [0xff, 0xff];
                return mapped && prefix_matches(&octets[12..], &self.addr[..4], self.prefix_len);
            }
            return false;
        }
        self.prefix_len == 0 || prefix_matches(&octets, &self.addr, self.prefix_len)
    }
}

impl Expr {
    /// The expression on an inet socket, as the kernel's bytecode would
    /// decide it.
    pub fn matches_inet(&self, socket: &InetSocket) -> bool {
        match self {
            Expr::Not(e) => !e.matches_inet(socket),
            Expr::And(a, b) => a.matches_inet(socket) && b.matches_inet(socket),
            Expr::Or(a, b) => a.matches_inet(socket) || b.matches_inet(socket),
            Expr::Cond(cond) => {
                let end = |side: Side| match side {
                    Side::Src => (socket.local, socket.local_port),
                    Side::Dst => (socket.remote, socket.remote_port),
                };
                match cond {
                    Cond::Host(side, host) => {
                        let (address, port) = end(*side);
                        host.matches(address, port)
                    }
                    Cond::PortAtLeast(side, port) => end(*side).1 >= *port,
                    Cond::PortAtMost(side, port) => end(*side).1 <= *port,
                    Cond::UnixPath(..) => false,
                }
            }
        }
    }

    /// The expression on a unix socket: name patterns match its own name
    /// (`src`) or its peer's (`dst`), as fnmatch with FNM_CASEFOLD (ss's
    /// reading); an unnamed socket, or one without a named peer, has the
    /// empty name. Inet conditions never match.
    pub fn matches_unix(&self, own: Option<&[u8]>, peer: Option<&[u8]>) -> bool {
        match self {
            Expr::Not(e) => !e.matches_unix(own, peer),
            Expr::And(a, b) => a.matches_unix(own, peer) && b.matches_unix(own, peer),
            Expr::Or(a, b) => a.matches_unix(own, peer) || b.matches_unix(own, peer),
            Expr::Cond(Cond::UnixPath(side, pattern)) => {
                let name = match side {
                    Side::Src => own,
                    Side::Dst => peer,
                };
                glob(pattern.as_bytes(), name.unwrap_or_default())
            }
            Expr::Cond(_) => false,
        }
    }

    /// Whether every socket it keeps must match an exact port or an
    /// address prefix, the conditions that keep few sockets of a large
    /// table (a range, a negation or a bare family keeps most of them):
    /// whether a dump filtered by it is likely to be small.
    pub fn narrows(&self) -> bool {
        match self {
            Expr::Cond(Cond::Host(_, host)) => host.port.is_some() || host.prefix_len > 0,
            Expr::Cond(_) | Expr::Not(_) => false,
            Expr::And(a, b) => a.narrows() || b.narrows(),
            Expr::Or(a, b) => a.narrows() && b.narrows(),
        }
    }

    /// Whether the expression holds unix name patterns (which no inet
    /// socket can match, and bytecode cannot say).
    pub fn has_unix_paths(&self) -> bool {
        match self {
            Expr::Not(e) => e.has_unix_paths(),
            Expr::And(a, b) | Expr::Or(a, b) => a.has_unix_paths() || b.has_unix_paths(),
            Expr::Cond(c) => matches!(c, Cond::UnixPath(..)),
        }
    }
}

/// fnmatch with FNM_CASEFOLD: `*`, `?`, `[...]` (with `!`/`^` and
/// ranges), `\` escaping the next character; letters match either case.
pub fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    glob_exact(&pattern, &name)
}

fn glob_exact(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(&pattern[p..], name[n]) {
                        if matched {
                            p += next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() && pattern[p + 1] == name[n] => {
                    p += 2;
                    n += 1;
                    continue;
                }
                b'\\' if p + 1 < pattern.len() => {}
                c if c == name[n] => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A bracket expression at the start of `pattern`: whether `c` is in it
/// and its length; `None` when it is not closed.
fn class(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() {
        let lo = pattern[i];
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pattern[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Query {
        parse(&[text.to_string()], false).unwrap()
    }

    /// The words the completions offer are the parser's: each is read in
    /// its place, and each state name and group is a state.
    #[test]
    fn completion_words_are_the_parsers() {
        for word in FILTER_WORDS {
            let text = match *word {
                "state" | "exclude" => format!("{word} established"),
                "src" | "dst" => format!("{word} 10.0.0.1"),
                "sport" | "dport" => format!("{word} = :22"),
                "and" | "or" => format!("sport = :22 {word} dport = :22"),
                _ => format!("{word} sport = :22"),
            };
            assert!(parse(std::slice::from_ref(&text), false).is_ok(), "{text}");
        }
        for state in STATE_NAMES.iter().chain(STATE_GROUPS) {
            assert!(state_mask(state).is_some(), "{state}");
        }
        assert!(parse(&["bogus".into()], false).is_err());
    }

    fn port(side: Side, p: u16) -> Expr {
        Expr::Cond(Cond::Host(side, HostCond::any_address(Some(p))))
    }

    fn and(a: Expr, b: Expr) -> Expr {
        Expr::And(Box::new(a), Box::new(b))
    }

    fn or(a: Expr, b: Expr) -> Expr {
        Expr::Or(Box::new(a), Box::new(b))
    }

    /// Regression (fuzz/regressions/filter/deep-not and cli/deep-not hold
    /// the input): thousands of `not`s overflowed the stack. Deep nesting and long chains are refused with a message, and
    /// the largest accepted ones compile and match.
    #[test]
    fn deep_or_long_expressions_are_refused_not_a_stack_overflow() {
        let words = |text: String| -> Vec<String> { vec![text] };
        let nots = format!("{}sport = :22", "not ".repeat(100_000));
        let error = parse(&words(nots), false).unwrap_err();
        assert!(error.0.contains("nest more than 100"), "{}", error.0);
        let parens = format!("{}sport = :22{}", "( ".repeat(101), " )".repeat(101));
        assert!(parse(&words(parens), false).is_err());
        let ok = format!("{}sport = :22{}", "( not ".repeat(50), " )".repeat(50));
        let query = parse(&words(ok), false).unwrap();
        assert!(crate::filter::bytecode::compile(query.expr.as_ref().unwrap()).is_some());
        let chain = |n: usize| {
            (1..=n)
                .map(|i| format!("sport = :{i}"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let error = parse(&words(chain(MAX_CONDITIONS + 1)), false).unwrap_err();
        assert!(error.0.contains("more than 1000 conditions"), "{}", error.0);
        let query = parse(&words(chain(MAX_CONDITIONS)), false).unwrap();
        let expr = query.expr.unwrap();
        let program = crate::filter::bytecode::compile(&expr).unwrap();
        assert!(crate::filter::bytecode::model::audit(&program));
    }

    #[test]
    fn listed_state_words_are_the_parsers() {
        // each name one state, each group more than one, all different
        let mut seen = Vec::new();
        for name in STATE_NAMES {
            let mask = state_mask(name).unwrap_or_else(|| panic!("{name} is not a state"));
            assert_eq!(mask.count_ones(), 1, "{name}");
            assert!(!seen.contains(&mask), "{name} repeats a state");
            seen.push(mask);
        }
        // every state ss names but `unknown` is listed
        assert_eq!(seen.iter().fold(0, |a, m| a | m), SS_ALL & !1);
        for group in STATE_GROUPS {
            let mask = state_mask(group).unwrap_or_else(|| panic!("{group} is not a group"));
            assert!(mask.count_ones() > 1, "{group}");
        }
    }

    #[test]
    fn and_and_or_bind_equally_left_to_right() {
        let (a, b, c) = (port(Side::Src, 1), port(Side::Src, 2), port(Side::Dst, 3));
        assert_eq!(
            parsed("sport = :1 or sport = :2 and dport = :3").expr,
            Some(and(or(a.clone(), b.clone()), c.clone()))
        );
        assert_eq!(
            parsed("sport = :1 sport = :2 || dport = :3").expr,
            Some(or(and(a.clone(), b.clone()), c.clone()))
        );
        assert_eq!(
            parsed("sport = :1 and ( sport = :2 or dport = :3 )").expr,
            Some(and(a.clone(), or(b.clone(), c.clone())))
        );
        // parentheses glued to words, `!` on one term
        assert_eq!(
            parsed("!(sport = :1) dport = :3").expr,
            Some(and(Expr::Not(Box::new(a)), c))
        );
    }

    #[test]
    fn every_operator_spelling() {
        for (text, expected) in [
            ("sport >= :80", Expr::Cond(Cond::PortAtLeast(Side::Src, 80))),
            ("sport geq 80", Expr::Cond(Cond::PortAtLeast(Side::Src, 80))),
            ("dport le :80", Expr::Cond(Cond::PortAtMost(Side::Dst, 80))),
            (
                "dport gt :80",
                Expr::Not(Box::new(Expr::Cond(Cond::PortAtMost(Side::Dst, 80)))),
            ),
            (
                "sport < :80",
                Expr::Not(Box::new(Expr::Cond(Cond::PortAtLeast(Side::Src, 80)))),
            ),
            ("sport neq :80", Expr::Not(Box::new(port(Side::Src, 80)))),
            ("sport == :80", port(Side::Src, 80)),
            ("sport eq *:80", port(Side::Src, 80)),
            ("sport :http", port(Side::Src, 80)),
        ] {
            assert_eq!(parsed(text).expr, Some(expected), "{text}");
        }
    }

    #[test]
    fn host_conditions() {
        let cond = |text: &str| match parsed(text).expr {
            Some(Expr::Cond(Cond::Host(side, h))) => (side, h),
            other => panic!("{text}: {other:?}"),
        };
        let (side, h) = cond("dst 10.0.0.0/8");
        assert_eq!(
            (side, h.family, h.prefix_len, h.port),
            (Side::Dst, AF_INET, 8, None)
        );
        assert_eq!(&h.addr[..4], &[10, 0, 0, 0]);
        let (_, h) = cond("src 127.0.0.1:22");
        assert_eq!((h.prefix_len, h.port), (32, Some(22)));
        for text in ["src [fd00::]/8", "src [fd00::/8]"] {
            let (_, h) = cond(text);
            assert_eq!((h.family, h.prefix_len), (AF_INET6, 8), "{text}");
        }
        let (_, h) = cond("src [::1]:443");
        assert_eq!((h.prefix_len, h.port), (128, Some(443)));
        let (_, h) = cond("dst *:80");
        assert_eq!((h.family, h.prefix_len, h.port), (0, 0, Some(80)));
        assert!(matches!(
            parsed("src /tmp/*.sock").expr,
            Some(Expr::Cond(Cond::UnixPath(Side::Src, _)))
        ));
        assert!(matches!(
            parse(&["dst".into(), "x*".into()], true).unwrap().expr,
            Some(Expr::Cond(Cond::UnixPath(Side::Dst, _)))
        ));
    }

    #[test]
    fn states_and_groups() {
        let q = parsed("state established state time-wait");
        assert_eq!(q.states, Some(0b100_0010));
        assert_eq!(q.expr, None);
        let q = parsed("exclude listening sport = :22");
        assert_eq!(q.states, Some(SS_ALL & !(1 << 10)));
        assert!(q.expr.is_some());
        assert_eq!(parsed("state bucket").states, Some((1 << 3) | (1 << 6)));
        assert_eq!(parsed("state connected").states, Some(0xB7F));
        assert_eq!(parsed("state synchronized").states, Some(0xB7B));
        assert_eq!(parsed("state big").states, Some(0xFB7));
        // cancelling out leaves netstat's rules
        assert_eq!(parsed("state established exclude established").states, None);
    }

    #[test]
    fn errors_name_the_word_and_what_was_expected() {
        for (text, word) in [
            ("sport = :1 )", "`)'"),
            ("( sport = :1", "ends early"),
            ("bogus", "`bogus'"),
            ("dst 10.0.0.0/40", "`10.0.0.0/40'"),
            ("sport = :70000", "`:70000'"),
            ("state nope", "`nope'"),
            ("sport = :1 or", "ends early"),
            ("src", "ends early"),
            ("dev eth0", "`dev'"),
        ] {
            let e = parse(&[text.to_string()], false).unwrap_err().to_string();
            assert!(e.contains(word), "{text}: {e}");
        }
    }

    #[test]
    fn globs_like_fnmatch_casefold() {
        assert!(glob(b"/tmp/*.sock", b"/tmp/x/y.sock"));
        assert!(glob(b"*SEQ*", b"/run/seq.sock"));
        assert!(glob(b"@nlstat-?", b"@nlstat-a"));
        assert!(glob(b"[a-c]x", b"bx") && !glob(b"[!a-c]x", b"bx"));
        assert!(!glob(b"/tmp/*", b"/var/x"));
        assert!(glob(b"*", b""));
    }

    #[test]
    fn mapped_addresses_match_ipv4_prefixes_like_the_kernel() {
        let h = |text: &str| match parsed(text).expr {
            Some(Expr::Cond(Cond::Host(_, h))) => h,
            other => panic!("{other:?}"),
        };
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert!(h("src 10.0.0.0/8").matches(mapped, 1));
        assert!(!h("src [::]/0").matches("10.1.2.3".parse().unwrap(), 1));
        assert!(h("src *").matches(mapped, 1));
    }

    #[test]
    fn exact_ports_and_prefixes_narrow_ranges_and_negations_do_not() {
        let narrows = |words: &[&str]| {
            let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            parse(&args, false).unwrap().expr.unwrap().narrows()
        };
        assert!(narrows(&["sport", "=", ":80"]));
        assert!(narrows(&["dst", "10.0.0.0/8"]));
        assert!(narrows(&["sport", "=", ":80", "or", "dport", "=", ":443"]));
        assert!(narrows(&["sport", ">=", ":1024", "and", "dst", "10.1.2.3"]));
        assert!(!narrows(&["sport", ">=", ":1024"]));
        assert!(!narrows(&["not", "sport", "=", ":22"]));
        assert!(!narrows(&["sport", "=", ":80", "or", "dport", ">", ":1"]));
        assert!(!narrows(&["dst", "0.0.0.0/0"]));
    }
}
