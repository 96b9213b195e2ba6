//! The consent forms as posted: `application/x-www-form-urlencoded` pairs
//! read into what the platform's grant and revoke take. The parse checks
//! shape only (known types, fields, granularities, numbers, dates); what a
//! plugin may be granted is checked by `Host::grant` alone, so a forged
//! form asking for more than the manifest gets the CLI's refusal.
//!
//! Grant form names: `type` (repeated), and per type `fields.<type>`
//! (repeated), `days.<type>` (a number or `all`), `granularity.<type>`,
//! `write.<type>`; then `until` (`YYYY-MM-DD`, optional), `storage`, and
//! `origin` (repeated). Revoke form: one `what` (`all`, `type:<type>`,
//! `storage`, `network`). No user is ever read from a form.

use crate::consent::{Fields, Granularity};
use crate::platform::GrantRequest;
use crate::registry::DataType;

/// A form that cannot be read, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormError(pub String);

/// The pairs of a form body, in order.
pub fn pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The first value named `name`.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn all<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn bad(message: impl Into<String>) -> FormError {
    FormError(message.into())
}

/// What the grant form asks for one type.
fn type_request(pairs: &[(String, String)], ty: DataType) -> Result<GrantRequest, FormError> {
    let id = ty.id();
    let names = all(pairs, &format!("fields.{id}"));
    let write = first(pairs, &format!("write.{id}")).is_some();
    let fields = if names.is_empty() {
        None
    } else {
        Some(Fields::parse_list(&names.join(",")).map_err(|e| bad(e.to_string()))?)
    };
    let days = match first(pairs, &format!("days.{id}")) {
        None | Some("all") => None,
        Some(text) => match text.parse::<u32>() {
            Ok(0) | Err(_) => return Err(bad(format!("the history of {id} must be a number of days or `all`"))),
            Ok(d) => Some(d),
        },
    };
    let granularity = first(pairs, &format!("granularity.{id}"))
        .map(|g| g.parse::<Granularity>().map_err(bad))
        .transpose()?;
    if fields.is_some_and(Fields::is_empty) || (fields.is_none() && first(pairs, &format!("days.{id}")).is_some()) {
        return Err(bad(format!(
            "choose at least one detail of {} to share, or untick it",
            ty.info().name
        )));
    }
    Ok(GrantRequest {
        types: vec![ty],
        fields,
        days,
        granularity,
        write,
        ..GrantRequest::default()
    })
}

/// `YYYY-MM-DD` as the end of that day in UTC (ms), for `until`.
fn until(text: &str) -> Result<Option<i64>, FormError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        bad(format!(
            "`{}` is not a date (YYYY-MM-DD)",
            crate::text::sanitize_line(text)
        ))
    })?;
    let next = date
        .tomorrow()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
        .map_err(|_| bad("that date is out of range"))?;
    Ok(Some(next.timestamp().as_millisecond()))
}

/// The grant form as the requests to make, one per type (each with the
/// end date), then one for storage and network if either is ticked.
pub fn grant_requests(pairs: &[(String, String)]) -> Result<Vec<GrantRequest>, FormError> {
    let until_ms = until(first(pairs, "until").unwrap_or(""))?;
    let mut out = Vec::new();
    for id in all(pairs, "type") {
        let ty = DataType::from_id(id)
            .ok_or_else(|| bad(format!("`{}` is not a data type", crate::text::sanitize_line(id))))?;
        if out.iter().any(|r: &GrantRequest| r.types == [ty]) {
            continue;
        }
        let mut req = type_request(pairs, ty)?;
        req.until_ms = until_ms;
        out.push(req);
    }
    let storage = first(pairs, "storage").is_some();
    let origins: Vec<String> = all(pairs, "origin").into_iter().map(|o| o.trim().to_string()).collect();
    if storage || !origins.is_empty() {
        out.push(GrantRequest {
            storage,
            network: (!origins.is_empty()).then_some(origins),
            ..GrantRequest::default()
        });
    }
    if out.is_empty() {
        return Err(bad(
            "nothing is ticked: tick a type (or storage or an internet address) to grant it",
        ));
    }
    Ok(out)
}

