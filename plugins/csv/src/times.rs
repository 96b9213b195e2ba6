//! The `start` and `end` columns: RFC 3339 times with an offset
//! (`2026-11-23T23:10:00Z`, `2026-11-23T23:10:00-08:00`) or bare dates
//! (`2026-11-23`, midnight UTC), and the interval they make.

use healthplug_sdk::Timestamp;

/// A sample's time span.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// When it starts.
    pub start: Timestamp,
    /// When it ends (the start, for a point sample).
    pub end: Timestamp,
    /// Whether `start` or `end` was a bare date, read as midnight UTC.
    pub date_only: bool,
}

impl Interval {
    /// The length in minutes.
    pub fn minutes(&self) -> f64 {
        (self.end.millis() - self.start.millis()) as f64 / 60_000.0
    }
}

/// The interval of a row: `end` empty makes a point sample at `start`.
pub fn interval(start: &str, end: &str) -> Result<Interval, String> {
    if start.is_empty() {
        return Err("`start` is empty".to_string());
    }
    let (from, start_is_date) = instant("start", start)?;
    let (to, end_is_date) = if end.is_empty() {
        (from, false)
    } else {
        instant("end", end)?
    };
    if to < from {
        return Err(format!("end `{end}` is before start `{start}`"));
    }
    Ok(Interval {
        start: from,
        end: to,
        date_only: start_is_date || end_is_date,
    })
}

/// A time or a date (true) of column `column`.
fn instant(column: &str, text: &str) -> Result<(Timestamp, bool), String> {
    if text.len() == 10
        && let Ok(date) = text.parse::<jiff::civil::Date>()
    {
        let midnight = date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|e| format!("{column} `{text}`: {e}"))?;
        return Ok((Timestamp::from_millis(midnight.timestamp().as_millisecond()), true));
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok((Timestamp::from_millis(t.as_millisecond()), false));
    }
    if text.parse::<jiff::civil::DateTime>().is_ok() {
        return Err(format!(
            "{column} `{text}` has no UTC offset: add `Z` or the local one, e.g. `{text}-08:00`"
        ));
    }
    Err(format!(
        "{column} `{text}` is not a time: write RFC 3339 with an offset (2026-11-23T23:10:00Z, \
         2026-11-23T23:10:00-08:00) or a date (2026-11-23, read as midnight UTC)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23T00:00:00Z.
    const NOV_23: i64 = 1_795_392_000_000;
    const MINUTE: i64 = 60_000;

    fn ms(i: &Interval) -> (i64, i64, bool) {
        (i.start.millis(), i.end.millis(), i.date_only)
    }

    #[test]
    fn times_with_an_offset_or_z() {
        let i = interval("2026-11-23T23:10:00Z", "2026-11-23T23:10:00-08:00");
        let Ok(i) = i else { panic!("{i:?}") };
        assert_eq!(
            ms(&i),
            (
                NOV_23 + (23 * 60 + 10) * MINUTE,
                NOV_23 + (31 * 60 + 10) * MINUTE,
                false
            )
        );
        assert_eq!(i.minutes(), 480.0);
    }

    #[test]
    fn a_date_is_midnight_utc_and_says_so() {
        assert_eq!(interval("2026-11-23", "").map(|i| ms(&i)), Ok((NOV_23, NOV_23, true)));
        assert_eq!(
            interval("2026-11-23T08:00:00Z", "2026-11-24").map(|i| ms(&i)),
            Ok((NOV_23 + 8 * 60 * MINUTE, NOV_23 + 24 * 60 * MINUTE, true))
        );
    }

    #[test]
    fn an_empty_end_is_a_point_sample() {
        let i = interval("2026-11-23T06:30:00-08:00", "").map(|i| ms(&i));
        let at = NOV_23 + (14 * 60 + 30) * MINUTE;
        assert_eq!(i, Ok((at, at, false)));
    }

    #[test]
    fn a_time_needs_an_offset_an_order_and_a_start() {
        let no_offset = interval("2026-11-23T23:10:00", "").err().unwrap_or_default();
        assert!(no_offset.contains("has no UTC offset"), "{no_offset}");
        let garbage = interval("yesterday", "").err().unwrap_or_default();
        assert!(
            garbage.starts_with("start `yesterday` is not a time: write RFC 3339"),
            "{garbage}"
        );
        let bad_end = interval("2026-11-23", "2026-13-01").err().unwrap_or_default();
        assert!(bad_end.starts_with("end `2026-13-01` is not a time"), "{bad_end}");
        assert_eq!(
            interval("2026-11-23T08:00:00Z", "2026-11-23T07:59:00Z")
                .err()
                .as_deref(),
            Some("end `2026-11-23T07:59:00Z` is before start `2026-11-23T08:00:00Z`")
        );
        assert_eq!(interval("", "2026-11-23").err().as_deref(), Some("`start` is empty"));
    }
}
