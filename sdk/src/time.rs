//! Timestamps: milliseconds since the Unix epoch, UTC, as the host uses.

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// A point in time: milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current time, as the host's (coarse) clock reports it (under
    /// the `testing` feature on a native target, the pinned clock of the
    /// installed `testing::MockHealth`, if any).
    pub fn now() -> Timestamp {
        Timestamp(crate::host::now_ms())
    }

    /// This time moved back by `days` days.
    pub fn days_before(self, days: u32) -> Timestamp {
        Timestamp(self.0.saturating_sub(i64::from(days) * DAY_MS))
    }

    /// Midnight (UTC) at the start of this timestamp's day.
    pub fn start_of_day(self) -> Timestamp {
        Timestamp(self.0.div_euclid(DAY_MS) * DAY_MS)
    }

    /// Days since the Unix epoch (UTC), handy as a day key.
    pub fn day_number(self) -> i64 {
        self.0.div_euclid(DAY_MS)
    }

    /// The UTC calendar date as `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.day_number());
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Converts days since the epoch to a (year, month, day) civil date
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if m <= 2 { y + 1 } else { y };
    (year, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Timestamp::from_millis(0).date(), "1970-01-01");
        // 2024-02-29T12:00:00Z
        assert_eq!(Timestamp::from_millis(1_709_208_000_000).date(), "2024-02-29");
        assert_eq!(Timestamp::from_millis(-1).date(), "1969-12-31");
    }
}
