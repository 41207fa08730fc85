//! `--group-by` and `--summary` (and the exporter's socket gauges): socket
//! counts by key tuple, with the previous tick's counts for `-c`.

use super::change::{change, vanished};
use super::health::{self, Health, Sample};
use super::health_groups::HealthGroups;
use super::keys::{
    Key, KeyBytes, Tuple, Value, encode_value, network, pack_tuple, packing, port, unpack,
};
use super::output::{Columns, CountRow, NetnsNames, Shower, Shown, write_count_rows};
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetSocket, SocketExt, UnixSocket};
use crate::render::json::{JsonLine, proto_name};
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::{self, Write};

/// Counts by key tuple, kept across `-c` ticks for the deltas.
pub(crate) struct GroupCounts {
    /// The keys of the tuples counted, kept once rather than made for
    /// each socket.
    key_list: Vec<Key>,
    /// When every key packs into one `u64` (no addresses, no namespace):
    /// the keys' widths in bits, and the counts by packed key. Hashing a
    /// `u64` is one multiply and an entry is 16 bytes, so a tick with
    /// hundreds of thousands of distinct keys stays in cache; tuples are
    /// unpacked at the end of the tick, once per key.
    packing: Option<Vec<(Key, u32)>>,
    packed: FxHashMap<u64, u64>,
    /// Keys of 32 bits or fewer (`state,local_port`) are counted here
    /// while sockets come, in half the room (8-byte entries), then moved
    /// to `packed` once per key.
    packed32: Option<FxHashMap<u32, u32>>,
    /// The packed counts of the previous tick, and with `--top` the
    /// packed keys it showed (`-c`).
    previous_packed: Option<FxHashMap<u64, u64>>,
    previous_shown_packed: Option<FxHashSet<u64>>,
    counts: FxHashMap<Tuple, u64>,
    /// With `--info`: each tuple's count and health, kept instead of
    /// `counts`, compactly (a view may have a group per client).
    health: Option<HealthGroups>,
    /// With `--info`, the previous tick's groups (`-c`).
    previous_health: Option<HealthGroups>,
    /// `--sort`: the column rows are ordered by (descending) instead of
    /// the count.
    sort: Option<String>,
    /// Rendered rows of the previous tick (views that merge tuples which
    /// render alike), for `-c`'s change column.
    previous: Option<FxHashMap<Vec<Shown>, u64>>,
    /// Counted tuples of the previous tick (views whose keys print as
    /// counted), for `-c`'s change column.
    previous_tuples: Option<FxHashMap<Tuple, u64>>,
    /// With `--top`, the keys the previous tick showed: only those are
    /// shown once more when they vanish.
    previous_shown: Option<FxHashSet<Vec<Shown>>>,
    previous_shown_tuples: Option<FxHashSet<Tuple>>,
    /// The namespace whose sockets are counted now (the `netns` key).
    netns: u64,
    netns_names: NetnsNames,
}

/// A merged row: the key as shown, its count, its change (`-c`) and its
/// health (`--info`).
type MergedRow = (Vec<Shown>, u64, Option<i64>, Option<Health>);

impl GroupCounts {
    /// Counts by `key_list`; with `health`, each group's health too.
    pub(crate) fn new(key_list: Vec<Key>, health: bool, sort: Option<String>) -> Self {
        let packing = packing(&key_list).filter(|_| !health);
        let packed32 = packing
            .as_ref()
            .filter(|p| p.iter().map(|(_, w)| w + 2).sum::<u32>() <= 32)
            .map(|_| FxHashMap::default());
        GroupCounts {
            key_list,
            packing,
            packed: FxHashMap::default(),
            packed32,
            previous_packed: None,
            previous_shown_packed: None,
            counts: FxHashMap::default(),
            health: health.then(HealthGroups::default),
            previous_health: None,
            sort,
            previous: None,
            previous_tuples: None,
            previous_shown: None,
            previous_shown_tuples: None,
            netns: 0,
            netns_names: NetnsNames::default(),
        }
    }

