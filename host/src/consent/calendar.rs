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

use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, Unit, ZonedRound};

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
        let zoned = Calendar::timestamp(ms).to_zoned(self.tz.clone());
        let start = match granularity {
            Granularity::Raw => return ms,
            Granularity::Daily => zoned.start_of_day(),
            Granularity::Hourly => zoned.round(ZonedRound::new().smallest(Unit::Hour).mode(jiff::RoundMode::Trunc)),
        };
        start.map_or(ms, |z| z.timestamp().as_millisecond())
    }

    /// The start of the bucket after the one holding `ms`.
    pub fn next(&self, ms: i64, granularity: Granularity) -> i64 {
        let start = self.floor(ms, granularity);
        let zoned = Calendar::timestamp(start).to_zoned(self.tz.clone());
        let next = match granularity {
            Granularity::Raw => return ms.saturating_add(1),
            Granularity::Daily => zoned.tomorrow().and_then(|z| z.start_of_day()),
            Granularity::Hourly => zoned.checked_add(jiff::Span::new().hours(1)),
        };
        next.map_or(i64::MAX, |z| z.timestamp().as_millisecond())
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
