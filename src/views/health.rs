//! Socket health per group (`--info` with `--group-by`, `--listeners` and
//! the exporter): round-trip time percentiles, sums of tcp_info's
//! counters and of the queues, and how many sockets are held back by the
//! peer's window, the send buffer or the congestion window.
//!
//! Memory grows with groups, never with sockets: each group keeps a fixed
//! set of sums and a sketch of its round-trip times whose size is bounded
//! by the number of its buckets (at most [`RttSketch::BUCKETS`]).

use crate::collect::tcp_info::{Field, SkMemInfo, TcpInfo, skmem};
use crate::model::{InetSocket, SocketExt, tcp_state};

/// The sums kept per group: their column names and where each comes from.
pub(crate) const SUMS: [(&str, Source); 11] = [
    ("retrans", Source::Info(Field::RETRANS)),
    ("total_retrans", Source::Info(Field::TOTAL_RETRANS)),
    ("lost", Source::Info(Field::LOST)),
    ("bytes_sent", Source::Info(Field::BYTES_SENT)),
    ("bytes_acked", Source::Info(Field::BYTES_ACKED)),
    ("bytes_received", Source::Info(Field::BYTES_RECEIVED)),
    ("bytes_retrans", Source::Info(Field::BYTES_RETRANS)),
    ("notsent_bytes", Source::Info(Field::NOTSENT_BYTES)),
    ("recv_q", Source::RecvQ),
    ("send_q", Source::SendQ),
    ("drops", Source::SkMem(skmem::DROPS)),
];

/// The counts of limited sockets, in column order (see [`limits`]).
pub(crate) const LIMITED: [&str; 3] = ["limited_rwnd", "limited_sndbuf", "limited_cwnd"];

/// The round-trip time columns, in microseconds.
pub(crate) const RTT_COLUMNS: [&str; 5] =
    ["rtt_sockets", "rtt_p50", "rtt_p90", "rtt_p99", "rtt_max"];

/// The quantiles of `rtt_p50`, `rtt_p90` and `rtt_p99`, in per mille.
const QUANTILES: [u32; 3] = [500, 900, 990];

/// The upper bounds of the exporter's round-trip time histogram
/// (`nlstat_tcp_rtt_seconds`), in microseconds; a last bucket holds
/// the rest (`+Inf`).
pub(crate) const RTT_BOUNDS_US: [u32; 15] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000,
];

/// Where a sum's addend comes from.
#[derive(Clone, Copy)]
pub(crate) enum Source {
    Info(Field),
    SkMem(usize),
    RecvQ,
    SendQ,
}

/// Every numeric column health adds, in order: the rtt columns, the sums,
/// the limited counts.
pub(crate) fn column_names() -> impl Iterator<Item = &'static str> {
    RTT_COLUMNS
        .into_iter()
        .chain(SUMS.iter().map(|(name, _)| *name))
        .chain(LIMITED)
}

/// One group's health.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Health {
    rtt: RttSketch,
    rtt_max: u32,
    /// Which sums had at least one socket reporting their field.
    present: u16,
    limited: [u32; LIMITED.len()],
    sums: [u64; SUMS.len()],
    /// The exporter's histogram (boxed: a view with many groups does not
    /// carry it).
    histogram: Option<Box<RttHistogram>>,
}

/// The sampled round-trip times per [`RTT_BOUNDS_US`] bucket (not
/// cumulative; the last one is above every bound), and their sum in
/// microseconds (the histogram's `_sum`).
#[derive(Debug, Clone, Default, PartialEq)]
struct RttHistogram {
    buckets: [u32; RTT_BOUNDS_US.len() + 1],
    sum: u64,
}

impl Health {
    /// A health that also keeps the exporter's histogram
    /// ([`rtt_histogram`](Self::rtt_histogram)).
    pub(crate) fn with_histogram() -> Self {
        Health {
            histogram: Some(Box::default()),
            ..Health::default()
        }
    }

    /// Add one socket (its queues, and what its extensions tell).
    pub(crate) fn add(&mut self, socket: &InetSocket, ext: &SocketExt<'_>) {
        self.add_sample(&Sample::of(socket, ext));
    }

