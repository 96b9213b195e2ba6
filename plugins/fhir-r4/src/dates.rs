//! FHIR dates and times: `2012-01-23T09:37:54-05:00`, instants with
//! fractions, and partial dates (`2012-01-23`, `2012-01`, `2012`) taken as
//! the start of that day, month or year in UTC.

use healthplug_sdk::Timestamp;

/// Parses a FHIR `dateTime`, `instant` or `date`.
pub fn parse(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(Timestamp::from_millis(t.as_millisecond()));
    }
    let padded = match text.len() {
        4 => format!("{text}-01-01"),
        7 => format!("{text}-01"),
        _ => text.to_string(),
    };
    let date: jiff::civil::Date = padded.parse().ok()?;
    let zoned = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    Some(Timestamp::from_millis(zoned.timestamp().as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse("2012-01-23T09:37:54-05:00").map(|t| t.millis()),
            Some(1_327_329_474_000)
        );
        assert_eq!(parse("2012-01-23").map(|t| t.date()), Some("2012-01-23".into()));
        assert_eq!(parse("2012-01").map(|t| t.date()), Some("2012-01-01".into()));
        assert_eq!(parse("2012").map(|t| t.date()), Some("2012-01-01".into()));
        assert_eq!(parse("last week"), None);
    }
}
