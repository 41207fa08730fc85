//! Which tables the flags select: address families in command-line order
//! (as netstat's aftrans_opt takes them), protocols, and the sets netstat
//! implies when only one of the two is given.

use super::netstat_args::RawArgs;
use super::{Parsed, given_indices};
use crate::config::{Families, Mode, Protocols};
use crate::views::View;

/// netstat's address family aliases: (alias, canonical name).
pub(super) const AF_ALIASES: &[(&str, &str)] = &[
    ("x25", "x25"),
    ("ax25", "ax25"),
    ("ip", "inet"),
    ("ip6", "inet6"),
    ("ipx", "ipx"),
    ("appletalk", "ddp"),
    ("netrom", "netrom"),
    ("inet", "inet"),
    ("inet6", "inet6"),
    ("ddp", "ddp"),
    ("unix", "unix"),
    ("tcpip", "inet"),
    ("econet", "ec"),
    ("rose", "rose"),
    ("ash", "ash"),
    ("bluetooth", "bluetooth"),
];

/// The options that name an address family, as (clap id, name of
/// [`AF_ALIASES`]).
const FAMILY_FLAGS: &[(&str, &str)] = &[
    ("inet", "inet"),
    ("inet6", "inet6"),
    ("unix", "unix"),
    ("ax25", "ax25"),
    ("ip", "ip"),
    ("ipx", "ipx"),
    ("appletalk", "appletalk"),
    ("netrom", "netrom"),
    ("ddp", "ddp"),
    ("tcpip", "tcpip"),
    ("econet", "econet"),
    ("x25", "x25"),
    ("rose", "rose"),
    ("ash", "ash"),
    ("bluetooth", "bluetooth"),
];

/// Every family option given, as (position, comma-separated names), in
/// command-line order: family options act in that order, as netstat's
/// aftrans_opt.
pub(super) fn family_events(matches: &clap::ArgMatches) -> Vec<(usize, String)> {
    let mut events: Vec<(usize, String)> = Vec::new();
    for (id, alias) in FAMILY_FLAGS {
        if let Some(indices) = given_indices(matches, id) {
            for i in indices {
                events.push((i, alias.to_string()));
            }
        }
    }
    if let (Some(values), Some(indices)) = (
        matches.get_many::<String>("protocol"),
        matches.indices_of("protocol"),
    ) {
        for (v, i) in values.zip(indices) {
            events.push((i, v.clone()));
        }
    }
    events.sort_by_key(|(i, _)| *i);
    events
}

/// The families the options before `stop` (the position of a -V, -h or
/// -?, where getopt stops) name, and their canonical names in order; an
/// unknown name fails as netstat does (status 1, no usage text).
pub(super) fn families(
    events: &[(usize, String)],
    stop: Option<usize>,
) -> Result<(Families, Vec<&'static str>), Parsed> {
    let mut families = Families::default();
    let mut af_names: Vec<&'static str> = Vec::new();
    for (index, list) in events {
        if stop.is_some_and(|j| j < *index) {
            break;
        }
        for name in list.split(',') {
            let Some((_, canonical)) = AF_ALIASES.iter().find(|(alias, _)| *alias == name) else {
                return Err(Parsed::Fail {
                    message: format!("Unknown address family `{name}'.\n"),
                    usage: false,
                    status: 1,
                });
            };
            match *canonical {
                "inet" => families.inet = true,
                "inet6" => families.inet6 = true,
                "unix" => families.unix = true,
                "ipx" => families.ipx = true,
                "ax25" => families.ax25 = true,
                "netrom" => families.netrom = true,
                "x25" => families.x25 = true,
                "rose" => families.rose = true,
                "bluetooth" => families.bluetooth = true,
                _ => {}
            }
            af_names.push(canonical);
        }
    }
    Ok((families, af_names))
}

/// What the tables list, after netstat's implications.
pub(super) struct Selection {
    pub families: Families,
    pub protocols: Protocols,
    /// Whether any family or protocol was chosen (none: everything).
    pub any_selection: bool,
}

/// The protocols the flags name, and netstat's implications between them
/// and `families` (a view over TCP narrows both to TCP).
pub(super) fn selection(
    raw: &RawArgs,
    mut families: Families,
    mode: Mode,
    view: Option<&View>,
) -> Selection {
    let mut protocols = Protocols {
        tcp: raw.tcp > 0,
        sctp: raw.sctp > 0,
        udp: raw.udp > 0,
        udplite: raw.udplite > 0,
        raw: raw.raw > 0,
        groups: raw.groups > 0,
        l2cap: raw.l2cap > 0,
        rfcomm: raw.rfcomm > 0,
    };
    if matches!(view, Some(View::Listeners | View::Ephemeral)) {
        // TCP views: the TCP tables of the families asked for
        protocols = Protocols {
            tcp: true,
            ..Protocols::default()
        };
        families.unix = false;
    }
    if (families.inet || families.inet6 || mode == Mode::Statistics) && !any_inet_proto(&protocols)
    {
        // netstat 2.10 leaves SCTP out of the implied socket set (observed:
        // -4 lists UDP and raw, with no SCTP complaint) but keeps it for -s
        // (an sctp/snmp file shows under plain -s).
        protocols.tcp = true;
        protocols.udp = true;
        protocols.udplite = true;
        protocols.raw = true;
        protocols.sctp = mode == Mode::Statistics;
    }
    if (any_inet_proto(&protocols) || protocols.groups) && !(families.inet || families.inet6) {
        families.inet = true;
        families.inet6 = true;
    }
    if families.bluetooth && !(protocols.l2cap || protocols.rfcomm) {
        protocols.l2cap = true;
        protocols.rfcomm = true;
    }
    let any_selection = any_inet_proto(&protocols)
        || families.unix
        || families.ipx
        || families.ax25
        || families.netrom
        || protocols.groups
        || families.x25
        || families.rose
        || protocols.l2cap
        || protocols.rfcomm;
    Selection {
        families,
        protocols,
        any_selection,
    }
}

/// Whether any inet socket table is chosen.
pub(super) fn any_inet_proto(p: &Protocols) -> bool {
    p.tcp || p.sctp || p.udp || p.udplite || p.raw
}

#[cfg(test)]
mod tests {
    use crate::cli::tests::config;

    #[test]
    fn combined_short_flags() {
        let c = config(&["netstat", "-tanpe"]);
        assert!(c.protocols.tcp && c.all && c.numeric_hosts && c.programs);
        assert_eq!(c.extend, 2);
        assert!(c.families.inet && c.families.inet6);
        assert!(!c.protocols.udp);
    }

    #[test]
    fn protocol_list_in_order() {
        let c = config(&["netstat", "--protocol=inet6,inet", "-A", "unix"]);
        assert_eq!(c.af_names, vec!["inet6", "inet", "unix"]);
        assert!(c.families.unix && c.protocols.tcp && c.protocols.raw);
        let c = config(&["netstat", "-6", "-4"]);
        assert_eq!(c.af_names, vec!["inet6", "inet"]);
    }

    #[test]
    fn nothing_selected_means_everything() {
        let c = config(&["netstat"]);
        assert!(!c.any_selection);
        assert!(c.wants_inet_section() && c.wants(c.families.unix));
    }
}
