//! What plugins did with one user's data, for that user to read: the audit
//! log's reads, writes, refusals and network requests about them, newest
//! first, filtered by plugin and period, and a summary of what each plugin
//! read; and what the vault holds for them, counted per type and source.
//!
//! Only entries naming the user's own pseudonymous ref are ever returned,
//! and entries carry identifiers and counts only (the audit log never
//! holds a health value), so nothing here can show one user another's
//! data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Host;
use super::records::format_time;
use crate::error::HostError;
use crate::vault::{AuditEntry, AuditKind};

/// Which entries to show.
#[derive(Clone, Debug, Default)]
pub struct ActivityFilter {
    /// Only this plugin's.
    pub plugin: Option<String>,
    /// Only entries at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// At most this many entries (newest first); `None`: all.
    pub limit: Option<usize>,
}

/// One thing a plugin did with the user's data.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ActivityEntry {
    /// Position in the audit log.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// The plugin.
    pub plugin: String,
    /// `read`, `write`, `refused`, `network` or `import`.
    pub kind: &'static str,
    /// The data type, for reads, writes and refusals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The fields read, or for network requests the method and host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// How many samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    /// The purpose the user granted it for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The outcome (`ok`, a refusal reason, an HTTP status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Extra detail (a request's size, the tool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What one plugin read of one type over the period.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReadSummary {
    /// The plugin.
    pub plugin: String,
    /// The data type.
    pub data_type: String,
    /// Reads.
    pub reads: u64,
    /// Samples in all.
    pub samples: u64,
    /// The last read (RFC 3339).
    pub last: String,
}

/// The samples held of one type from one source.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct HoldingCount {
    /// The data type.
    pub data_type: String,
    /// Who wrote them (a connector, a plugin, the demo).
    pub origin: String,
    /// How many.
    pub samples: u64,
    /// The earliest start (RFC 3339).
    pub first: String,
    /// The latest start (RFC 3339).
    pub last: String,
}

/// The kind shown for an audit entry, if it is one a user reads here.
/// Egress per-request entries are shown once each (`sending` is the
/// pre-flight line of a request whose result follows; `summary` repeats
/// the totals).
fn shown_kind(entry: &AuditEntry) -> Option<&'static str> {
    let outcome = entry.event.outcome.as_deref();
    match entry.event.kind {
        AuditKind::Access => Some("read"),
        AuditKind::Write => Some("write"),
        AuditKind::Denial => Some("refused"),
        AuditKind::Import => Some("import"),
        AuditKind::Egress if !matches!(outcome, Some("sending" | "summary")) => Some("network"),
        _ => None,
    }
}

/// `entry` as shown, if it passes `filter`.
pub(crate) fn activity_entry(entry: &AuditEntry, filter: &ActivityFilter) -> Option<ActivityEntry> {
    let kind = shown_kind(entry)?;
    let plugin = entry.event.plugin.clone()?;
    if filter.plugin.as_deref().is_some_and(|p| p != plugin) || filter.since_ms.is_some_and(|s| entry.at < s) {
        return None;
    }
    let e = &entry.event;
    Some(ActivityEntry {
        seq: entry.seq,
        at: format_time(entry.at),
        at_ms: entry.at,
        plugin,
        kind,
        data_type: e.data_type.clone(),
        fields: e.fields.clone(),
        samples: e.count,
        purpose: e.purpose.clone(),
        outcome: e.outcome.clone(),
        detail: e.detail.clone(),
    })
}

/// Per plugin and type: reads, samples, last read (from `entries`, any
/// order).
pub(crate) fn summarize(entries: &[ActivityEntry]) -> Vec<ReadSummary> {
    let mut by: BTreeMap<(String, String), (u64, u64, i64)> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind == "read") {
        let Some(ty) = &e.data_type else { continue };
        let slot = by.entry((e.plugin.clone(), ty.clone())).or_insert((0, 0, i64::MIN));
        slot.0 += 1;
        slot.1 += e.samples.unwrap_or(0);
        slot.2 = slot.2.max(e.at_ms);
    }
    by.into_iter()
        .map(|((plugin, data_type), (reads, samples, last))| ReadSummary {
            plugin,
            data_type,
            reads,
            samples,
            last: format_time(last),
        })
        .collect()
}

impl Host {
    /// What plugins did with `user`'s data, newest first.
    pub fn activity(&self, user: &str, filter: &ActivityFilter) -> Result<Vec<ActivityEntry>, HostError> {
        let user = self.user(user)?;
        let entries = self.audit_log_of_ref(&user.user_ref)?;
        let mut out: Vec<ActivityEntry> = entries.iter().rev().filter_map(|e| activity_entry(e, filter)).collect();
        if let Some(limit) = filter.limit {
            out.truncate(limit);
        }
        Ok(out)
    }

