//! The groups of `--group-by KEYS --info`, compact enough for a view of
//! hundreds of thousands of groups (one per client address) in a few tens
//! of MiB: each group's key is kept as bytes that sort as its tuple does
//! (inline up to an IPv6 address and a port), its health in 32-bit sums
//! ([`NarrowHealth`]) until one outgrows them, and the groups sit in one
//! dense `Vec` indexed by a table of `u32`s (4 bytes per slot, no second
//! copy of keys, no room doubled for values while the table grows).

use super::health::{Health, NarrowHealth, Sample};
use super::keys::{Tuple, decode_tuple};
use hashbrown::HashTable;
use std::borrow::Cow;
use std::hash::BuildHasher;

/// Key bytes kept in the group itself, at most.
const INLINE: usize = 22;

/// The `len` of a key kept in the spill arena; its bytes then hold the
/// span's offset (`u32`) and length (`u16`).
const SPILLED: u8 = u8::MAX;

/// A group's key bytes, inline or a span of [`HealthGroups::spill`].
#[derive(Debug, Clone, Copy)]
struct GroupKey {
    len: u8,
    bytes: [u8; INLINE],
}

impl GroupKey {
    fn new(key: &[u8], spill: &mut Vec<u8>) -> GroupKey {
        let mut bytes = [0u8; INLINE];
        if key.len() <= INLINE {
            bytes[..key.len()].copy_from_slice(key);
            return GroupKey {
                len: key.len() as u8,
                bytes,
            };
        }
        bytes[..4].copy_from_slice(&(spill.len() as u32).to_ne_bytes());
        bytes[4..6].copy_from_slice(&(key.len() as u16).to_ne_bytes());
        spill.extend_from_slice(key);
        GroupKey {
            len: SPILLED,
            bytes,
        }
    }

    fn bytes<'a>(&'a self, spill: &'a [u8]) -> &'a [u8] {
        if self.len != SPILLED {
            return &self.bytes[..usize::from(self.len)];
        }
        let at = u32::from_ne_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]]);
        let len = u16::from_ne_bytes([self.bytes[4], self.bytes[5]]);
        &spill[at as usize..at as usize + usize::from(len)]
    }
}

/// `wide` of a group whose health is still narrow.
const NARROW: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Group {
    key: GroupKey,
    count: u32,
    /// Index of the group's health in [`HealthGroups::wide`], or
    /// [`NARROW`].
    wide: u32,
    narrow: NarrowHealth,
}

/// Counts and health by key tuple (as [`encode_value`] bytes).
///
/// [`encode_value`]: super::keys::encode_value
#[derive(Default)]
pub(crate) struct HealthGroups {
    index: HashTable<u32>,
    groups: Vec<Group>,
    wide: Vec<Health>,
    spill: Vec<u8>,
}

fn hash(key: &[u8]) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(key)
}

impl HealthGroups {
    /// Count one socket in the group of `key`, with its sample if it has
    /// one (inet sockets).
    pub(crate) fn add(&mut self, key: &[u8], sample: Option<&Sample>) {
        let i = self.group_of(key);
        self.groups[i].count = self.groups[i].count.saturating_add(1);
        if let Some(sample) = sample {
            let group = &mut self.groups[i];
            if group.wide == NARROW && group.narrow.try_add(sample) {
                return;
            }
            self.widen(i).add_sample(sample);
        }
    }

    /// The wide health of group `i`, moving it there first if narrow.
    fn widen(&mut self, i: usize) -> &mut Health {
        let group = &mut self.groups[i];
        if group.wide == NARROW {
            group.wide = self.wide.len() as u32;
            self.wide.push(group.narrow.widen());
        }
        &mut self.wide[group.wide as usize]
    }

    /// The index of `key`'s group, made empty if new.
    fn group_of(&mut self, key: &[u8]) -> usize {
        let hashed = hash(key);
        let (groups, spill) = (&self.groups, &self.spill);
        if let Some(&i) = self
            .index
            .find(hashed, |&i| groups[i as usize].key.bytes(spill) == key)
        {
            return i as usize;
        }
        let i = self.groups.len();
        let key = GroupKey::new(key, &mut self.spill);
        self.groups.push(Group {
            key,
            count: 0,
            wide: NARROW,
            narrow: NarrowHealth::default(),
        });
        let (groups, spill) = (&self.groups, &self.spill);
        self.index.insert_unique(hashed, i as u32, |&j| {
            hash(groups[j as usize].key.bytes(spill))
        });
        i
    }

    /// Add `other`'s groups (another namespace's) to these and clear them.
    pub(crate) fn absorb(&mut self, other: &mut HealthGroups) {
        for theirs in &other.groups {
            let i = self.group_of(theirs.key.bytes(&other.spill));
            let mine = &mut self.groups[i];
            mine.count = mine.count.saturating_add(theirs.count);
            if theirs.wide == NARROW && mine.wide == NARROW && mine.narrow.try_merge(&theirs.narrow)
            {
                continue;
            }
            let health = other.health_of(theirs);
            self.widen(i).merge(&health);
        }
        other.clear();
    }