    /// Add one socket's sample.
    pub(crate) fn add_sample(&mut self, sample: &Sample) {
        for (i, (sum, value)) in self.sums.iter_mut().zip(sample.sums).enumerate() {
            if sample.present & (1 << i) != 0 {
                *sum = sum.wrapping_add(value);
            }
        }
        self.present |= sample.present;
        if let Some(rtt) = sample.rtt {
            self.add_rtt(rtt);
        }
        for (count, limited) in self.limited.iter_mut().zip(sample.limited) {
            *count += u32::from(limited);
        }
    }

    fn add_rtt(&mut self, rtt: u32) {
        self.rtt.add(rtt);
        self.rtt_max = self.rtt_max.max(rtt);
        if let Some(histogram) = &mut self.histogram {
            histogram.sum += u64::from(rtt);
            let bucket = RTT_BOUNDS_US.partition_point(|&bound| bound < rtt);
            histogram.buckets[bucket] += 1;
        }
    }

    /// Add `other`'s sockets to these.
    pub(crate) fn merge(&mut self, other: &Health) {
        self.rtt.merge(&other.rtt);
        self.rtt_max = self.rtt_max.max(other.rtt_max);
        if let Some(theirs) = &other.histogram {
            let mine = self.histogram.get_or_insert_with(Box::default);
            mine.sum += theirs.sum;
            for (mine, theirs) in mine.buckets.iter_mut().zip(&theirs.buckets) {
                *mine += theirs;
            }
        }
        for (mine, theirs) in self.sums.iter_mut().zip(&other.sums) {
            *mine = mine.wrapping_add(*theirs);
        }
        self.present |= other.present;
        for (mine, theirs) in self.limited.iter_mut().zip(&other.limited) {
            *mine += theirs;
        }
    }

    /// The value of each of [`column_names`], in order; `None` where no
    /// socket told (no rtt sample, no socket reporting a field).
    pub(crate) fn columns(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        let sampled = self.rtt.count();
        let rtt = std::iter::once(Some(sampled))
            // an estimate never above the exact maximum (a bucket's
            // representative may be)
            .chain(QUANTILES.map(|q| self.rtt.quantile(q).map(|v| u64::from(v.min(self.rtt_max)))))
            .chain(std::iter::once(
                (sampled > 0).then_some(u64::from(self.rtt_max)),
            ));
        let sums = self
            .sums
            .iter()
            .enumerate()
            .map(|(i, sum)| (self.present & (1 << i) != 0).then_some(*sum));
        rtt.chain(sums)
            .chain(self.limited.iter().map(|n| Some(u64::from(*n))))
    }

    /// The value of column `name` (one of [`column_names`]).
    pub(crate) fn column(&self, name: &str) -> Option<u64> {
        column_names()
            .position(|n| n == name)
            .and_then(|i| self.columns().nth(i).flatten())
    }

    /// The sampled round-trip times: per [`RTT_BOUNDS_US`] bucket (the
    /// last above them all), their count and their sum in microseconds.
    /// (Empty without [`with_histogram`](Self::with_histogram).)
    pub(crate) fn rtt_histogram(&self) -> (&[u32], u64, u64) {
        match &self.histogram {
            Some(h) => (&h.buckets, self.rtt.count(), h.sum),
            None => (&[], 0, 0),
        }
    }

    /// The sum named `name` (one of [`SUMS`]), if any socket reported it.
    pub(crate) fn sum(&self, name: &str) -> Option<u64> {
        let i = SUMS.iter().position(|(n, _)| *n == name)?;
        (self.present & (1 << i) != 0).then_some(self.sums[i])
    }

    /// The count of limited sockets named `name` (one of [`LIMITED`]).
    pub(crate) fn limited(&self, name: &str) -> Option<u64> {
        let i = LIMITED.iter().position(|n| *n == name)?;
        Some(u64::from(self.limited[i]))
    }
}

/// What one socket adds to its group's health, read once from its row
/// and extensions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    sums: [u64; SUMS.len()],
    /// Which of `sums` the socket reported.
    present: u16,
    rtt: Option<u32>,
    limited: [bool; LIMITED.len()],
}

