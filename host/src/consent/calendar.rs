//! The user's calendar: local hours and days in the user's IANA time zone,
//! from the time-zone database bundled into the binary (no system files).
//!
//! Consent is enforced in these units. An aggregate granted `daily` must
//! not be turned into an hourly one, or bisected down to single samples, by
//! asking for narrow windows, so every window is snapped *inward* to whole
//! buckets of this calendar: a bucket the window covers only in part is
//! dropped, never clipped. A daily bucket is a local calendar day, 23, 24 or
//! 25 hours long across a DST change; an hourly bucket is a local clock
//! hour. Pure: no I/O, property tested below.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::{TimeZone, TimeZoneDatabase};

use super::Granularity;

/// The earliest and latest instants a window may name: two days inside
/// jiff's range (years -9999 to 9999), so a local day can always be found.
fn bounds() -> (i64, i64) {
    const MARGIN: i64 = 2 * 86_400_000;
    (
        Timestamp::MIN.as_millisecond() + MARGIN,
        Timestamp::MAX.as_millisecond() - MARGIN,
    )
}

fn clamp(ms: i64) -> i64 {
    let (min, max) = bounds();
    ms.clamp(min, max)
}

/// The bundled time-zone database.
fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// An unknown time-zone name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone `{0}`: use an IANA name such as Europe/Paris or America/Los_Angeles")]
pub struct UnknownZone(pub String);

/// A user's calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    name: String,
    tz: TimeZone,
}

impl Default for Calendar {
    fn default() -> Calendar {
        Calendar::utc()
    }
}