    /// Count the sockets that follow as those of namespace `inode`, named
    /// `label` in text and `key` in JSON.
    pub(crate) fn set_namespace(&mut self, inode: u64, label: &str, key: &str) {
        self.netns = inode;
        // every tick names its namespace again: no allocation once known
        self.netns_names
            .entry(inode)
            .or_insert_with(|| (label.to_string(), key.to_string()));
    }

    /// Add `other`'s counts (another namespace's) to these and clear them.
    pub(crate) fn absorb(&mut self, other: &mut GroupCounts) {
        other.widen_packed();
        if self.packing.is_some() && self.packing == other.packing {
            for (packed, n) in other.packed.drain() {
                *self.packed.entry(packed).or_insert(0) += n;
            }
        }
        other.unpack_counts();
        for (tuple, n) in other.counts.drain() {
            *self.counts.entry(tuple).or_insert(0) += n;
        }
        if let (Some(mine), Some(theirs)) = (&mut self.health, &mut other.health) {
            mine.absorb(theirs);
        }
        for (inode, names) in other.netns_names.drain() {
            self.netns_names.insert(inode, names);
        }
    }

    /// Move the 32-bit counts into `packed`.
    fn widen_packed(&mut self) {
        if let Some(narrow) = &mut self.packed32 {
            self.packed.reserve(narrow.len());
            for (packed, n) in narrow.drain() {
                *self.packed.entry(u64::from(packed)).or_insert(0) += u64::from(n);
            }
        }
    }

    /// Move the packed counts into `counts`, as tuples.
    fn unpack_counts(&mut self) {
        self.widen_packed();
        let Some(packing) = &self.packing else {
            return;
        };
        self.counts.reserve(self.packed.len());
        for (packed, n) in self.packed.drain() {
            *self.counts.entry(unpack(packing, packed)).or_insert(0) += n;
        }
    }

    /// Count one socket under the tuple `value` gives for each key (and
    /// with `--info`, add its health: an inet socket's, with its
    /// extensions).
    fn count(&mut self, value: impl Fn(&Key) -> Value, inet: Option<(&InetSocket, SocketExt)>) {
        if let Some(groups) = &mut self.health {
            let mut key = KeyBytes::new();
            for k in &self.key_list {
                encode_value(value(k), &mut key);
            }
            let sample = inet.map(|(socket, ext)| Sample::of(socket, &ext));
            groups.add(&key, sample.as_ref());
            return;
        }
        if let Some(packing) = &self.packing {
            let packed = pack_tuple(packing, value);
            match &mut self.packed32 {
                Some(narrow) => *narrow.entry(packed as u32).or_insert(0) += 1,
                None => *self.packed.entry(packed).or_insert(0) += 1,
            }
            return;
        }
        let tuple: Tuple = self.key_list.iter().map(value).collect();
        *self.counts.entry(tuple).or_insert(0) += 1;
    }

    pub(crate) fn add_inet(
        &mut self,
        socket: &InetSocket,
        ext: SocketExt,
        programs: Option<&ProcessIndex>,
    ) {
        let owner = programs
            .and_then(|p| p.owner(socket.inode))
            .map(|(pid, _)| pid);
        let netns = self.netns;
        let value = |key: &Key| match key {
            Key::Proto => Value::Str(proto_name(socket.proto)),
            Key::Family => Value::Str(if socket.is_v6() { "inet6" } else { "inet" }),
            Key::State => Value::InetState(socket.proto, socket.state),
            Key::LocalAddr => Value::Addr(socket.local),
            Key::LocalPort => port(socket.local_port),
            Key::RemoteAddr => Value::Addr(socket.remote),
            Key::RemotePort => port(socket.remote_port),
            Key::RemoteNet(len) => network(socket.remote, *len),
            Key::Uid => Value::Number(u64::from(socket.uid)),
            Key::User => Value::User(socket.uid),
            Key::Pid => owner.map_or(Value::Null, |p| Value::Number(u64::from(p))),
            Key::Program => owner.map_or(Value::Null, Value::Program),
            Key::Netns => Value::Netns(netns),
        };
        self.count(value, Some((socket, ext)));
    }

