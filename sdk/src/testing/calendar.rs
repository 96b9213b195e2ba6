//! The mock user's calendar: local hours and days at one fixed UTC offset,
//! snapped the way the host's calendar snaps them (`host/src/consent/
//! calendar.rs`), minus time-zone rules (no DST: every day is 24 hours).

use crate::Granularity;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A calendar at a fixed offset from UTC.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Calendar {
    offset_ms: i64,
}

fn saturate(ms: i128) -> i64 {
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

impl Calendar {
    /// The calendar `minutes` east of UTC.
    pub(crate) fn new(minutes: i32) -> Calendar {
        Calendar {
            offset_ms: i64::from(minutes) * 60_000,
        }
    }

    /// The offset, in seconds east of UTC (as batches carry it).
    pub(crate) fn offset_seconds(self) -> i32 {
        i32::try_from(self.offset_ms / 1000).unwrap_or(0)
    }

    fn unit(granularity: Granularity) -> Option<i64> {
        match granularity {
            Granularity::Raw => None,
            Granularity::Hourly => Some(HOUR_MS),
            Granularity::Daily => Some(DAY_MS),
        }
    }

    /// The start of the bucket holding `ms` (`ms` itself for raw).
    pub(crate) fn floor(self, ms: i64, granularity: Granularity) -> i64 {
        let Some(unit) = Calendar::unit(granularity) else {
            return ms;
        };
        let (ms, offset, unit) = (i128::from(ms), i128::from(self.offset_ms), i128::from(unit));
        saturate((ms + offset).div_euclid(unit) * unit - offset)
    }

    /// The start of the bucket after the one holding `ms`.
    pub(crate) fn next(self, ms: i64, granularity: Granularity) -> i64 {
        match Calendar::unit(granularity) {
            None => ms.saturating_add(1),
            Some(unit) => self.floor(ms, granularity).saturating_add(unit),
        }
    }

    /// The first bucket boundary at or after `ms`.
    fn ceil(self, ms: i64, granularity: Granularity) -> i64 {
        let start = self.floor(ms, granularity);
        if start == ms { start } else { self.next(ms, granularity) }
    }

    /// `[start, end)` snapped inward to whole buckets, except that the
    /// bucket in progress at `now` counts as whole; `None` when no whole
    /// bucket remains. The host's rule, to the millisecond.
    pub(crate) fn snap(self, start: i64, end: i64, now: i64, granularity: Granularity) -> Option<(i64, i64)> {
        if granularity == Granularity::Raw {
            return (start < end).then_some((start, end));
        }
        let from = self.ceil(start, granularity);
        let mut to = self.floor(end, granularity);
        if to < end && to <= now && now < end {
            to = self.next(to, granularity);
        }
        (from < to).then_some((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_offset() {
        let paris = Calendar::new(60);
        // 2026-05-01T23:30Z is 00:30 on 2 May in Paris (fixed +01:00).
        let t = 1_777_678_200_000;
        assert_eq!(paris.floor(t, Granularity::Daily), t - 30 * 60_000);
        let india = Calendar::new(330);
        // Hours start at :30 UTC at +05:30.
        let hour = india.floor(t, Granularity::Hourly);
        assert_eq!((hour + 330 * 60_000).rem_euclid(HOUR_MS), 0);
        assert!(hour <= t && t < india.next(t, Granularity::Hourly));
        assert_eq!(Calendar::new(0).floor(i64::MIN, Granularity::Daily), i64::MIN);
    }

    #[test]
    fn snapping_matches_the_host() {
        let utc = Calendar::new(0);
        let day = 20_000 * DAY_MS;
        let now = day + 10 * HOUR_MS;
        assert_eq!(
            utc.snap(day - 30 * DAY_MS, day - 30 * DAY_MS + 1, now, Granularity::Daily),
            None
        );
        assert_eq!(
            utc.snap(day, now + 1, now, Granularity::Daily),
            Some((day, day + DAY_MS))
        );
        assert_eq!(utc.snap(day + 1, now + 1, now, Granularity::Daily), None);
        assert_eq!(utc.snap(day - 2 * DAY_MS + 5, day - 1, now, Granularity::Daily), None);
        assert_eq!(
            utc.snap(day - 2 * DAY_MS - 5, day + 1, now, Granularity::Daily),
            Some((day - 2 * DAY_MS, day))
        );
    }
}
