//! When the ticks of a repeating run start: tick k at start + k x the
//! interval on the monotonic clock (`--interval`, else netstat's second),
//! so ticks do not drift by their own duration. A tick that runs past the
//! start of the next slot makes the schedule skip the missed slots (no
//! burst of catch-up ticks); with `--interval` or JSON that is reported.
//! `--count` ends the run after N ticks; SIGINT and SIGTERM end a run that
//! uses nlstat's options between two ticks (see [`crate::io::stop`]).

use crate::config::Config;
use std::time::{Duration, Instant, SystemTime};

pub use crate::model::TickStamp;

pub struct Schedule {
    start: Instant,
    interval: Duration,
    /// The slot the next tick starts in.
    slot: u64,
    ticks: u64,
    count: Option<u64>,
    late: Option<Duration>,
    /// Report overruns (`--interval` given, or JSON ticks).
    reports: bool,
    /// Stop on SIGINT/SIGTERM between ticks (a run with nlstat's options;
    /// netstat's own `-c` dies by the signal as netstat does).
    stops: bool,
}

/// How long a wait sleeps before it looks at the stop flag again.
const STOP_POLL: Duration = Duration::from_millis(50);

impl Schedule {
    pub fn new(config: &Config) -> Schedule {
        let own = config.interval.is_some()
            || config.count.is_some()
            || config.output.is_json()
            || config.view.is_some()
            || config.textfile.is_some()
            || config.all_netns
            || config.tape != crate::config::Tape::None;
        if own {
            crate::io::stop::install();
        }
        Schedule {
            start: Instant::now(),
            interval: config.interval.unwrap_or(Duration::from_secs(1)),
            slot: 0,
            ticks: 0,
            count: config.count,
            late: None,
            reports: config.interval.is_some() || config.output.is_json(),
            stops: own,
        }
    }

    /// The tick about to run.
    pub fn begin(&mut self) -> TickStamp {
        self.ticks += 1;
        TickStamp {
            number: self.ticks,
            time: SystemTime::now(),
            elapsed: self.start.elapsed(),
            late: self.late.take(),
        }
    }

    /// After a tick: wait for the next slot; false when the run is over
    /// (`--count` reached, or a stop asked for).
    pub fn wait_next(&mut self, program: &str, json: bool) -> bool {
        if self.count.is_some_and(|n| self.ticks >= n) || self.stopping() {
            return false;
        }
        let now = self.start.elapsed();
        let next = self.slot_start(self.slot + 1);
        if now > next {
            // overran: the next tick starts at the first slot still ahead
            let ahead = (now.as_nanos() / self.interval.as_nanos().max(1)) as u64 + 1;
            self.report(now - next, ahead - (self.slot + 1), program, json);
            self.slot = ahead;
        } else {
            self.slot += 1;
        }
        let until = self.start + self.slot_start(self.slot);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            if left.is_zero() || self.stopping() {
                break;
            }
            let nap = if self.stops {
                left.min(STOP_POLL)
            } else {
                left
            };
            std::thread::sleep(nap);
        }
        // woken after the whole slot went by (the process was stopped or
        // not scheduled): late too, and the missed slots are skipped
        let woke = self.start.elapsed();
        if woke >= self.slot_start(self.slot + 1) {
            let late = woke - self.slot_start(self.slot);
            let now_in = (woke.as_nanos() / self.interval.as_nanos().max(1)) as u64;
            self.report(late, now_in - self.slot, program, json);
            self.slot = now_in;
        }
        !self.stopping()
    }

    /// Say on stderr (text) that the next tick is `late` with `skipped`
    /// slots missed; its tick object carries it (JSON).
    fn report(&mut self, late: Duration, skipped: u64, program: &str, json: bool) {
        if !self.reports {
            return;
        }
        if !json {
            crate::io::stdio::write_stderr(
                format!(
                    "{program}: tick {} is {} ms late for its {} s slot; {} slot{} skipped\n",
                    self.ticks + 1,
                    late.as_millis(),
                    self.interval.as_secs_f64(),
                    skipped,
                    if skipped == 1 { "" } else { "s" },
                )
                .as_bytes(),
            );
        }
        self.late = Some(self.late.map_or(late, |l| l.max(late)));
    }

    fn slot_start(&self, slot: u64) -> Duration {
        self.interval
            .saturating_mul(u32::try_from(slot).unwrap_or(u32::MAX))
    }

    fn stopping(&self) -> bool {
        self.stops && crate::io::stop::requested()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(interval_ms: u64, count: Option<u64>) -> Schedule {
        let config = Config {
            interval: Some(Duration::from_millis(interval_ms)),
            count,
            ..Config::default()
        };
        Schedule::new(&config)
    }

    #[test]
    fn ticks_start_on_their_slots_and_count_ends_the_run() {
        let mut s = schedule(20, Some(5));
        let mut starts = Vec::new();
        loop {
            starts.push(s.begin().elapsed);
            if !s.wait_next("nlstat", true) {
                break;
            }
        }
        assert_eq!(starts.len(), 5);
        for (k, at) in starts.iter().enumerate() {
            let slot = Duration::from_millis(20 * k as u64);
            assert!(
                *at >= slot && *at < slot + Duration::from_millis(15),
                "tick {k} at {at:?}"
            );
        }
    }

    #[test]
    fn an_overrun_skips_the_missed_slots_and_is_reported_once() {
        let mut s = schedule(20, None);
        assert_eq!(s.begin().late, None);
        std::thread::sleep(Duration::from_millis(50));
        assert!(s.wait_next("nlstat", true));
        let second = s.begin();
        // slots 1 and 2 were missed: the tick starts at slot 3 (60 ms)
        assert!(second.elapsed >= Duration::from_millis(60), "{second:?}");
        assert!(second.late.is_some_and(|l| l >= Duration::from_millis(30)));
        assert!(s.wait_next("nlstat", true));
        assert_eq!(s.begin().late, None);
    }
}
