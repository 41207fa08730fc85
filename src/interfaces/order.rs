//! The order netstat lists interfaces in: net-tools keeps its interface
//! list sorted with a number-aware comparison (`nstrcmp`), inserting each
//! name from /proc/net/dev and then each SIOCGIFCONF address label by a
//! backwards walk from the tail. The walk is reproduced step for step so
//! that any name the comparison orders oddly lands where netstat puts it.

use super::rtnl::Name;

/// net-tools' `nstrcmp` (the 2004 rewrite in lib/nstrcmp.c): a trailing
/// `:N` alias suffix is set aside, names compare by their non-digit
/// prefix (a longer prefix sorts later), then by the value of the
/// trailing digits, then bytewise, then by alias number (none first).
pub fn nstrcmp(a: &[u8], b: &[u8]) -> i32 {
    let (a, a_alias) = cut_alias(a);
    let (b, b_alias) = cut_alias(b);
    let a_index = digits_start(a);
    let b_index = digits_start(b);
    let common = a_index.min(b_index);
    let res = strcmp(&a[..common], &b[..common]);
    if res != 0 {
        return res;
    }
    if a_index != b_index {
        return if a_index > b_index { 1 } else { -1 };
    }
    let (av, bv) = (atoi(&a[a_index..]), atoi(&b[b_index..]));
    if av != bv {
        return if av < bv { -1 } else { 1 };
    }
    let res = strcmp(a, b);
    if res != 0 {
        return res;
    }
    let av = a_alias.map(atoi).unwrap_or(-1);
    let bv = b_alias.map(atoi).unwrap_or(-1);
    if av != bv {
        return if av < bv { -1 } else { 1 };
    }
    match (a_alias, b_alias) {
        (Some(x), Some(y)) => strcmp(x, y),
        _ => 0,
    }
}

/// Split `name:123` into `name` and `123`; anything else has no alias.
fn cut_alias(name: &[u8]) -> (&[u8], Option<&[u8]>) {
    let mut digit = false;
    for pos in (1..=name.len()).rev() {
        let c = name[pos - 1];
        if c == b':' && digit {
            return (&name[..pos - 1], Some(&name[pos..]));
        }
        if !c.is_ascii_digit() {
            break;
        }
        digit = true;
    }
    (name, None)
}

/// Where the trailing run of digits starts (0 when the name is all
/// digits).
fn digits_start(name: &[u8]) -> usize {
    name.iter()
        .rposition(|c| !c.is_ascii_digit())
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// glibc strcmp: the sign of the first differing unsigned byte.
fn strcmp(a: &[u8], b: &[u8]) -> i32 {
    let n = a.len().min(b.len());
    for i in 0..n {
        if a[i] != b[i] {
            return i32::from(a[i]) - i32::from(b[i]);
        }
    }
    a.len() as i32 - b.len() as i32
}

/// glibc atoi: strtol of the leading digits, then cut to int.
fn atoi(s: &[u8]) -> i32 {
    let mut value: i64 = 0;
    for &b in s.iter().take_while(|b| b.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    value as i32
}

/// One line of the table: a name and where its data comes from.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: Name,
    /// Index into the link list of the device whose flags, MTU and
    /// hardware address the kernel reports for this name.
    pub link: Option<usize>,
    /// Named in /proc/net/dev (a device, not an address label): only
    /// those carry counters.
    pub has_stats: bool,
}

/// net-tools' `if_cache_add`: find `name` walking back from the tail, or
/// insert it after the first entry that compares lower. Returns its slot.
pub fn add(entries: &mut Vec<Entry>, name: Name, link: Option<usize>, has_stats: bool) -> usize {
    let mut slot = entries.len();
    while slot > 0 {
        let n = nstrcmp(entries[slot - 1].name.as_bytes(), name.as_bytes());
        if n == 0 {
            return slot - 1;
        }
        if n < 0 {
            break;
        }
        slot -= 1;
    }
    entries.insert(
        slot,
        Entry {
            name,
            link,
            has_stats,
        },
    );
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(names: &[&str]) -> Vec<String> {
        let mut entries = Vec::new();
        for n in names {
            add(&mut entries, Name::new(n.as_bytes()), None, true);
        }
        entries
            .iter()
            .map(|e| String::from_utf8_lossy(e.name.as_bytes()).into_owned())
            .collect()
    }

    #[test]
    fn numbers_sort_by_value() {
        assert_eq!(
            order(&[
                "lo",
                "eth10",
                "eth9",
                "eth",
                "eth1a",
                "eth01",
                "abcdefghijklmno",
                "v0",
                "v0:5"
            ]),
            [
                "abcdefghijklmno",
                "eth",
                "eth01",
                "eth9",
                "eth10",
                "eth1a",
                "lo",
                "v0",
                "v0:5"
            ]
        );
    }

    #[test]
    fn comparison_matches_c() {
        assert!(nstrcmp(b"eth", b"eth0") < 0);
        assert!(nstrcmp(b"eth0", b"eth") > 0);
        assert!(nstrcmp(b"eth2", b"eth10") < 0);
        assert!(nstrcmp(b"eth1a", b"eth10") > 0);
        assert!(nstrcmp(b"eth01", b"eth1") < 0);
        assert!(nstrcmp(b"v0", b"v0:5") < 0);
        assert!(nstrcmp(b"v0:10", b"v0:9") > 0);
        assert_eq!(nstrcmp(b"a", b"a"), 0);
    }

    #[test]
    fn duplicates_are_found() {
        assert_eq!(order(&["v0", "v1", "v0", "v1:7"]), ["v0", "v1", "v1:7"]);
    }
}
