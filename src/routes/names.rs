//! Names for route columns that the host resolver does not give: network
//! names from the networks database (net-tools' getnetbyaddr for
//! destinations that are networks) and interface names by index.
//!
//! The networks database is read once into a map instead of calling
//! getnetbyaddr per route, which rescans /etc/networks on every call.

use crate::text::Text;
use rustc_hash::FxHashMap;
use std::ffi::CStr;

/// glibc's `struct netent`; the libc crate does not bind it.
#[repr(C)]
struct NetEnt {
    n_name: *mut libc::c_char,
    n_aliases: *mut *mut libc::c_char,
    n_addrtype: libc::c_int,
    n_net: u32,
}

unsafe extern "C" {
    fn setnetent(stay_open: libc::c_int);
    fn getnetent() -> *mut NetEnt;
    fn endnetent();
}

/// Network number (host byte order) → name, first entry wins as with
/// getnetbyaddr.
#[derive(Default)]
pub struct NetworkNames {
    names: Option<FxHashMap<u32, Box<str>>>,
}

impl NetworkNames {
    pub fn name(&mut self, network: u32) -> Option<&str> {
        self.names
            .get_or_insert_with(load_networks)
            .get(&network)
            .map(|s| &**s)
    }
}

fn load_networks() -> FxHashMap<u32, Box<str>> {
    let mut names = FxHashMap::default();
    // SAFETY: the netent walk is used from this thread only; every pointer
    // is checked for null and copied out before the next call.
    unsafe {
        setnetent(1);
        loop {
            let entry = getnetent();
            if entry.is_null() {
                break;
            }
            let entry = &*entry;
            if entry.n_addrtype != libc::AF_INET || entry.n_name.is_null() {
                continue;
            }
            let name = CStr::from_ptr(entry.n_name).to_string_lossy();
            names.entry(entry.n_net).or_insert_with(|| name.into());
        }
        endnetent();
    }
    names
}

/// Interface index → name, refreshed every tick (interfaces come, go and
/// get renamed between `-c` ticks).
#[derive(Default)]
pub struct InterfaceNames {
    names: FxHashMap<u32, Text<16>>,
}

impl InterfaceNames {
    pub fn clear(&mut self) {
        self.names.clear();
    }

    /// The name of `index`; an unknown index prints as its number.
    pub fn name(&mut self, index: u32) -> &str {
        self.names
            .entry(index)
            .or_insert_with(|| {
                let mut text = Text::new();
                let mut buffer = [0 as libc::c_char; libc::IF_NAMESIZE];
                // SAFETY: the buffer holds IF_NAMESIZE bytes as required.
                let p = unsafe { libc::if_indextoname(index, buffer.as_mut_ptr()) };
                if p.is_null() {
                    text.push_u64(u64::from(index));
                } else {
                    // SAFETY: if_indextoname succeeded, so the buffer holds
                    // a NUL-terminated name.
                    let name = unsafe { CStr::from_ptr(buffer.as_ptr()) };
                    text.push_bytes(name.to_bytes());
                }
                text
            })
            .as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_index_one_name() {
        let mut names = InterfaceNames::default();
        assert_eq!(names.name(1), "lo");
        assert_eq!(names.name(999_999), "999999");
    }
}
