//! IPv6 addresses for the `-e` blocks, from /proc/net/if_inet6 as netstat
//! reads them. An RTM_GETADDR dump carries the same addresses, but lists
//! them in each device's scope-sorted list, while netstat prints them in
//! the file's order: the kernel's address hash table, whose seed is a
//! per-namespace secret. Only the file reveals that order, so it is read
//! once per tick (netstat rereads it for every interface).

use super::rtnl::Name;
use crate::collect::procfs::ProcRoot;
use crate::error::Result;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::net::Ipv6Addr;

#[derive(Debug, Clone, Copy)]
pub struct Inet6Address {
    pub address: Ipv6Addr,
    pub prefix_len: u32,
    /// The kernel's IPV6_ADDR_* scope bits (0x10 host, 0x20 link, ...).
    pub scope: u32,
}

/// Every IPv6 address in file order, grouped by device name.
#[derive(Default)]
pub struct Inet6Table {
    text: Vec<u8>,
    addresses: Vec<Inet6Address>,
    by_name: FxHashMap<Name, SmallVec<[u32; 4]>>,
}

impl Inet6Table {
    /// Reread the file; a missing file (no IPv6) leaves the table empty.
    pub fn refresh(&mut self, root: &ProcRoot) -> Result<()> {
        self.addresses.clear();
        self.by_name.clear();
        if !root.read_into("net/if_inet6", &mut self.text)? {
            return Ok(());
        }
        for line in self.text.split(|&b| b == b'\n') {
            if let Some((name, address)) = parse_line(line) {
                let slot = self.addresses.len() as u32;
                self.addresses.push(address);
                self.by_name.entry(name).or_default().push(slot);
            }
        }
        Ok(())
    }

    /// The addresses of device `name`, in file order.
    pub fn of<'a>(&'a self, name: &Name) -> impl Iterator<Item = &'a Inet6Address> + 'a {
        self.by_name
            .get(name)
            .into_iter()
            .flat_map(|slots| slots.iter())
            .map(|&slot| &self.addresses[slot as usize])
    }
}

fn hex(field: &[u8]) -> Option<u32> {
    if field.is_empty() || field.len() > 8 {
        return None;
    }
    let mut value = 0u32;
    for &b in field {
        value = (value << 4) | (b as char).to_digit(16)?;
    }
    Some(value)
}

/// `fe800000000000000000000000000001 02 40 20 80     eth0`
pub(crate) fn parse_line(line: &[u8]) -> Option<(Name, Inet6Address)> {
    let mut fields = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let raw = fields.next()?;
    if raw.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, pair) in raw.chunks(2).enumerate() {
        octets[i] = hex(pair)? as u8;
    }
    let _index = hex(fields.next()?)?;
    let prefix_len = hex(fields.next()?)?;
    let scope = hex(fields.next()?)?;
    let _flags = hex(fields.next()?)?;
    let name = Name::new(fields.next()?);
    Some((
        name,
        Inet6Address {
            address: Ipv6Addr::from(octets),
            prefix_len,
            scope,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line() {
        let (name, a) =
            parse_line(b"fe800000000000000000000000000001 02 40 20 80     eth0").unwrap();
        assert_eq!(name.as_bytes(), b"eth0");
        assert_eq!(a.address, "fe80::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!((a.prefix_len, a.scope), (64, 0x20));
        assert!(parse_line(b"garbage").is_none());
    }
}
