//! `-c`'s change column, shared by every view: a key's change since the
//! previous tick, and the keys gone since then (shown once more).

use rustc_hash::{FxHashMap, FxHashSet};

/// The change of a key's count since the previous tick (`-c`; `None` on
/// the first tick).
pub(crate) fn change<K: Eq + std::hash::Hash>(
    previous: Option<&FxHashMap<K, u64>>,
    key: &K,
    now: u64,
) -> Option<i64> {
    previous.map(|p| now as i64 - p.get(key).copied().unwrap_or(0) as i64)
}

/// Keys counted at the previous tick and gone at this one (with `--top`,
/// of those the previous tick showed), with their change: minus their
/// previous count. They are shown once more, with count 0, so a drop to
/// nothing is seen.
pub(crate) fn vanished<'a, K: Eq + std::hash::Hash>(
    previous: Option<&'a FxHashMap<K, u64>>,
    shown: Option<&'a FxHashSet<K>>,
    counted: impl Fn(&K) -> bool + 'a,
) -> impl Iterator<Item = (&'a K, i64)> + 'a {
    previous
        .into_iter()
        .flatten()
        .filter(move |(k, _)| !counted(k) && shown.is_none_or(|s| s.contains(*k)))
        .map(|(k, n)| (k, -(*n as i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanished_keys_come_back_once_with_minus_their_count() {
        let previous: FxHashMap<&str, u64> = [("a", 3), ("b", 2), ("c", 1)].into_iter().collect();
        let now: FxHashMap<&str, u64> = [("a", 4)].into_iter().collect();
        assert_eq!(change(Some(&previous), &"a", 4), Some(1));
        assert_eq!(change(Some(&previous), &"d", 4), Some(4));
        assert_eq!(change(None, &"a", 4), None);
        let mut gone: Vec<(&str, i64)> = vanished(Some(&previous), None, |k| now.contains_key(k))
            .map(|(k, d)| (*k, d))
            .collect();
        gone.sort();
        assert_eq!(gone, [("b", -2), ("c", -1)]);
        // with --top, only what the previous tick showed
        let shown: FxHashSet<&str> = ["a", "b"].into_iter().collect();
        let gone: Vec<(&str, i64)> =
            vanished(Some(&previous), Some(&shown), |k| now.contains_key(k))
                .map(|(k, d)| (*k, d))
                .collect();
        assert_eq!(gone, [("b", -2)]);
        assert_eq!(vanished(None, None, |_: &&str| false).count(), 0);
    }
}