    pub(crate) fn add_unix(&mut self, socket: &UnixSocket<'_>, programs: Option<&ProcessIndex>) {
        let owner = programs
            .and_then(|p| p.owner(socket.inode))
            .map(|(pid, _)| pid);
        let state = socket.state_word();
        let netns = self.netns;
        let value = |key: &Key| match key {
            Key::Proto => Value::Str("unix"),
            Key::Family => Value::Str("unix"),
            Key::State if state.is_empty() => Value::Null,
            Key::State => Value::Str(state),
            Key::Pid => owner.map_or(Value::Null, |p| Value::Number(u64::from(p))),
            Key::Program => owner.map_or(Value::Null, Value::Program),
            Key::Netns => Value::Netns(netns),
            _ => Value::Null,
        };
        self.count(value, None);
    }

    /// Start counting afresh (the previous tick's counts stay for `-c`).
    pub(crate) fn clear(&mut self) {
        self.counts.clear();
        self.packed.clear();
        if let Some(groups) = &mut self.health {
            groups.clear();
        }
        if let Some(narrow) = &mut self.packed32 {
            narrow.clear();
        }
    }

    /// Every counted tuple with its count, keys shown without names
    /// (numbers and addresses as they are), sorted by key: the exporter's
    /// socket gauges.
    pub(crate) fn unnamed_rows(&mut self) -> Vec<(Vec<Shown>, u64)> {
        self.unpack_counts();
        let mut names = NameCache::new();
        let mut shower = Shower::unnamed(&mut names, self.netns_names.clone(), &self.key_list);
        let mut rows: Vec<(Vec<Shown>, u64)> = self
            .counts
            .iter()
            .map(|(tuple, n)| (shower.show(tuple), *n))
            .collect();
        rows.sort();
        rows
    }

