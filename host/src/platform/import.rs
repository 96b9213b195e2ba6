//! Importing a partner's export through a connector: the file is streamed
//! into the sandbox, the connector writes what it maps (checked against the
//! user's write grants), and the whole import is committed only when it
//! succeeds. The report joins what the connector saw (records read, skipped
//! by reason, malformed by line) and what the host stored.

use std::path::Path;

use serde::Serialize;

use super::Host;
use super::install::WorldPre;
use crate::bindings::healthplug::plugin::types::{Error as WitError, IngestError, IngestReport};
use crate::capabilities::SourceFile;
use crate::capabilities::{Outcome, run};
use crate::error::HostError;
use crate::vault::{AuditEvent, AuditKind};

/// Samples stored for one type.
#[derive(Clone, Debug, Serialize)]
pub struct TypeCount {
    /// Registry type id.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Samples.
    pub count: u64,
}

/// Records skipped for one reason.
#[derive(Clone, Debug, Serialize)]
pub struct SkipCount {
    /// Why.
    pub reason: String,
    /// How many.
    pub count: u32,
}

/// A malformed record.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// 1-based line.
    pub line: u32,
    /// What is wrong.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    /// Connector id.
    pub connector: String,
    /// Connector version.
    pub version: String,
    /// Installed with `--dev`.
    pub dev: bool,
    /// The file's name.
    pub file: String,
    /// The file's size, bytes.
    pub bytes: u64,
    /// New samples stored, per type.
    pub imported: Vec<TypeCount>,
    /// New samples stored in all.
    pub total_imported: u64,
    /// Samples already stored (an earlier import of the same data).
    pub duplicates: u64,
    /// Records the connector read.
    pub records_read: u64,
    /// Records skipped on purpose, by reason.
    pub skipped: Vec<SkipCount>,
    /// Malformed records (the first 100), with line numbers.
    pub problems: Vec<Problem>,
    /// Malformed records in all.
    pub problems_total: u32,
    /// Wall time, ms.
    pub elapsed_ms: f64,
    /// Samples written per second.
    pub samples_per_second: f64,
    /// The connector's peak linear memory, bytes.
    pub guest_peak_memory_bytes: u64,
    /// This process's peak resident memory so far, bytes (Linux).
    pub host_peak_rss_bytes: Option<u64>,
}

/// The peak resident set size of this process (VmHWM), bytes.
fn host_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The message of an ingest error, and a hint for `user` and `connector`.
fn describe(e: &IngestError, user: &str, connector: &str) -> (String, Option<String>) {
    match e {
        IngestError::WrongFormat(m) => (
            m.clone(),
            Some("check that the file is the export this connector reads (`healthplug plugin info <id>`)".into()),
        ),
        IngestError::InvalidOptions(m) => (m.clone(), None),
        IngestError::ReadFailed(m) => (format!("reading the input failed: {m}"), None),
        IngestError::WriteFailed(WitError::NotGranted(d)) => {
            let ty = crate::capabilities::from_wit_type(d.data_type);
            let reason = crate::capabilities::from_wit_denial_reason(d.reason).id();
            (
                format!("writing {ty} was refused ({reason})"),
                Some(format!(
                    "grant it first: healthplug consent grant {user} {connector} --types {ty} --write"
                )),
            )
        }
        IngestError::WriteFailed(other) => (format!("writing failed: {other:?}"), None),
    }
}

impl Host {
    /// Imports `file` for `user` with `connector`; `options` is a JSON
    /// object of connector options (e.g. `{"patient": "..."}`).
    pub fn import(
        &self,
        user: &str,
        connector: &str,
        file: &Path,
        options: &serde_json::Value,
    ) -> Result<ImportReport, HostError> {
        self.run_connector(user, connector, Some(file), options)
    }

    /// Runs `connector` for `user` with no input file (a connector that
    /// fetches over its granted network, like `cloud-sync`).
    pub fn sync(&self, user: &str, connector: &str, options: &serde_json::Value) -> Result<ImportReport, HostError> {
        self.run_connector(user, connector, None, options)
    }

