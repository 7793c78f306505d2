//! The clock of the spans agent-trace records itself (`record.rs`): the CPU's time-stamp
//! counter, read through quanta (about 9 ns against about 22 ns for the wall clock on the
//! 2-core machines this was measured on), made wall-clock time on the export thread; the wall
//! clock itself until the counter is calibrated, and wherever the application gives a time.
//! Where quanta finds no invariant counter it reads the monotonic clock instead, and the
//! conversion below is the same.
//!
//! The conversion: each export batch reads the counter, the monotonic clock and the wall clock
//! together (the closest of three attempts). Ticks per nanosecond are measured over everything
//! since the counter was calibrated, so the error of a converted time is at most the error of
//! one such reading (tens of nanoseconds), however old the span: a stamp is never older than
//! the baseline its rate is measured over. A step of the wall clock moves the spans converted
//! after it, as it moves the SDK's `SystemTime::now()`; durations come from the counter.

use std::time::{Duration, Instant, SystemTime};

use crate::state::{Counter, Stamp, COUNTER};

/// Now, as a record holds it.
#[inline]
pub(crate) fn now() -> Stamp {
    match COUNTER.get() {
        Some(c) => Stamp::Ticks(c.clock.raw()),
        None => Stamp::Wall(opentelemetry::time::now()),
    }
}

/// Calibrates the counter, once per process (the export thread does it as it starts, so no
/// application thread waits for it).
pub(crate) fn calibrate() {
    COUNTER.get_or_init(|| {
        let clock = quanta::Clock::new();
        let (base_ticks, base, _) = read(&clock);
        Counter {
            clock,
            base_ticks,
            base,
        }
    });
}

/// The counter, the monotonic clock and the wall clock read together: the closest of three
/// attempts (a thread preempted between the reads would skew one).
fn read(clock: &quanta::Clock) -> (u64, Instant, SystemTime) {
    let mut best: Option<(u64, u64, Instant, SystemTime)> = None;
    for _ in 0..3 {
        let before = clock.raw();
        let mono = Instant::now();
        let wall = SystemTime::now();
        let after = clock.raw();
        let spread = after.saturating_sub(before);
        if best.is_none_or(|b| spread < b.0) {
            best = Some((spread, before + spread / 2, mono, wall));
        }
    }
    let (_, ticks, mono, wall) =
        best.unwrap_or((0, clock.raw(), Instant::now(), SystemTime::now()));
    (ticks, mono, wall)
}

/// The clocks read together, to make stamps wall-clock time (once per export batch).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    ticks: u64,
    wall: SystemTime,
    ns_per_tick: f64,
}

impl Reading {
    /// Now (with no counter, a reading that only passes wall-clock stamps through).
    pub(crate) fn now() -> Reading {
        let Some(c) = COUNTER.get() else {
            return Reading {
                ticks: 0,
                wall: SystemTime::now(),
                ns_per_tick: 0.0,
            };
        };
        let (ticks, mono, wall) = read(&c.clock);
        let elapsed_ticks = ticks.saturating_sub(c.base_ticks);
        let elapsed_ns = mono.saturating_duration_since(c.base).as_nanos() as f64;
        let ns_per_tick = match elapsed_ticks {
            0 => 0.0,
            n => elapsed_ns / n as f64,
        };
        Reading {
            ticks,
            wall,
            ns_per_tick,
        }
    }

    /// The wall-clock time of `stamp` (never panics: a time out of `SystemTime`'s range is
    /// the reading's own).
    pub(crate) fn wall(&self, stamp: Stamp) -> SystemTime {
        match stamp {
            Stamp::Wall(t) => t,
            Stamp::Ticks(t) if t <= self.ticks => {
                let ago = Duration::from_nanos(((self.ticks - t) as f64 * self.ns_per_tick) as u64);
                self.wall.checked_sub(ago).unwrap_or(self.wall)
            }
            Stamp::Ticks(t) => {
                let ahead =
                    Duration::from_nanos(((t - self.ticks) as f64 * self.ns_per_tick) as u64);
                self.wall.checked_add(ahead).unwrap_or(self.wall)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stamp read now is within a few microseconds of the wall clock read beside it, and
    /// the time between two stamps is what the monotonic clock measured.
    #[test]
    fn stamps_become_wall_clock_time() {
        calibrate();
        let wall_before = SystemTime::now();
        let mono_before = Instant::now();
        let first = now();
        std::thread::sleep(Duration::from_millis(20));
        let second = now();
        let mono_after = Instant::now();
        assert!(matches!(first, Stamp::Ticks(_)), "{first:?}");
        let reading = Reading::now();
        let (a, b) = (reading.wall(first), reading.wall(second));
        let skew = a
            .duration_since(wall_before)
            .unwrap_or_else(|e| e.duration());
        assert!(
            skew < Duration::from_millis(2),
            "first stamp {skew:?} off the wall clock"
        );
        let between = b.duration_since(a).expect("ordered");
        let measured = mono_after - mono_before;
        assert!(between <= measured, "{between:?} > {measured:?}");
        assert!(between >= Duration::from_millis(20), "{between:?}");
    }

    /// Wall-clock stamps pass through; stamps far out of range give the reading's time
    /// instead of panicking.
    #[test]
    fn conversion_is_total() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        let r = Reading {
            ticks: 10,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
            ns_per_tick: 1e12,
        };
        assert_eq!(r.wall(Stamp::Wall(t)), t);
        assert_eq!(r.wall(Stamp::Ticks(10)), r.wall);
        let _ = r.wall(Stamp::Ticks(0));
        let _ = r.wall(Stamp::Ticks(u64::MAX));
        let r = Reading {
            ns_per_tick: f64::INFINITY,
            ..r
        };
        let _ = r.wall(Stamp::Ticks(0));
        let _ = r.wall(Stamp::Ticks(u64::MAX));
    }
}