    /// Print this tick's counts (`--summary` when `summary`: grouped by
    /// protocol and family), with `--top` rows at most.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write(
        &mut self,
        out: &mut dyn Write,
        config: &Config,
        json: &JsonLine,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
        top: Option<usize>,
        summary: bool,
    ) -> io::Result<()> {
        let mut shower = Shower::new(
            config,
            names,
            programs,
            self.netns_names.clone(),
            &self.key_list,
        );
        if shower.names_hosts() {
            // every distinct address at once, with netstat's bounded wait
            let with_health = self
                .health
                .iter()
                .flat_map(|groups| (0..groups.len()).map(|i| groups.tuple(i)));
            let counted = self.counts.keys().cloned();
            shower.resolve_hosts(counted.chain(with_health).flat_map(|t| {
                t.into_iter().filter_map(|v| match v {
                    Value::Addr(a) => Some(a),
                    _ => None,
                })
            }));
        }
        let table = Table {
            config,
            json,
            kind: if summary { "summary" } else { "count" },
            top,
            summary,
        };
        // Tuples that render alike (two processes of one program, two uids
        // without a name) are merged; other tuples are printed as counted,
        // without rendering them all into memory first.
        // (and so are rows ordered by another column than the count)
        let merges = self
            .key_list
            .iter()
            .any(|k| matches!(k, Key::Program | Key::User));
        if self.health.is_some() && !merges {
            return self.write_health(out, &table, shower);
        }
        if merges || self.sort.as_deref().is_some_and(|s| s != "count") {
            return self.write_merged(out, &table, shower);
        }
        self.widen_packed();
        if let Some(packing) = self.packing.take() {
            let written = self.write_packed(out, &table, shower, &packing);
            self.packing = Some(packing);
            return written;
        }
        self.write_tuples(out, &table, shower)
    }

    /// Rows of groups with their health, as counted (no two tuples show
    /// alike), ordered by `--sort`'s column (else the count), then by
    /// key: each row is shown as it is written, so a view with many groups
    /// keeps no second copy of them.
    fn write_health(
        &mut self,
        out: &mut dyn Write,
        table: &Table<'_>,
        mut shower: Shower<'_>,
    ) -> io::Result<()> {
        let Some(groups) = &self.health else {
            return Ok(());
        };
        let previous = self.previous_health.take();
        let shown_before = self.previous_shown_tuples.take();
        let rows = health_rows(
            groups,
            previous.as_ref(),
            shown_before.as_ref(),
            self.sort.as_deref().unwrap_or("count"),
            table.top,
        );
        let live = rows.partition_point(|r| (r.index as usize) < groups.len());
        let written = {
            let keys = shower.keys.clone();
            let mut row = |i: usize, r: &mut CountRow| {
                if let Some(ahead) = rows.get(i + 8) {
                    groups.prefetch(ahead.index as usize);
                }
                let at = rows[i].index as usize;
                r.health.clear();
                match previous.as_ref().filter(|_| at >= groups.len()) {
                    Some(gone) => {
                        let j = at - groups.len();
                        shower.show_into(&gone.tuple(j), &mut r.key);
                        (r.count, r.delta) = (0, Some(-(gone.count(j) as i64)));
                        // a group gone since the previous tick has no sockets
                        r.health.extend(Health::default().columns());
                    }
                    None => {
                        shower.show_into(&groups.tuple(at), &mut r.key);
                        r.count = groups.count(at);
                        r.delta = health_delta(groups, previous.as_ref(), at);
                        r.health.extend(groups.health(at).columns());
                    }
                }
            };
            table.write(out, &keys, true, &mut row, rows.len())
        };
        if table.config.continuous {
            let shown_now: Option<FxHashSet<Tuple>> = table.top.map(|_| {
                rows[..live]
                    .iter()
                    .map(|r| groups.tuple(r.index as usize))
                    .collect()
            });
            // this tick's groups become the next tick's previous ones (the
            // previous ones' room is reused)
            let mut room = previous.unwrap_or_default();
            room.clear();
            self.previous_health = self.health.replace(room);
            self.previous_shown_tuples = shown_now;
        }
        written
    }

    /// Rows of tuples merged by how they are shown, with their health,
    /// ordered by `--sort`'s column (else the count), then by key.
    fn write_merged(
        &mut self,
        out: &mut dyn Write,
        table: &Table<'_>,
        mut shower: Shower<'_>,
    ) -> io::Result<()> {
        let merged = self.merged(&mut shower);
        let previous = self.previous.take();
        let shown_before = self.previous_shown.take();
        let mut rows: Vec<MergedRow> = merged
            .iter()
            .map(|(key, (n, health))| {
                let delta = change(previous.as_ref(), key, *n);
                (key.clone(), *n, delta, health.clone())
            })
            .collect();
        let sort = self.sort.as_deref().unwrap_or("count");
        rows.sort_by(|a, b| {
            by_column(
                sort,
                (&a.0, a.1, a.2, a.3.as_ref()),
                (&b.0, b.1, b.2, b.3.as_ref()),
            )
        });
        if let Some(n) = table.top {
            rows.truncate(n);
        }
        let live = rows.len();
        rows.extend(
            vanished(previous.as_ref(), shown_before.as_ref(), |k| {
                merged.contains_key(k)
            })
            .map(|(key, delta)| (key.clone(), 0, Some(delta), None)),
        );
        rows[live..].sort_by(|a, b| a.0.cmp(&b.0));
        if table.config.continuous {
            self.previous_shown = table
                .top
                .map(|_| rows[..live].iter().map(|r| r.0.clone()).collect());
            self.previous = Some(merged.into_iter().map(|(k, (n, _))| (k, n)).collect());
        }
        let with_health = self.health.is_some();
        let mut row = |i: usize, r: &mut CountRow| {
            let (key, count, delta, health) = &rows[i];
            r.key.clone_from(key);
            (r.count, r.delta) = (*count, *delta);
            r.health.clear();
            match (with_health, health) {
                (false, _) => {}
                (true, Some(h)) => r.health.extend(h.columns()),
                // a group gone since the previous tick has no sockets
                (true, None) => r.health.extend(Health::default().columns()),
            }
        };
        table.write(out, &shower.keys, with_health, &mut row, rows.len())
    }

    /// This tick's groups by how they are shown: counts, and with
    /// `--info` health, of the tuples that show alike added up.
    fn merged(&mut self, shower: &mut Shower<'_>) -> FxHashMap<Vec<Shown>, (u64, Option<Health>)> {
        let mut merged: FxHashMap<Vec<Shown>, (u64, Option<Health>)> = FxHashMap::default();
        if let Some(groups) = &self.health {
            for i in 0..groups.len() {
                let entry = merged.entry(shower.show(&groups.tuple(i))).or_default();
                entry.0 += groups.count(i);
                entry
                    .1
                    .get_or_insert_with(Health::default)
                    .merge(&groups.health(i));
            }
            return merged;
        }
        self.unpack_counts();
        for (tuple, count) in &self.counts {
            merged.entry(shower.show(tuple)).or_default().0 += count;
        }
        merged
    }

    /// Rows of packed keys (they sort as their tuples do).
    fn write_packed(
        &mut self,
        out: &mut dyn Write,
        table: &Table<'_>,
        mut shower: Shower<'_>,
        packing: &[(Key, u32)],
    ) -> io::Result<()> {
        // the summary's proto and family are all but its last key (the state)
        let state_bits = packing.last().map_or(0, |(_, w)| w + 2);
        let summary = table.summary;
        let previous = self.previous_packed.take();
        let (written, shown_now) = write_counted(
            out,
            table,
            &mut shower,
            (&self.packed, previous.as_ref()),
            self.previous_shown_packed.take().as_ref(),
            |a: &u64, b: &u64| {
                if summary {
                    (a >> state_bits).cmp(&(b >> state_bits))
                } else {
                    std::cmp::Ordering::Equal
                }
            },
            |shower, packed, key| shower.show_into(&unpack(packing, *packed), key),
        );
        if table.config.continuous {
            // this tick's counts become the next tick's previous ones
            // (the previous ones' room is reused)
            let mut room = previous.unwrap_or_default();
            room.clear();
            self.previous_packed = Some(std::mem::replace(&mut self.packed, room));
            self.previous_shown_packed = shown_now;
        }
        written
    }

    /// Rows of tuples as counted.
    fn write_tuples(
        &mut self,
        out: &mut dyn Write,
        table: &Table<'_>,
        mut shower: Shower<'_>,
    ) -> io::Result<()> {
        let summary = table.summary;
        let previous = self.previous_tuples.take();
        let (written, shown_now) = write_counted(
            out,
            table,
            &mut shower,
            (&self.counts, previous.as_ref()),
            self.previous_shown_tuples.take().as_ref(),
            |a: &Tuple, b: &Tuple| {
                if summary {
                    a[..2].cmp(&b[..2])
                } else {
                    std::cmp::Ordering::Equal
                }
            },
            |shower, tuple, key| shower.show_into(tuple, key),
        );
        if table.config.continuous {
            // this tick's counts become the next tick's previous ones
            self.previous_tuples = Some(std::mem::take(&mut self.counts));
            self.previous_shown_tuples = shown_now;
        }
        written
    }
}