impl Sample {
    pub(crate) fn of(socket: &InetSocket, ext: &SocketExt<'_>) -> Sample {
        let info = TcpInfo::new(ext.info);
        let memory = SkMemInfo::new(ext.skmem);
        let mut sample = Sample::default();
        for (i, (_, source)) in SUMS.iter().enumerate() {
            let value = match *source {
                Source::Info(field) => info.get(field),
                Source::SkMem(index) => memory.get(index).map(u64::from),
                Source::RecvQ => Some(u64::from(socket.recv_q)),
                Source::SendQ => Some(u64::from(socket.send_q)),
            };
            if let Some(value) = value {
                sample.sums[i] = value;
                sample.present |= 1 << i;
            }
        }
        if socket.state != tcp_state::LISTEN {
            sample.rtt = info.get(Field::RTT).filter(|&r| r > 0).map(|r| r as u32);
        }
        sample.limited = limits(socket, &info, &memory);
        sample
    }
}

/// A group's health in 32-bit sums and one round-trip time bucket: all a
/// group of a few sockets with moderate counters needs, in 64 bytes (a
/// [`Health`] takes about 150 and a view may have hundreds of thousands
/// of groups). A sample that does not fit is refused whole; the group
/// then moves to a [`Health`] ([`widen`](Self::widen)).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct NarrowHealth {
    sums: [u32; SUMS.len()],
    rtt_max: u32,
    /// The rtt samples, all in `rtt_bucket`.
    rtt_count: u32,
    limited: [u16; LIMITED.len()],
    present: u16,
    rtt_bucket: u16,
}

impl NarrowHealth {
    /// One socket's sample, if its values fit.
    fn of(sample: &Sample) -> Option<NarrowHealth> {
        let mut sums = [0u32; SUMS.len()];
        for (narrow, wide) in sums.iter_mut().zip(sample.sums) {
            *narrow = u32::try_from(wide).ok()?;
        }
        let rtt = sample.rtt.map(|rtt| (rtt, RttSketch::bucket(rtt)));
        Some(NarrowHealth {
            sums,
            rtt_max: rtt.map_or(0, |r| r.0),
            rtt_count: u32::from(rtt.is_some()),
            limited: sample.limited.map(u16::from),
            present: sample.present,
            rtt_bucket: rtt.map_or(0, |r| r.1),
        })
    }

    /// Add `sample` if every sum and count still fits and its rtt falls in
    /// the group's one bucket; else change nothing and return false.
    pub(crate) fn try_add(&mut self, sample: &Sample) -> bool {
        NarrowHealth::of(sample).is_some_and(|one| self.try_merge(&one))
    }

    /// Add `other`'s sockets under the same conditions as
    /// [`try_add`](Self::try_add).
    pub(crate) fn try_merge(&mut self, other: &NarrowHealth) -> bool {
        let mut next = *self;
        for (i, (sum, value)) in next.sums.iter_mut().zip(other.sums).enumerate() {
            match sum.checked_add(value) {
                Some(added) if other.present & (1 << i) != 0 => *sum = added,
                Some(_) => {}
                None => return false,
            }
        }
        next.present |= other.present;
        if other.rtt_count > 0 {
            if next.rtt_count > 0 && other.rtt_bucket != next.rtt_bucket {
                return false;
            }
            let Some(count) = next.rtt_count.checked_add(other.rtt_count) else {
                return false;
            };
            (next.rtt_count, next.rtt_bucket) = (count, other.rtt_bucket);
            next.rtt_max = next.rtt_max.max(other.rtt_max);
        }
        for (count, theirs) in next.limited.iter_mut().zip(other.limited) {
            let Some(added) = count.checked_add(theirs) else {
                return false;
            };
            *count = added;
        }
        *self = next;
        true
    }

    /// The same health, wide (no allocation: one sketch bucket is inline).
    pub(crate) fn widen(&self) -> Health {
        let mut rtt = RttSketch::default();
        if self.rtt_count > 0 {
            rtt.buckets.push((self.rtt_bucket, self.rtt_count));
            rtt.count = u64::from(self.rtt_count);
        }
        Health {
            rtt,
            rtt_max: self.rtt_max,
            present: self.present,
            limited: self.limited.map(u32::from),
            sums: self.sums.map(u64::from),
            histogram: None,
        }
    }
}

/// The health of outbound connections per backend (remote address and
/// port of TCP connections whose local port is ephemeral: the key space
/// of `--ephemeral`), for the exporter.
#[derive(Default)]
pub(crate) struct BackendHealth {
    /// The ephemeral port range of this tick.
    range: (u16, u16),
    backends: rustc_hash::FxHashMap<(std::net::IpAddr, u16), (u64, Health)>,
}

