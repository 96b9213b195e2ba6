//! Peloton's timestamps and their time zones: `2020-04-17 12:29 (PDT)`
//! or `2021-03-02 06:45 (-03)`, a local date-time followed by the zone in
//! parentheses, either an abbreviation (looked up in [`ZONES`]) or a
//! numeric offset (`-05`, `+0530`, `+05:30`).
//!
//! Abbreviations are not unique worldwide. Peloton writes the US meanings
//! (its exports come from US-based systems and most accounts are North
//! American), so the ambiguous ones are read as: `CST`/`CDT` US Central
//! (not China or Cuba), `EST` US Eastern (not the old Australian Eastern),
//! `AST`/`ADT` Atlantic (not Arabia), `BST` British Summer Time (not
//! Bangladesh), `IST` India (not Irish Summer or Israel), `SST` American
//! Samoa (not Singapore). An abbreviation not in the table is refused,
//! never guessed.

use healthplug_sdk::Timestamp;

/// Zone abbreviations Peloton writes, with their offset from UTC in
/// minutes and what they stand for. The README's zone table lists the
/// same (a test checks it).
pub(crate) const ZONES: &[(&str, i32, &str)] = &[
    ("UTC", 0, "Coordinated Universal Time"),
    ("GMT", 0, "Greenwich Mean Time (UK, Ireland, Iceland)"),
    ("UT", 0, "Universal Time"),
    ("Z", 0, "UTC (ISO 8601 \"Zulu\")"),
    ("WET", 0, "Western European Time (Portugal, Canary Islands)"),
    ("WEST", 60, "Western European Summer Time"),
    ("BST", 60, "British Summer Time (not Bangladesh)"),
    ("CET", 60, "Central European Time (Germany, Austria, ...)"),
    ("CEST", 120, "Central European Summer Time"),
    ("EET", 120, "Eastern European Time"),
    ("EEST", 180, "Eastern European Summer Time"),
    ("MSK", 180, "Moscow Time"),
    ("SAST", 120, "South Africa Standard Time"),
    ("IST", 330, "India Standard Time (not Irish Summer or Israel)"),
    ("HKT", 480, "Hong Kong Time"),
    ("SGT", 480, "Singapore Time"),
    ("AWST", 480, "Australian Western Standard Time"),
    ("JST", 540, "Japan Standard Time"),
    ("KST", 540, "Korea Standard Time"),
    ("ACST", 570, "Australian Central Standard Time"),
    ("ACDT", 630, "Australian Central Daylight Time"),
    ("AEST", 600, "Australian Eastern Standard Time"),
    ("AEDT", 660, "Australian Eastern Daylight Time"),
    ("CHST", 600, "Chamorro Standard Time (Guam)"),
    ("NZST", 720, "New Zealand Standard Time"),
    ("NZDT", 780, "New Zealand Daylight Time"),
    ("NST", -210, "Newfoundland Standard Time"),
    ("NDT", -150, "Newfoundland Daylight Time"),
    ("AST", -240, "Atlantic Standard Time (Canada, Puerto Rico; not Arabia)"),
    ("ADT", -180, "Atlantic Daylight Time"),
    ("EST", -300, "US/Canada Eastern Standard Time"),
    ("EDT", -240, "US/Canada Eastern Daylight Time"),
    ("CST", -360, "US/Canada Central Standard Time (not China or Cuba)"),
    ("CDT", -300, "US/Canada Central Daylight Time"),
    ("MST", -420, "US/Canada Mountain Standard Time"),
    ("MDT", -360, "US/Canada Mountain Daylight Time"),
    ("PST", -480, "US/Canada Pacific Standard Time"),
    ("PDT", -420, "US/Canada Pacific Daylight Time"),
    ("AKST", -540, "Alaska Standard Time"),
    ("AKDT", -480, "Alaska Daylight Time"),
    ("HST", -600, "Hawaii Standard Time"),
    ("HDT", -540, "Hawaii-Aleutian Daylight Time"),
    ("SST", -660, "Samoa Standard Time (American Samoa; not Singapore)"),
];

/// The furthest a real zone is from UTC (Kiribati is +14:00).
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

/// The offset from UTC in minutes of `zone`: an abbreviation of [`ZONES`]
/// (any case) or a numeric offset, optionally after `UTC` or `GMT`.
pub(crate) fn offset_minutes(zone: &str) -> Result<i32, String> {
    let zone = zone.trim();
    if let Some((_, minutes, _)) = ZONES.iter().find(|(abbr, _, _)| abbr.eq_ignore_ascii_case(zone)) {
        return Ok(*minutes);
    }
    let numeric = ["UTC", "GMT"]
        .iter()
        .find_map(|p| {
            zone.get(..p.len())
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &zone[p.len()..])
        })
        .unwrap_or(zone);
    numeric_offset(numeric).ok_or_else(|| format!("unknown time zone `{zone}`"))
}

/// `-05`, `+5`, `+0530`, `+530` or `+05:30` in minutes; `None` for
/// anything else or beyond ±14:00.
fn numeric_offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match rest.split_once(':') {
        Some(parts) => parts,
        None if rest.len() <= 2 => (rest, "00"),
        None if rest.len() <= 4 => rest.split_at(rest.len() - 2),
        None => return None,
    };
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes) = (hours.parse::<i32>().ok()?, minutes.parse::<i32>().ok()?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= MAX_OFFSET_MINUTES).then_some(sign * total)
}