/// What a revoke button asks to take back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeChoice {
    /// Everything: every type, storage (deleting it) and network.
    All,
    /// One type.
    Type(DataType),
    /// Storage (deleting what the plugin kept).
    Storage,
    /// Network access.
    Network,
}

/// The revoke form.
pub fn revoke_choice(pairs: &[(String, String)]) -> Result<RevokeChoice, FormError> {
    match first(pairs, "what") {
        Some("all") => Ok(RevokeChoice::All),
        Some("storage") => Ok(RevokeChoice::Storage),
        Some("network") => Ok(RevokeChoice::Network),
        Some(other) => other
            .strip_prefix("type:")
            .and_then(DataType::from_id)
            .map(RevokeChoice::Type)
            .ok_or_else(|| bad("that is not something to revoke")),
        None => Err(bad("say what to revoke")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Vec<(String, String)> {
        pairs(text.as_bytes())
    }

    #[test]
    fn a_ticked_type_becomes_one_request_with_its_own_choices() {
        let f = form(
            "csrf=x&type=steps&fields.steps=value&fields.steps=time&days.steps=30&granularity.steps=daily\
             &type=heart-rate&fields.heart-rate=value&days.heart-rate=all&until=2030-01-31",
        );
        let reqs = grant_requests(&f).unwrap();
        assert_eq!(reqs.len(), 2);
        let steps = &reqs[0];
        assert_eq!(steps.types, [DataType::from_id("steps").unwrap()]);
        assert_eq!(steps.fields, Some(Fields::VALUE | Fields::TIME));
        assert_eq!(steps.days, Some(30));
        assert_eq!(steps.granularity, Some(Granularity::Daily));
        assert!(!steps.write && !steps.storage && steps.network.is_none());
        let end: i64 = "2030-02-01T00:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(steps.until_ms, Some(end));
        assert_eq!(reqs[1].days, None);
        assert_eq!(reqs[1].granularity, None);
    }

    #[test]
    fn capabilities_come_as_their_own_request() {
        let reqs = grant_requests(&form("storage=on&origin=https%3A%2F%2Fapi.partner.example")).unwrap();
        assert_eq!(reqs.len(), 1);
        assert!(reqs[0].storage && reqs[0].types.is_empty());
        assert_eq!(
            reqs[0].network.as_deref(),
            Some(&["https://api.partner.example".to_string()][..])
        );
    }

    #[test]
    fn malformed_forms_are_named_and_forged_values_pass_to_the_platform() {
        for (body, says) in [
            ("", "nothing is ticked"),
            ("type=stepz", "not a data type"),
            ("type=steps&days.steps=30", "at least one detail"),
            ("type=steps&fields.steps=value&days.steps=0", "number of days"),
            ("type=steps&fields.steps=value&days.steps=-1", "number of days"),
            ("type=steps&fields.steps=colour", "colour"),
            ("type=steps&fields.steps=value&granularity.steps=weekly", "weekly"),
            ("type=steps&fields.steps=value&until=tomorrow", "not a date"),
        ] {
            let e = grant_requests(&form(body)).unwrap_err();
            assert!(e.0.contains(says), "{body}: {e}");
        }
        // More than a manifest could ask is still well-formed: the
        // platform, not the form, refuses it.
        let forged = grant_requests(&form(
            "type=steps&fields.steps=all&days.steps=100000&granularity.steps=raw",
        ))
        .unwrap();
        assert_eq!(forged[0].fields, Some(Fields::ALL));
        assert_eq!(forged[0].days, Some(100_000));
    }

    #[test]
    fn a_revoke_names_one_thing() {
        assert_eq!(revoke_choice(&form("what=all")), Ok(RevokeChoice::All));
        assert_eq!(
            revoke_choice(&form("what=type%3Asteps")),
            Ok(RevokeChoice::Type(DataType::from_id("steps").unwrap()))
        );
        assert_eq!(revoke_choice(&form("what=network")), Ok(RevokeChoice::Network));
        assert!(revoke_choice(&form("what=type%3Anope")).is_err());
        assert!(revoke_choice(&form("user=alice")).is_err());
    }
}