impl BackendHealth {
    pub(crate) fn start_tick(&mut self, range: (u16, u16)) {
        self.range = range;
    }

    /// Add a connection (TIME_WAIT ones have no health and are left out).
    pub(crate) fn add(&mut self, socket: &InetSocket, ext: &SocketExt<'_>) {
        let (lo, hi) = self.range;
        if socket.proto == crate::model::InetProto::Tcp
            && socket.remote_port != 0
            && socket.state != tcp_state::TIME_WAIT
            && (lo..=hi).contains(&socket.local_port)
        {
            let (n, health) = self
                .backends
                .entry((socket.remote, socket.remote_port))
                .or_insert_with(|| (0, Health::with_histogram()));
            *n += 1;
            health.add(socket, ext);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.backends.clear();
    }

    /// The `max_series` backends with the most connections, busiest first
    /// (then by address and port).
    pub(crate) fn busiest(&self, max_series: usize) -> Vec<(&(std::net::IpAddr, u16), &Health)> {
        let mut all: Vec<_> = self.backends.iter().collect();
        all.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        all.truncate(max_series);
        all.into_iter()
            .map(|(key, (_, health))| (key, health))
            .collect()
    }
}

/// Whether a socket is held back now, per [`LIMITED`]:
/// - by the peer's receive window: it has unsent data and what it has
///   sent unacknowledged (`send_q - notsent_bytes`) plus one segment
///   (`snd_mss`) does not fit the window the peer offers (`snd_wnd`);
/// - by its send buffer: what it has queued (`SK_MEMINFO_WMEM_QUEUED`)
///   fills the buffer (`SK_MEMINFO_SNDBUF`);
/// - by the congestion window: it has unsent data and as many segments
///   in flight (`unacked`) as the window allows (`snd_cwnd`).
///
/// tcp_info's `rwnd_limited` and `sndbuf_limited` are the time spent so
/// since the connection began, not the state now, so they are not used.
fn limits(socket: &InetSocket, info: &TcpInfo<'_>, memory: &SkMemInfo<'_>) -> [bool; 3] {
    let notsent = info.get(Field::NOTSENT_BYTES).unwrap_or(0);
    let waiting = notsent > 0;
    let rwnd = waiting
        && match (info.get(Field::SND_WND), info.get(Field::SND_MSS)) {
            (Some(window), Some(mss)) => {
                u64::from(socket.send_q).saturating_sub(notsent) + mss > window
            }
            _ => false,
        };
    let sndbuf = match (memory.get(skmem::WMEM_QUEUED), memory.get(skmem::SNDBUF)) {
        (Some(queued), Some(buffer)) => buffer > 0 && queued >= buffer,
        _ => false,
    };
    let cwnd = waiting
        && match (info.get(Field::UNACKED), info.get(Field::SND_CWND)) {
            (Some(unacked), Some(window)) => window > 0 && unacked >= window,
            _ => false,
        };
    [rwnd, sndbuf, cwnd]
}

/// Round-trip times in fixed memory: a count per bucket, where values
/// below [`EXACT`](Self::EXACT) microseconds have a bucket each and the
/// rest logarithmic buckets `[EXACT * g^k, EXACT * g^(k+1))` with
/// `g = 1.005 / 0.995`. A bucket's representative (the harmonic mean of
/// its bounds) is within 0.5 % of every value in it, and rounding it to a
/// whole microsecond adds at most 0.5 / EXACT = 0.2 %: every quantile is
/// within 1 % of the exact nearest-rank one (the guarantee of a DDSketch,
/// Masson et al., VLDB 2019). Buckets are kept sparse, sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RttSketch {
    /// Inline up to two buckets: most groups of a view with many groups
    /// hold a socket or two, and then no allocation.
    buckets: smallvec::SmallVec<[(u16, u32); 2]>,
    count: u64,
}

impl RttSketch {
    const EXACT: u32 = 256;
    /// `ln(g)`, `g = (1 + 0.005) / (1 - 0.005)`.
    const LN_GAMMA: f64 = 0.010_000_083_334_583_18;
    /// Buckets for every `u32`: `EXACT` exact ones and the logarithmic
    /// ones up to `2^32`.
    pub(crate) const BUCKETS: usize = 1920;