/// Write a tick's counted keys ([`counted_rows`] of `counts` against the
/// previous tick's), each shown by `show_key`; with `--top`
/// under `-c`, also the keys shown (the next tick's `shown_before`).
#[allow(clippy::type_complexity)]
fn write_counted<K: Eq + std::hash::Hash + Ord + Clone>(
    out: &mut dyn Write,
    table: &Table<'_>,
    shower: &mut Shower<'_>,
    (counts, previous): (&FxHashMap<K, u64>, Option<&FxHashMap<K, u64>>),
    shown_before: Option<&FxHashSet<K>>,
    group: impl Fn(&K, &K) -> std::cmp::Ordering,
    show_key: impl Fn(&mut Shower<'_>, &K, &mut Vec<Shown>),
) -> (io::Result<()>, Option<FxHashSet<K>>) {
    let rows = counted_rows(counts, previous, shown_before, table.top, group);
    let shown_now = (table.top.is_some() && table.config.continuous).then(|| {
        rows.iter()
            .filter(|r| r.1 > 0)
            .map(|r| r.0.clone())
            .collect()
    });
    let keys = shower.keys.clone();
    let mut row = |i: usize, r: &mut CountRow| {
        show_key(shower, rows[i].0, &mut r.key);
        (r.count, r.delta) = (rows[i].1, rows[i].2);
    };
    (
        table.write(out, &keys, false, &mut row, rows.len()),
        shown_now,
    )
}

/// What one tick's table is: its kind of row, `--top`, and whether rows
/// are grouped by protocol and family (`--summary`).
struct Table<'a> {
    config: &'a Config,
    /// The tick's (labelled) JSON line.
    json: &'a JsonLine,
    kind: &'static str,
    top: Option<usize>,
    summary: bool,
}