/// A Peloton timestamp, `YYYY-MM-DD HH:MM[:SS] (ZONE)`, as a UTC instant.
pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let Some((clock, zone)) = text.strip_suffix(')').and_then(|t| t.rsplit_once('(')) else {
        return Err(format!("timestamp `{text}` has no time zone in parentheses"));
    };
    let clock = clock.trim();
    let local = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|format| jiff::civil::DateTime::strptime(format, clock).ok())
        .or_else(|| clock.parse::<jiff::civil::DateTime>().ok())
        .ok_or_else(|| format!("timestamp `{text}` is not a date and time"))?;
    let minutes = offset_minutes(zone).map_err(|e| format!("timestamp `{text}`: {e}"))?;
    let instant = jiff::tz::Offset::from_seconds(minutes * 60)
        .and_then(|offset| offset.to_timestamp(local))
        .map_err(|e| format!("timestamp `{text}`: {e}"))?;
    Ok(Timestamp::from_millis(instant.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds of a timestamp text, or the error.
    fn ms(text: &str) -> Result<i64, String> {
        parse_timestamp(text).map(Timestamp::millis)
    }

    #[test]
    fn abbreviations_and_numeric_offsets_place_the_same_instant() {
        // 2020-04-17 19:29 UTC.
        let utc = Ok(1_587_151_740_000);
        assert_eq!(ms("2020-04-17 12:29 (PDT)"), utc);
        assert_eq!(ms("2020-04-17 14:29 (-05)"), utc);
        assert_eq!(ms("2020-04-17 14:29 (CDT)"), utc);
        assert_eq!(ms("2020-04-17 19:29 (UTC)"), utc);
        assert_eq!(ms("2020-04-18 00:59 (+0530)"), utc);
        assert_eq!(ms("2020-04-18 00:59 (IST)"), utc);
        assert_eq!(ms("2020-04-18 00:59:00 (+05:30)"), utc);
        assert_eq!(ms(" 2020-04-17 20:29 (bst) "), utc);
        assert_eq!(ms("2020-04-18 05:29 (AEST)"), utc);
        assert_eq!(ms("2020-04-17 21:29 (GMT+2)"), utc);
    }

    #[test]
    fn ambiguous_abbreviations_take_their_us_meaning() {
        assert_eq!(offset_minutes("CST"), Ok(-360));
        assert_eq!(offset_minutes("EST"), Ok(-300));
        assert_eq!(offset_minutes("AST"), Ok(-240));
        assert_eq!(offset_minutes("ChST"), Ok(600));
        assert_eq!(offset_minutes("NST"), Ok(-210));
    }

    #[test]
    fn numeric_offsets_are_bounded() {
        assert_eq!(numeric_offset("-05"), Some(-300));
        assert_eq!(numeric_offset("+0545"), Some(345));
        assert_eq!(numeric_offset("+14"), Some(840));
        assert_eq!(numeric_offset("+15"), None);
        assert_eq!(numeric_offset("+0575"), None);
        assert_eq!(numeric_offset("05"), None);
        assert_eq!(numeric_offset("+05:30:00"), None);
        assert_eq!(numeric_offset("+05:3"), None);
        assert_eq!(numeric_offset("+530"), Some(330));
        assert_eq!(numeric_offset("-03:30"), Some(-210));
        assert_eq!(numeric_offset("+5x"), None);
        assert_eq!(numeric_offset("+"), None);
    }

    #[test]
    fn unknown_zones_and_unreadable_times_say_what_is_wrong() {
        assert_eq!(
            ms("2020-04-17 12:29 (XYZ)").err().as_deref(),
            Some("timestamp `2020-04-17 12:29 (XYZ)`: unknown time zone `XYZ`")
        );
        assert_eq!(
            ms("2020-04-17 12:29").err().as_deref(),
            Some("timestamp `2020-04-17 12:29` has no time zone in parentheses")
        );
        assert_eq!(
            ms("04/17/2020 12:29 (PDT)").err().as_deref(),
            Some("timestamp `04/17/2020 12:29 (PDT)` is not a date and time")
        );
        assert!(ms("2020-02-30 12:29 (PDT)").is_err());
        assert!(ms("").is_err());
    }

    #[test]
    fn abbreviations_are_unique_and_within_bounds() {
        for (i, (abbr, minutes, meaning)) in ZONES.iter().enumerate() {
            assert!(minutes.abs() <= MAX_OFFSET_MINUTES, "{abbr}");
            assert!(
                !meaning.is_empty() && abbr.chars().all(|c| c.is_ascii_uppercase()),
                "{abbr}"
            );
            assert!(!ZONES[..i].iter().any(|(a, _, _)| a == abbr), "{abbr} twice");
        }
    }

    #[test]
    fn the_readme_lists_every_zone() {
        let readme = include_str!("../README.md");
        for &(abbr, minutes, _) in ZONES {
            let sign = if minutes < 0 { '-' } else { '+' };
            let row = format!(
                "| `{abbr}` | {sign}{:02}:{:02} |",
                minutes.abs() / 60,
                minutes.abs() % 60
            );
            assert!(readme.contains(&row), "README has no row `{row}`");
        }
    }
}