    /// The entries of [`Host::activity`] and what each plugin read in the
    /// whole period of `filter` (its limit cuts the entries only), from
    /// one read of the log.
    pub fn activity_with_summary(
        &self,
        user: &str,
        filter: &ActivityFilter,
    ) -> Result<(Vec<ActivityEntry>, Vec<ReadSummary>), HostError> {
        let all = ActivityFilter {
            limit: None,
            ..filter.clone()
        };
        let mut entries = self.activity(user, &all)?;
        let summary = summarize(&entries);
        if let Some(limit) = filter.limit {
            entries.truncate(limit);
        }
        Ok((entries, summary))
    }

    /// The samples held for `user`, counted per type and origin.
    pub fn holdings(&self, user: &str) -> Result<Vec<HoldingCount>, HostError> {
        let mut by: BTreeMap<(String, String), (u64, String, String)> = BTreeMap::new();
        for r in self.records(user, &[])? {
            let slot = by
                .entry((r.data_type.clone(), r.provenance.origin.clone()))
                .or_insert_with(|| (0, r.start.clone(), r.start.clone()));
            slot.0 += 1;
            if r.start < slot.1 {
                slot.1 = r.start.clone();
            }
            if r.start > slot.2 {
                slot.2 = r.start;
            }
        }
        Ok(by
            .into_iter()
            .map(|((data_type, origin), (samples, first, last))| HoldingCount {
                data_type,
                origin,
                samples,
                first,
                last,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::AuditEvent;

    fn entry(seq: i64, at: i64, event: AuditEvent) -> AuditEntry {
        AuditEntry { seq, at, event }
    }

    fn read(plugin: &str, ty: &str, count: u64) -> AuditEvent {
        let mut e = AuditEvent::new(AuditKind::Access).plugin(plugin, "d").outcome("ok");
        e.data_type = Some(ty.into());
        e.count = Some(count);
        e
    }

    #[test]
    fn only_what_a_user_reads_about_is_shown() {
        let all = ActivityFilter::default();
        assert!(activity_entry(&entry(1, 0, read("a", "steps", 3)), &all).is_some());
        let grant = AuditEvent::new(AuditKind::Grant).plugin("a", "d");
        assert!(activity_entry(&entry(2, 0, grant), &all).is_none());
        let sending = AuditEvent::new(AuditKind::Egress).plugin("a", "d").outcome("sending");
        assert!(activity_entry(&entry(3, 0, sending), &all).is_none());
        let answered = AuditEvent::new(AuditKind::Egress).plugin("a", "d").outcome("200");
        assert_eq!(activity_entry(&entry(4, 0, answered), &all).unwrap().kind, "network");
        let no_plugin = AuditEvent::new(AuditKind::Access);
        assert!(activity_entry(&entry(5, 0, no_plugin), &all).is_none());
    }

    #[test]
    fn filters_by_plugin_and_period() {
        let e = entry(1, 1_000, read("a", "steps", 3));
        let other = ActivityFilter {
            plugin: Some("b".into()),
            ..ActivityFilter::default()
        };
        assert!(activity_entry(&e, &other).is_none());
        let later = ActivityFilter {
            since_ms: Some(1_001),
            ..ActivityFilter::default()
        };
        assert!(activity_entry(&e, &later).is_none());
        let at = ActivityFilter {
            plugin: Some("a".into()),
            since_ms: Some(1_000),
            limit: None,
        };
        assert!(activity_entry(&e, &at).is_some());
    }

    #[test]
    fn summaries_add_reads_and_samples_per_plugin_and_type() {
        let all = ActivityFilter::default();
        let entries: Vec<ActivityEntry> = [
            entry(1, 10, read("a", "steps", 3)),
            entry(2, 30, read("a", "steps", 4)),
            entry(3, 20, read("a", "sleep", 1)),
            entry(4, 40, read("b", "steps", 9)),
        ]
        .iter()
        .filter_map(|e| activity_entry(e, &all))
        .collect();
        let s = summarize(&entries);
        assert_eq!(s.len(), 3);
        let steps = s.iter().find(|r| r.plugin == "a" && r.data_type == "steps").unwrap();
        assert_eq!((steps.reads, steps.samples), (2, 7));
        assert_eq!(steps.last, format_time(30));
    }
}