impl Table<'_> {
    fn write(
        &self,
        out: &mut dyn Write,
        keys: &[Key],
        with_health: bool,
        row: &mut dyn FnMut(usize, &mut CountRow),
        count: usize,
    ) -> io::Result<()> {
        let names_of: Vec<String> = keys.iter().map(|k| k.name()).collect();
        let health: Vec<&str> = if with_health {
            health::column_names().collect()
        } else {
            Vec::new()
        };
        let columns = Columns {
            kind: self.kind,
            keys: &names_of,
            health: &health,
        };
        write_count_rows(out, self.config, self.json, &columns, row, count)
    }
}

/// A row's value in `--sort`'s column (`count`, `delta` or a health
/// column); a value nobody told sorts last.
fn sort_value(
    column: &str,
    count: u64,
    delta: Option<i64>,
    health: Option<&Health>,
) -> Option<i128> {
    match column {
        "count" => Some(i128::from(count)),
        "delta" => delta.map(i128::from),
        name => health?.column(name).map(i128::from),
    }
}

/// `-c`'s change of group `i`.
fn health_delta(groups: &HealthGroups, previous: Option<&HealthGroups>, i: usize) -> Option<i64> {
    previous.map(|p| groups.count(i) as i64 - p.count_of(groups.key(i)).unwrap_or(0) as i64)
}

/// A row of groups with health: what orders it, and the group.
struct HealthRow {
    /// [`rank`] of `--sort`'s column.
    rank: u64,
    /// The key's first bytes ([`HealthGroups::key_prefix`]).
    prefix: u64,
    /// The group's count (a group counts at most `u32::MAX` sockets).
    count: u32,
    /// The group's index, or past this tick's groups, the index of one
    /// of the previous tick's gone since.
    index: u32,
}