impl Calendar {
    /// The UTC calendar (the default for users who set no zone).
    pub fn utc() -> Calendar {
        Calendar {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The calendar of the IANA zone `name` (e.g. `Europe/Paris`).
    pub fn named(name: &str) -> Result<Calendar, UnknownZone> {
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control() || c == ' ') {
            return Err(UnknownZone(name.chars().take(64).collect()));
        }
        let tz = database().get(name).map_err(|_| UnknownZone(name.to_string()))?;
        Ok(Calendar {
            name: tz.iana_name().unwrap_or(name).to_string(),
            tz,
        })
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn timestamp(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(clamp(ms)).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The UTC offset at `ms`, in seconds east of UTC.
    pub fn offset_seconds(&self, ms: i64) -> i32 {
        self.tz.to_offset(Calendar::timestamp(ms)).seconds()
    }

    /// The start of the bucket of `granularity` holding `ms` (`ms` itself
    /// for raw).
    pub fn floor(&self, ms: i64, granularity: Granularity) -> i64 {
        match granularity {
            Granularity::Raw => ms,
            Granularity::Hourly => self.hour_floor(clamp(ms)),
            Granularity::Daily => Calendar::timestamp(ms)
                .to_zoned(self.tz.clone())
                .start_of_day()
                .map_or(ms, |z| z.timestamp().as_millisecond()),
        }
    }

    /// The start of the bucket after the one holding `ms`.
    pub fn next(&self, ms: i64, granularity: Granularity) -> i64 {
        match granularity {
            Granularity::Raw => ms.saturating_add(1),
            Granularity::Hourly => self.hour_next(clamp(ms)),
            Granularity::Daily => {
                let start = self.floor(ms, granularity);
                Calendar::timestamp(start)
                    .to_zoned(self.tz.clone())
                    .tomorrow()
                    .and_then(|z| z.start_of_day())
                    .map_or(i64::MAX, |z| z.timestamp().as_millisecond())
            }
        }
    }

    /// The offset in force at `ms`, in milliseconds.
    fn offset_ms(&self, ms: i64) -> i64 {
        i64::from(self.offset_seconds(ms)) * 1000
    }

    /// The last instant at or before `ms` where the offset changed.
    fn change_at_or_before(&self, ms: i64) -> Option<i64> {
        let after = Calendar::timestamp(ms.saturating_add(1));
        self.tz
            .preceding(after)
            .map(|t| t.timestamp().as_millisecond())
            .take(8)
            .find(|&t| self.offset_ms(t - 1) != self.offset_ms(t))
    }

    /// The first instant after `ms` where the offset changes.
    fn change_after(&self, ms: i64) -> Option<i64> {
        self.tz
            .following(Calendar::timestamp(ms))
            .map(|t| t.timestamp().as_millisecond())
            .take(8)
            .find(|&t| self.offset_ms(t - 1) != self.offset_ms(t))
    }

    /// An hourly bucket is a whole local clock hour at one offset: a change
    /// of offset (DST, in any zone, half-hour shifts included) starts a new
    /// bucket, so buckets never overlap and never run longer than an hour.
    fn hour_floor(&self, ms: i64) -> i64 {
        const HOUR: i64 = 3_600_000;
        let offset = self.offset_ms(ms);
        let local_hour = (ms + offset).div_euclid(HOUR) * HOUR - offset;
        match self.change_at_or_before(ms) {
            Some(change) if change > local_hour => change,
            _ => local_hour,
        }
    }

    fn hour_next(&self, ms: i64) -> i64 {
        const HOUR: i64 = 3_600_000;
        let offset = self.offset_ms(ms);
        let next_hour = (ms + offset).div_euclid(HOUR) * HOUR + HOUR - offset;
        match self.change_after(ms) {
            Some(change) if change < next_hour => change,
            _ => next_hour,
        }
    }

    /// The first bucket boundary at or after `ms`.
    pub fn ceil(&self, ms: i64, granularity: Granularity) -> i64 {
        let start = self.floor(ms, granularity);
        if start == clamp(ms) {
            start
        } else {
            self.next(ms, granularity)
        }
    }

    /// `[start, end)` snapped inward to whole buckets: the start moves up to
    /// a boundary, the end down to one, except that the bucket in progress
    /// at `now` counts as whole (no sample after `now` can be learnt by
    /// moving the end, which every end past `now` covers alike). `None`
    /// when no whole bucket remains.
    pub fn snap(&self, start: i64, end: i64, now: i64, granularity: Granularity) -> Option<(i64, i64)> {
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

/// Walks sorted instants through the buckets of a calendar, computing each
/// bucket's bounds once rather than once per instant.
pub struct BucketWalker<'a> {
    calendar: &'a Calendar,
    granularity: Granularity,
    current: Option<(i64, i64)>,
}

impl<'a> BucketWalker<'a> {
    /// A walker over buckets of `granularity` (daily or hourly).
    pub fn new(calendar: &'a Calendar, granularity: Granularity) -> BucketWalker<'a> {
        BucketWalker {
            calendar,
            granularity,
            current: None,
        }
    }

    /// The start of the bucket holding `ms`.
    pub fn bucket_of(&mut self, ms: i64) -> i64 {
        match self.current {
            Some((start, end)) if start <= ms && ms < end => start,
            _ => {
                let start = self.calendar.floor(ms, self.granularity);
                let end = self.calendar.next(ms, self.granularity);
                self.current = Some((start, end));
                start
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HOUR: i64 = 3_600_000;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn extreme_instants_stay_in_range() {
        let la = Calendar::named("America/Los_Angeles").unwrap();
        for g in [Granularity::Daily, Granularity::Hourly] {
            let (from, to) = la.snap(i64::MIN, i64::MAX, 0, g).unwrap();
            assert!(from < ms("0100-01-01T00:00:00Z") && to > ms("9000-01-01T00:00:00Z"));
            assert!(la.snap(i64::MIN, i64::MIN + 1, 0, g).is_none());
            assert!(la.snap(i64::MAX - 1, i64::MAX, 0, g).is_none());
        }
        // Data before 1970 stays visible.
        let day = la.floor(ms("1950-01-15T12:00:00Z"), Granularity::Daily);
        assert_eq!(day, ms("1950-01-15T08:00:00Z"));
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(Calendar::named("Mars/Olympus_Mons").is_err());
        assert!(Calendar::named("").is_err());
        assert!(Calendar::named("Europe/Paris\u{1b}[8m").is_err());
        assert_eq!(Calendar::named("Europe/Paris").unwrap().name(), "Europe/Paris");
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let la = Calendar::named("America/Los_Angeles").unwrap();
        // 2026-03-08: clocks go forward at 02:00 local (10:00 UTC).
        let spring = ms("2026-03-08T12:00:00Z");
        let day = la.floor(spring, Granularity::Daily);
        assert_eq!(day, ms("2026-03-08T08:00:00Z"));
        assert_eq!(la.next(spring, Granularity::Daily) - day, 23 * HOUR);
        // 2026-11-01: clocks go back at 02:00 local (09:00 UTC).
        let fall = ms("2026-11-01T12:00:00Z");
        let day = la.floor(fall, Granularity::Daily);
        assert_eq!(day, ms("2026-11-01T07:00:00Z"));
        assert_eq!(la.next(fall, Granularity::Daily) - day, 25 * HOUR);
        assert_eq!(la.offset_seconds(spring), -7 * 3600);
        assert_eq!(la.offset_seconds(ms("2026-01-08T12:00:00Z")), -8 * 3600);
    }

    #[test]
    fn hours_never_overlap_across_a_half_hour_dst_change() {
        // Found by the `planner` fuzz target: Lord Howe Island moves its
        // clocks by 30 minutes, so local hour 01:00 happens one and a half
        // times on the autumn change; truncating the local time made a
        // bucket start before the previous one ended.
        let lhi = Calendar::named("Australia/Lord_Howe").unwrap();
        let change = ms("2026-04-04T15:00:00Z"); // 02:00 +11 becomes 01:30 +10:30
        let mut t = change - 3 * HOUR;
        while t < change + 3 * HOUR {
            let start = lhi.floor(t, Granularity::Hourly);
            let next = lhi.next(t, Granularity::Hourly);
            assert!(start <= t && t < next && next - start <= HOUR, "{t}: {start}..{next}");
            assert_eq!(lhi.floor(start, Granularity::Hourly), start);
            assert_eq!(lhi.floor(next, Granularity::Hourly), next);
            t += 60_000;
        }
        assert_eq!(lhi.floor(change + 60_000, Granularity::Hourly), change);
    }

    #[test]
    fn hours_follow_half_hour_zones() {
        let india = Calendar::named("Asia/Kolkata").unwrap();
        let t = ms("2026-05-01T10:10:00Z"); // 15:40 local
        assert_eq!(india.floor(t, Granularity::Hourly), ms("2026-05-01T09:30:00Z"));
        assert_eq!(india.next(t, Granularity::Hourly), ms("2026-05-01T10:30:00Z"));
    }

    #[test]
    fn partial_buckets_are_dropped_and_the_current_one_kept() {
        let utc = Calendar::utc();
        let day = ms("2026-05-01T00:00:00Z");
        let now = day + 10 * HOUR;
        // A one-millisecond window covers no whole day.
        assert_eq!(
            utc.snap(day - 30 * 24 * HOUR, day - 30 * 24 * HOUR + 1, now, Granularity::Daily),
            None
        );
        // Inside the day in progress, any end past now covers the whole day.
        assert_eq!(
            utc.snap(day, now + 1, now, Granularity::Daily),
            Some((day, day + 24 * HOUR))
        );
        assert_eq!(utc.snap(day + 1, now + 1, now, Granularity::Daily), None);
        // Two partial days hold no whole one.
        assert_eq!(utc.snap(day - 48 * HOUR + 5, day - 1, now, Granularity::Daily), None);
        assert_eq!(
            utc.snap(day - 48 * HOUR - 5, day + 1, now, Granularity::Daily),
            Some((day - 48 * HOUR, day))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn buckets_hold_their_instants_and_never_overlap(
            t in -2_000_000_000_000i64..4_000_000_000_000,
            zone in 0usize..6,
            hourly in any::<bool>(),
        ) {
            let names = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "Europe/Paris"];
            let cal = Calendar::named(names[zone]).unwrap();
            let g = if hourly { Granularity::Hourly } else { Granularity::Daily };
            let (start, next) = (cal.floor(t, g), cal.next(t, g));
            prop_assert!(start <= t && t < next, "{} {t}: {start}..{next}", names[zone]);
            prop_assert_eq!(cal.floor(start, g), start);
            prop_assert_eq!(cal.floor(next, g), next);
            prop_assert_eq!(cal.next(start, g), next);
            prop_assert_eq!(cal.floor(next - 1, g), start);
            if hourly {
                prop_assert!(next - start <= HOUR);
            }
        }

        #[test]
        fn snapped_windows_are_whole_buckets(
            start in -2_000_000_000_000i64..4_000_000_000_000,
            len in 1i64..(40 * 86_400_000),
            now_after in 0i64..(80 * 86_400_000),
            zone in 0usize..4,
            hourly in any::<bool>(),
        ) {
            let names = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe"];
            let cal = Calendar::named(names[zone]).unwrap();
            let g = if hourly { Granularity::Hourly } else { Granularity::Daily };
            let end = start + len;
            let now = start + now_after;
            if let Some((from, to)) = cal.snap(start, end, now, g) {
                prop_assert!(from >= start, "snapping never widens the start");
                prop_assert_eq!(cal.floor(from, g), from);
                prop_assert_eq!(cal.floor(to, g), to);
                prop_assert!(from < to);
                // The end moves past the asked end only to complete the
                // bucket in progress now.
                if to > end {
                    prop_assert!(cal.floor(now, g) < to && now < end);
                }
            }
        }
    }
}