    fn run_connector(
        &self,
        user: &str,
        connector: &str,
        file: Option<&Path>,
        options: &serde_json::Value,
    ) -> Result<ImportReport, HostError> {
        let loaded = self.loaded(connector)?;
        let WorldPre::Connector(pre) = &loaded.pre else {
            return Err(HostError::InvalidRequest(format!(
                "`{connector}` is not a connector: invoke its tools with `healthplug invoke`"
            )));
        };
        let user = self.user(user)?;
        let (input, name, bytes) = open_input(file)?;
        let (mut call, egress) = self.call_state(&loaded, Some(self.session(&user)?));
        call.input = input;
        let options = options.to_string();
        let outcome: Outcome<Result<IngestReport, IngestError>> = run(self.runtime(), &loaded.limits, call, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance.call_ingest(&mut *store, &options)
        });
        let succeeded = matches!(outcome.value, Ok(Ok(_)));
        let committed = self.finish_invocation(&loaded, &user.user_ref, &outcome.call, egress.as_deref(), succeeded)?;
        let total: u64 = committed.iter().map(|(_, n)| n).sum();
        self.audit_import(
            &loaded,
            &user,
            connector,
            &outcome,
            total,
            &format!("{name}, {bytes} bytes"),
        )?;
        let ingest = match &outcome.value {
            Ok(Ok(report)) => report.clone(),
            Ok(Err(e)) => {
                let (message, hint) = describe(e, &user.handle, connector);
                return Err(HostError::Import {
                    connector: connector.to_string(),
                    message,
                    hint,
                });
            }
            Err(failure) => {
                return Err(HostError::Plugin {
                    plugin: connector.to_string(),
                    failure: failure.clone(),
                });
            }
        };
        // Found at commit (staging never looks at what is stored, so a
        // write's answer and timing cannot tell the plugin either).
        let staged: u64 = outcome.call.health.staged.iter().map(|(_, n)| n).sum();
        let duplicates = if committed.is_empty() {
            0
        } else {
            staged.saturating_sub(total)
        };
        let mut report = import_report(&loaded.record, ingest, &committed, outcome.elapsed.as_secs_f64());
        report.file = name;
        report.bytes = bytes;
        report.duplicates = duplicates;
        report.guest_peak_memory_bytes = outcome.peak_memory as u64;
        Ok(report)
    }

    /// The import's audit entry: outcome, file, size, samples stored.
    fn audit_import(
        &self,
        loaded: &super::LoadedPlugin,
        user: &crate::vault::UserRecord,
        connector: &str,
        outcome: &Outcome<Result<IngestReport, IngestError>>,
        total: u64,
        file: &str,
    ) -> Result<(), HostError> {
        let outcome_text = match &outcome.value {
            Ok(Ok(_)) => "ok".to_string(),
            Ok(Err(e)) => format!("error: {}", describe(e, &user.handle, connector).0),
            Err(f) => f.audit_outcome(),
        };
        let failure = match &outcome.value {
            Err(f) => format!("; {}", f.describe()),
            Ok(_) => String::new(),
        };
        let mut event = AuditEvent::new(AuditKind::Import)
            .user(&user.user_ref)
            .plugin(&loaded.record.id, &loaded.record.component_sha256)
            .outcome(outcome_text)
            .detail(format!(
                "{file}{}{failure}",
                if loaded.record.dev { "; dev" } else { "" }
            ));
        event.count = Some(total);
        self.vault.audit(&event)?;
        Ok(())
    }
}

/// The input file opened for the sandbox, its name and size (none for a
/// connector that fetches).
fn open_input(file: Option<&Path>) -> Result<(Option<SourceFile>, String, u64), HostError> {
    let Some(file) = file else {
        return Ok((None, String::new(), 0));
    };
    let input = SourceFile::open(file)
        .map_err(|e| HostError::InvalidRequest(format!("cannot read {}: {e}", file.display())))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((Some(input), name, std::fs::metadata(file).map(|m| m.len()).unwrap_or(0)))
}

/// The report of a successful import (file, size, duplicates and guest
/// memory are filled in by the caller).
fn import_report(
    record: &crate::vault::PluginRecord,
    report: IngestReport,
    committed: &[(crate::registry::DataType, u64)],
    secs: f64,
) -> ImportReport {
    ImportReport {
        connector: record.id.clone(),
        version: record.version.clone(),
        dev: record.dev,
        file: String::new(),
        bytes: 0,
        imported: committed
            .iter()
            .map(|(ty, count)| TypeCount {
                data_type: ty.id().to_string(),
                count: *count,
            })
            .collect(),
        total_imported: committed.iter().map(|(_, n)| n).sum(),
        duplicates: 0,
        records_read: report.records_read,
        skipped: report
            .skipped
            .into_iter()
            .map(|s| SkipCount {
                reason: crate::runtime::logs::sanitize(&s.reason),
                count: s.count,
            })
            .collect(),
        problems: report
            .problems
            .into_iter()
            .map(|p| Problem {
                line: p.line,
                reason: crate::runtime::logs::sanitize(&p.reason),
            })
            .collect(),
        problems_total: report.problems_total,
        elapsed_ms: secs * 1e3,
        samples_per_second: if secs > 0.0 {
            report.samples_written as f64 / secs
        } else {
            0.0
        },
        guest_peak_memory_bytes: 0,
        host_peak_rss_bytes: host_peak_rss(),
    }
}