/// A tick's rows of groups with health: by `sort`'s column, then count
/// (descending), then key; `--top` keeps the first; then the groups of the
/// previous tick gone since (with `--top`, of those it showed), by key.
/// What orders a row is in it, so sorting seldom reads a group.
fn health_rows(
    groups: &HealthGroups,
    previous: Option<&HealthGroups>,
    shown_before: Option<&FxHashSet<Tuple>>,
    sort: &str,
    top: Option<usize>,
) -> Vec<HealthRow> {
    let by_health = !matches!(sort, "count" | "delta");
    let mut rows: Vec<HealthRow> = (0..groups.len())
        .map(|i| {
            let health = by_health.then(|| groups.health(i));
            let delta = health_delta(groups, previous, i);
            let count = groups.count(i);
            HealthRow {
                rank: rank(sort_value(sort, count, delta, health.as_deref())),
                prefix: groups.key_prefix(i),
                count: u32::try_from(count).unwrap_or(u32::MAX),
                index: i as u32,
            }
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        (b.rank, b.count, a.prefix)
            .cmp(&(a.rank, a.count, b.prefix))
            .then_with(|| {
                groups
                    .key(a.index as usize)
                    .cmp(groups.key(b.index as usize))
            })
    });
    if let Some(n) = top {
        rows.truncate(n);
    }
    if let Some(p) = previous {
        let mut gone: Vec<u32> = (0..p.len())
            .filter(|&j| groups.count_of(p.key(j)).is_none())
            .filter(|&j| shown_before.is_none_or(|s| s.contains(&p.tuple(j))))
            .map(|j| j as u32)
            .collect();
        gone.sort_unstable_by(|a, b| p.key(*a as usize).cmp(p.key(*b as usize)));
        rows.extend(gone.into_iter().map(|j| HealthRow {
            rank: 0,
            prefix: 0,
            count: 0,
            index: groups.len() as u32 + j,
        }));
    }
    rows
}

/// A [`sort_value`] as a `u64` that orders alike (none lowest; values
/// beyond a `u64`'s reach, which no count or sum has, are clamped).
fn rank(value: Option<i128>) -> u64 {
    value.map_or(0, |v| {
        (v + (1i128 << 63) + 1).clamp(1, i128::from(u64::MAX)) as u64
    })
}

/// The order of `--sort`'s column, largest first, then count, then key.
fn by_column<K: Ord>(
    column: &str,
    a: (&K, u64, Option<i64>, Option<&Health>),
    b: (&K, u64, Option<i64>, Option<&Health>),
) -> std::cmp::Ordering {
    sort_value(column, b.1, b.2, b.3)
        .cmp(&sort_value(column, a.1, a.2, a.3))
        .then(b.1.cmp(&a.1))
        .then_with(|| a.0.cmp(b.0))
}

/// A tick's rows of counted keys (tuples, or packed tuples, which sort
/// alike): by `group`, then count (descending), then key; `--top` keeps
/// the first rows; then the keys gone since the previous tick, with
/// count 0 (see [`vanished`]). Each with its change (`-c`).
fn counted_rows<'a, K: Eq + std::hash::Hash + Ord>(
    counts: &'a FxHashMap<K, u64>,
    previous: Option<&'a FxHashMap<K, u64>>,
    shown_before: Option<&'a FxHashSet<K>>,
    top: Option<usize>,
    group: impl Fn(&K, &K) -> std::cmp::Ordering,
) -> Vec<(&'a K, u64, Option<i64>)> {
    let order = |a: &(&K, u64, Option<i64>), b: &(&K, u64, Option<i64>)| {
        group(a.0, b.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(b.0))
    };
    let mut rows: Vec<(&K, u64, Option<i64>)> = Vec::with_capacity(counts.len());
    rows.extend(counts.iter().map(|(k, n)| (k, *n, change(previous, k, *n))));
    rows.sort_unstable_by(order);
    if let Some(n) = top {
        rows.truncate(n);
    }
    let live = rows.len();
    rows.extend(
        vanished(previous, shown_before, |k| counts.contains_key(k)).map(|(k, d)| (k, 0, Some(d))),
    );
    if rows.len() > live {
        // by group, count 0 sorts last within each; without groups, last
        rows.sort_by(order);
    }
    rows
}
