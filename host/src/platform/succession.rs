//! What installing over an installed plugin of the same id means: an
//! update that keeps its users' grants and storage, a new plugin (another
//! publisher key signed a new component) that starts with none, or a
//! refusal (a `--dev` build over a reviewed one). The "publisher key" of an
//! installed plugin is the reviewer key that signed its approval; a dev
//! build has none.

use crate::vault::PluginRecord;
use crate::vetting::{Approval, ApprovalError};

/// How an install relates to the plugin it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Succession {
    /// Nothing of that id was installed.
    Fresh,
    /// The same component, or one signed by the same key (or dev over
    /// dev): users keep their grants, consent versions and storage.
    Update,
    /// A new component signed by another key (or reviewed over dev): a new
    /// plugin; the old grants, consent versions and storage are deleted.
    NewPublisher,
}

/// The key that signed an installed plugin's approval (`None` for a dev
/// build, or an approval that no longer parses).
pub(crate) fn publisher_key(record: &PluginRecord) -> Option<String> {
    if record.dev {
        return None;
    }
    record
        .approval
        .as_deref()
        .and_then(|text| Approval::parse(text).ok())
        .map(|a| a.reviewer)
}

/// Decides what installing a component (`sha256`, signed by `signer`, or a
/// dev build when `signer` is `None`) over `previous` means.
pub(crate) fn succession(
    previous: Option<&PluginRecord>,
    signer: Option<&str>,
    sha256: &str,
) -> Result<Succession, ApprovalError> {
    let Some(previous) = previous else {
        return Ok(Succession::Fresh);
    };
    let installed_key = publisher_key(previous);
    if signer.is_none() && !previous.dev {
        return Err(ApprovalError::DevOverReviewed {
            plugin: previous.id.clone(),
            reviewer: installed_key.unwrap_or_else(|| "an unreadable approval".into()),
        });
    }
    if previous.component_sha256 == sha256 || installed_key.as_deref() == signer {
        Ok(Succession::Update)
    } else {
        Ok(Succession::NewPublisher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vetting::ReviewerKey;

    fn record(dev: bool, sha: &str, approval: Option<&Approval>) -> PluginRecord {
        PluginRecord {
            id: "p".into(),
            version: "1.0.0".into(),
            name: "P".into(),
            publisher: "x".into(),
            world: "plugin".into(),
            manifest: String::new(),
            manifest_sha256: "m".repeat(64),
            component_sha256: sha.into(),
            installed_ms: 0,
            dev,
            approval: approval.and_then(|a| serde_json::to_string(a).ok()),
        }
    }

    #[test]
    fn every_succession() -> anyhow::Result<()> {
        let (k1, k2) = (ReviewerKey::generate()?, ReviewerKey::generate()?);
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let approved = k1.approve("p", "1.0.0", &a, &"m".repeat(64));
        let reviewed = record(false, &a, Some(&approved));
        let dev = record(true, &a, None);
        let (p1, p2) = (k1.public(), k2.public());
        assert_eq!(succession(None, None, &a), Ok(Succession::Fresh));
        assert_eq!(succession(Some(&reviewed), Some(&p1), &b), Ok(Succession::Update));
        assert_eq!(succession(Some(&reviewed), Some(&p2), &a), Ok(Succession::Update));
        assert_eq!(succession(Some(&reviewed), Some(&p2), &b), Ok(Succession::NewPublisher));
        assert_eq!(succession(Some(&dev), None, &b), Ok(Succession::Update));
        assert_eq!(succession(Some(&dev), Some(&p1), &b), Ok(Succession::NewPublisher));
        assert_eq!(succession(Some(&dev), Some(&p1), &a), Ok(Succession::Update));
        assert!(matches!(
            succession(Some(&reviewed), None, &a),
            Err(ApprovalError::DevOverReviewed { reviewer, .. }) if reviewer == p1
        ));
        Ok(())
    }
}