    fn bucket(value: u32) -> u16 {
        if value < Self::EXACT {
            return value as u16;
        }
        let k = ((f64::from(value) / f64::from(Self::EXACT)).ln() / Self::LN_GAMMA) as u32;
        (Self::EXACT + k) as u16
    }

    /// The value a bucket stands for, rounded to a whole microsecond.
    fn representative(bucket: u16) -> u32 {
        let b = u32::from(bucket);
        if b < Self::EXACT {
            return b;
        }
        let low = f64::from(Self::EXACT) * (f64::from(b - Self::EXACT) * Self::LN_GAMMA).exp();
        let high = low * Self::LN_GAMMA.exp();
        (2.0 * low * high / (low + high)).round() as u32
    }

    pub(crate) fn add(&mut self, value: u32) {
        let bucket = Self::bucket(value);
        debug_assert!(usize::from(bucket) < Self::BUCKETS);
        match self.buckets.binary_search_by_key(&bucket, |b| b.0) {
            Ok(i) => self.buckets[i].1 += 1,
            Err(i) => self.buckets.insert(i, (bucket, 1)),
        }
        self.count += 1;
    }

    pub(crate) fn merge(&mut self, other: &RttSketch) {
        for &(bucket, n) in &other.buckets {
            match self.buckets.binary_search_by_key(&bucket, |b| b.0) {
                Ok(i) => self.buckets[i].1 += n,
                Err(i) => self.buckets.insert(i, (bucket, n)),
            }
        }
        self.count += other.count;
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The nearest-rank quantile `per_mille` / 1000: the value at rank
    /// `ceil(q * count)` (from 1) of the sorted values, within 1 %.
    pub(crate) fn quantile(&self, per_mille: u32) -> Option<u32> {
        if self.count == 0 {
            return None;
        }
        let rank = (self.count * u64::from(per_mille)).div_ceil(1000).max(1);
        let mut seen = 0u64;
        for &(bucket, n) in &self.buckets {
            seen += u64::from(n);
            if seen >= rank {
                return Some(Self::representative(bucket));
            }
        }
        self.buckets.last().map(|b| Self::representative(b.0))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn exact_quantile(sorted: &[u32], per_mille: u32) -> u32 {
        let rank = (sorted.len() as u64 * u64::from(per_mille))
            .div_ceil(1000)
            .max(1);
        sorted[rank as usize - 1]
    }

    #[test]
    fn the_sketch_keeps_quantiles_within_one_percent() {
        // a spread of values over the whole range, some repeated
        let mut state = 0x9e37_79b9_u32;
        let mut values = Vec::new();
        for i in 0..20_000u32 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let magnitude = i % 31;
            values.push((state >> (31 - magnitude).min(31)).max(1));
        }
        values.extend([1, 255, 256, 257, 1000, u32::MAX, u32::MAX - 1]);
        let mut sketch = RttSketch::default();
        for v in &values {
            sketch.add(*v);
        }
        values.sort_unstable();
        for q in [1, 10, 250, 500, 900, 990, 999, 1000] {
            let exact = f64::from(exact_quantile(&values, q));
            let estimate = f64::from(sketch.quantile(q).unwrap());
            assert!(
                (estimate - exact).abs() <= 0.01 * exact,
                "q {q}: {estimate} for {exact}"
            );
        }
        assert!(sketch.buckets.len() <= RttSketch::BUCKETS);
        assert!(usize::from(RttSketch::bucket(u32::MAX)) < RttSketch::BUCKETS);
        assert_eq!(sketch.count(), values.len() as u64);
    }

    #[test]
    fn every_value_is_within_one_percent_of_its_bucket() {
        for v in (1..5_000u32)
            .chain((0..32).map(|s| 1u32 << s))
            .chain([u32::MAX])
        {
            let shown = f64::from(RttSketch::representative(RttSketch::bucket(v)));
            assert!(
                (shown - f64::from(v)).abs() <= 0.01 * f64::from(v),
                "{v}: {shown}"
            );
        }
        assert_eq!(RttSketch::default().quantile(500), None);
    }

    #[test]
    fn merged_sketches_are_one_sketch_of_both() {
        let (mut a, mut b, mut both) = (
            RttSketch::default(),
            RttSketch::default(),
            RttSketch::default(),
        );
        for v in [30, 40, 5000, 70_000] {
            a.add(v);
            both.add(v);
        }
        for v in [40, 41, 900_000] {
            b.add(v);
            both.add(v);
        }
        a.merge(&b);
        assert_eq!(a, both);
    }

    /// A tcp_info payload with `fields` set (the rest zero).
    pub(crate) fn info_with(fields: &[(Field, u64)]) -> Vec<u8> {
        let mut bytes = vec![0u8; crate::collect::tcp_info::KNOWN_LEN];
        for (field, value) in fields {
            let at = usize::from(field.offset);
            match field.width.bytes() {
                4 => bytes[at..at + 4].copy_from_slice(&(*value as u32).to_ne_bytes()),
                8 => bytes[at..at + 8].copy_from_slice(&value.to_ne_bytes()),
                n => panic!("width {n} not used here"),
            }
        }
        bytes
    }

    fn skmem_with(queued: u32, sndbuf: u32, drops: u32) -> Vec<u8> {
        let mut values = [0u32; 9];
        values[skmem::WMEM_QUEUED] = queued;
        values[skmem::SNDBUF] = sndbuf;
        values[skmem::DROPS] = drops;
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    fn connection(send_q: u32) -> InetSocket {
        let home = std::net::IpAddr::from([127, 0, 0, 1]);
        InetSocket {
            recv_q: 3,
            send_q,
            ..InetSocket::tcp(tcp_state::ESTABLISHED, (home, 80), (home, 40000))
        }
    }

    #[test]
    fn sums_limits_and_absent_fields() {
        let zero_window = info_with(&[
            (Field::RTT, 120),
            (Field::NOTSENT_BYTES, 5000),
            (Field::SND_WND, 0),
            (Field::SND_MSS, 1448),
            (Field::UNACKED, 1),
            (Field::SND_CWND, 10),
            (Field::BYTES_SENT, 7),
            (Field::TOTAL_RETRANS, 2),
        ]);
        let full_cwnd = info_with(&[
            (Field::RTT, 80),
            (Field::NOTSENT_BYTES, 100),
            (Field::SND_WND, 1 << 20),
            (Field::SND_MSS, 1448),
            (Field::UNACKED, 10),
            (Field::SND_CWND, 10),
            (Field::BYTES_SENT, 5),
        ]);
        let full_buffer = skmem_with(9000, 8000, 4);
        let mut health = Health::with_histogram();
        let ext = |info: &[u8], skmem: &[u8]| -> SocketExt<'static> {
            SocketExt {
                info: Vec::leak(info.to_vec()),
                skmem: Vec::leak(skmem.to_vec()),
                ..SocketExt::NONE
            }
        };
        health.add(&connection(6000), &ext(&zero_window, &full_buffer));
        health.add(&connection(100 + 14480), &ext(&full_cwnd, &[]));
        // a time-wait socket: queues only
        health.add(&connection(0), &SocketExt::NONE);
        assert_eq!(health.sum("bytes_sent"), Some(12));
        assert_eq!(health.sum("total_retrans"), Some(2));
        assert_eq!(health.sum("recv_q"), Some(9));
        assert_eq!(health.sum("send_q"), Some(6000 + 14580));
        assert_eq!(health.sum("drops"), Some(4));
        assert_eq!(health.limited("limited_rwnd"), Some(1));
        assert_eq!(health.limited("limited_sndbuf"), Some(1));
        assert_eq!(health.limited("limited_cwnd"), Some(1));
        assert_eq!(health.column("rtt_sockets"), Some(2));
        assert_eq!(health.column("rtt_p50"), Some(80));
        assert_eq!(health.column("rtt_max"), Some(120));
        // a bucket's representative above the maximum is not shown
        let mut one = Health::default();
        one.add_rtt(5042);
        assert!(RttSketch::representative(RttSketch::bucket(5042)) > 5042);
        assert_eq!(one.column("rtt_p99"), Some(5042));
        // 80 us is in the first bucket (le 100 us), 120 in the second
        assert_eq!(&health.rtt_histogram().0[..3], [1, 1, 0]);
        assert_eq!(health.rtt_histogram().1..=health.rtt_histogram().2, 2..=200);
        let none = Health::default();
        assert_eq!(none.column("rtt_p50"), None);
        assert_eq!(none.sum("bytes_sent"), None);
        assert_eq!(none.columns().count(), column_names().count());
        let mut merged = Health::default();
        merged.merge(&health);
        merged.merge(&none);
        assert_eq!(merged, health);
    }
}
