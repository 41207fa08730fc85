//! Socket inode → owner, for `-p`: an open-addressing table of 12-byte
//! entries (linear probing, Fibonacci hashing), so that a lookup costs one
//! cache line where a general hash map costs two (its control bytes, then
//! its bucket), and with [`InodeMap::prefetch`] a row's line can be asked
//! for a few rows before it is printed. On 440 000 sockets the table is
//! far larger than the caches, and these misses were most of what `-p`
//! added to a listing once the iterator had built the map.

/// One slot: the inode split in halves (4-byte alignment keeps it at 12
/// bytes) and the owner. Inode 0 marks an empty slot; a real inode 0 is
/// kept beside the table.
#[derive(Clone, Copy, Default)]
struct Entry {
    low: u32,
    high: u32,
    owner: u32,
}

impl Entry {
    fn inode(&self) -> u64 {
        (u64::from(self.high) << 32) | u64::from(self.low)
    }
}

#[derive(Clone, Default)]
pub struct InodeMap {
    entries: Vec<Entry>,
    /// 64 minus log2 of the table's size: the hash keeps the top bits.
    shift: u32,
    len: usize,
    zero: Option<u32>,
}

/// The table grows past 3/4 full.
const MAX_LOAD: (usize, usize) = (3, 4);

impl InodeMap {
    pub fn len(&self) -> usize {
        self.len + usize::from(self.zero.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = Entry::default());
        self.len = 0;
        self.zero = None;
    }

    /// Make room for `more` inodes without growing on the way.
    pub fn reserve(&mut self, more: usize) {
        let wanted = (self.len + more) * MAX_LOAD.1 / MAX_LOAD.0 + 1;
        if wanted > self.entries.len() {
            self.grow_to(wanted.next_power_of_two().max(16));
        }
    }

    fn grow_to(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.entries, vec![Entry::default(); size]);
        self.shift = 64 - size.trailing_zeros();
        self.len = 0;
        for entry in old.into_iter().filter(|e| e.inode() != 0) {
            let slot = self.slot_for(entry.inode());
            self.entries[slot] = entry;
            self.len += 1;
        }
    }

    fn home(&self, inode: u64) -> usize {
        (inode.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The slot holding `inode`, or the empty one where it would go.
    fn slot_for(&self, inode: u64) -> usize {
        let mask = self.entries.len() - 1;
        let mut i = self.home(inode);
        loop {
            let found = self.entries[i].inode();
            if found == inode || found == 0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn get(&self, inode: u64) -> Option<u32> {
        if inode == 0 {
            return self.zero;
        }
        if self.entries.is_empty() {
            return None;
        }
        let entry = self.entries[self.slot_for(inode)];
        (entry.inode() == inode).then_some(entry.owner)
    }

    pub fn contains(&self, inode: u64) -> bool {
        self.get(inode).is_some()
    }

    /// Set `inode`'s owner: `owner` when it has none yet, otherwise
    /// `keep(held)` decides whether the one it has stays.
    pub fn insert_unless(&mut self, inode: u64, owner: u32, keep: impl FnOnce(u32) -> bool) {
        if inode == 0 {
            match self.zero {
                Some(held) if keep(held) => {}
                _ => self.zero = Some(owner),
            }
            return;
        }
        self.reserve(1);
        let slot = self.slot_for(inode);
        let entry = &mut self.entries[slot];
        if entry.inode() == inode {
            if !keep(entry.owner) {
                entry.owner = owner;
            }
            return;
        }
        *entry = Entry {
            low: inode as u32,
            high: (inode >> 32) as u32,
            owner,
        };
        self.len += 1;
    }

    /// The first owner given for an inode stays.
    pub fn insert_first(&mut self, inode: u64, owner: u32) {
        self.insert_unless(inode, owner, |_| true);
    }

    /// Every (inode, owner), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.zero.map(|owner| (0, owner)).into_iter().chain(
            self.entries
                .iter()
                .filter(|e| e.inode() != 0)
                .map(|e| (e.inode(), e.owner)),
        )
    }

    /// Ask for the cache line a lookup of `inode` will read first.
    pub fn prefetch(&self, inode: u64) {
        if self.entries.is_empty() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let entry: *const Entry = &self.entries[self.home(inode)];
            // SAFETY: a hint only; the address is inside the table.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    entry.cast::<i8>(),
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;

    #[test]
    fn behaves_as_a_hash_map() {
        let mut map = InodeMap::default();
        let mut reference: FxHashMap<u64, u32> = FxHashMap::default();
        let mut x = 0x1234_5678_9abc_def0u64;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // dense runs, far ones, repeats, 0 and values above 2^32
            let inode = match i % 5 {
                0 => u64::from(i / 5),
                1 => x,
                2 => x % 64,
                3 => (1 << 40) + u64::from(i),
                _ => u64::from(i) * 3,
            };
            let owner = (x >> 40) as u32;
            map.insert_unless(inode, owner, |held| held <= owner);
            reference
                .entry(inode)
                .and_modify(|held| *held = (*held).min(owner))
                .or_insert(owner);
        }
        assert_eq!(map.len(), reference.len());
        for (&inode, &owner) in &reference {
            assert_eq!(map.get(inode), Some(owner), "inode {inode}");
            map.prefetch(inode);
        }
        let mut all: Vec<(u64, u32)> = map.iter().collect();
        let mut expected: Vec<(u64, u32)> = reference.into_iter().collect();
        all.sort_unstable();
        expected.sort_unstable();
        assert_eq!(all, expected);
        assert_eq!(map.get(0xdead_beef_0000), None);
        map.clear();
        assert!(map.is_empty() && map.get(1).is_none() && map.get(0).is_none());
        assert_eq!(InodeMap::default().get(7), None);
    }

    #[test]
    fn the_first_owner_stays() {
        let mut map = InodeMap::default();
        map.insert_first(42, 1);
        map.insert_first(42, 2);
        map.insert_first(0, 3);
        map.insert_first(0, 4);
        assert_eq!((map.get(42), map.get(0), map.len()), (Some(1), Some(3), 2));
    }
}