    /// Forget every group, keeping the room for the next tick.
    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.groups.clear();
        self.wide.clear();
        self.spill.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// Group `i`'s key bytes (they sort as its tuple does).
    pub(crate) fn key(&self, i: usize) -> &[u8] {
        self.groups[i].key.bytes(&self.spill)
    }

    pub(crate) fn tuple(&self, i: usize) -> Tuple {
        decode_tuple(self.key(i))
    }

    pub(crate) fn count(&self, i: usize) -> u64 {
        u64::from(self.groups[i].count)
    }

    pub(crate) fn health(&self, i: usize) -> Cow<'_, Health> {
        self.health_of(&self.groups[i])
    }

    fn health_of(&self, group: &Group) -> Cow<'_, Health> {
        match group.wide {
            NARROW => Cow::Owned(group.narrow.widen()),
            wide => Cow::Borrowed(&self.wide[wide as usize]),
        }
    }

    /// The first 8 bytes of group `i`'s key, big-endian (zero-padded): it
    /// orders groups as their keys do, except where it ties.
    pub(crate) fn key_prefix(&self, i: usize) -> u64 {
        let key = self.key(i);
        let mut bytes = [0u8; 8];
        let n = key.len().min(8);
        bytes[..n].copy_from_slice(&key[..n]);
        u64::from_be_bytes(bytes)
    }

    /// Have the CPU fetch group `i` before it is used: rows are written in
    /// sorted order, which jumps through the groups, and waiting for each
    /// one's memory took more than writing it.
    pub(crate) fn prefetch(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(group) = self.groups.get(i) {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let at: *const i8 = (group as *const Group).cast();
            // SAFETY: a prefetch is a hint that neither reads into the
            // program nor faults; both addresses lie within (or just past
            // the start of) one live element of `groups`, and SSE is part
            // of every x86_64 target.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(at);
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(64));
            }
        }
    }

    /// The count of the group of `key`, if there is one.
    pub(crate) fn count_of(&self, key: &[u8]) -> Option<u64> {
        let (groups, spill) = (&self.groups, &self.spill);
        self.index
            .find(hash(key), |&i| groups[i as usize].key.bytes(spill) == key)
            .map(|&i| u64::from(groups[i as usize].count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys::{KeyBytes, Value, encode_value};

    fn key(values: &[Value]) -> KeyBytes {
        let mut bytes = KeyBytes::new();
        for v in values {
            encode_value(*v, &mut bytes);
        }
        bytes
    }

    /// Groups narrow and wide, keys inline and spilled, merged across
    /// namespaces: the counts and columns a plain map of `Health`s gives.
    #[test]
    fn compact_groups_hold_what_a_map_of_healths_holds() {
        use crate::collect::tcp_info::Field;
        use crate::model::{InetSocket, SocketExt, tcp_state};
        use crate::views::health::tests::info_with;
        let (client, server) = ("10.0.0.2".parse().unwrap(), "10.0.0.1".parse().unwrap());
        let socket = InetSocket::tcp(tcp_state::ESTABLISHED, (server, 80), (client, 4000));
        // two alike, one in another rtt bucket, one past 32 bits
        let samples: Vec<Sample> = [
            (50, 10),
            (50, 20),
            (70_000, 1),
            (50, u64::from(u32::MAX) + 1),
        ]
        .into_iter()
        .map(|(rtt, acked)| {
            let info = info_with(&[(Field::RTT, rtt), (Field::BYTES_ACKED, acked)]);
            let ext = SocketExt {
                info: &info,
                ..SocketExt::default()
            };
            Sample::of(&socket, &ext)
        })
        .collect();
        let short = key(&[Value::Addr("10.0.0.2".parse().unwrap())]);
        let long = key(&[
            Value::Addr("fd00::1".parse().unwrap()),
            Value::Addr("fd00::2".parse().unwrap()),
        ]);
        assert!(long.len() > INLINE);
        let (mut groups, mut other) = (HealthGroups::default(), HealthGroups::default());
        let mut expected: Vec<(KeyBytes, u64, Health)> = vec![
            (short.clone(), 0, Health::default()),
            (long.clone(), 0, Health::default()),
        ];
        for (n, sample) in samples.iter().enumerate() {
            for (k, into) in [(&short, &mut groups), (&long, &mut other)] {
                into.add(k, Some(sample));
            }
            for e in &mut expected {
                e.1 += 1;
                e.2.add_sample(sample);
            }
            if n == 0 {
                // a narrow group stays narrow
                assert_eq!(groups.wide.len(), 0);
            }
        }
        other.add(&short, None);
        expected[0].1 += 1;
        groups.absorb(&mut other);
        assert_eq!(other.len(), 0);
        assert_eq!(groups.len(), 2);
        for (k, count, health) in &expected {
            let i = (0..groups.len())
                .find(|&i| groups.key(i) == &k[..])
                .unwrap();
            assert_eq!(groups.count(i), *count);
            assert_eq!(groups.count_of(k), Some(*count));
            assert_eq!(
                groups.health(i).columns().collect::<Vec<_>>(),
                health.columns().collect::<Vec<_>>()
            );
            assert_eq!(groups.tuple(i), decode_tuple(k));
        }
        assert_eq!(groups.count_of(&key(&[Value::Null])), None);
    }
}
