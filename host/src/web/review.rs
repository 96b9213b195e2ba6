//! Who vouches for a plugin and what it could do, for the "My plugins"
//! page: the review status (approved by whom and when, or a development
//! build) and the reviewer's risk flags, each as one sentence a user can
//! read.

use super::view::line;
use crate::manifest::Manifest;
use crate::platform::Host;
use crate::vault::PluginRecord;
use crate::vetting::{Approval, ImportCheck, Risk};

/// A risk flag as one sentence a user can read.
pub fn risk_sentence(risk: &Risk, manifest: &Manifest) -> String {
    let hosts = || {
        manifest
            .network
            .as_ref()
            .map(|n| n.allow.iter().map(|o| o.host.clone()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let text = match risk.flag.as_str() {
        "health-reads-with-egress" => format!("It can send data to {}.", hosts()),
        "network-egress" => format!("It can reach {}, but reads none of your health data.", hosts()),
        "clinical-data" => "It reads clinical records (conditions, medications or lab results).".into(),
        "persistent-storage" => {
            "It keeps its own notes between uses; they are deleted when you stop its storage.".into()
        }
        "write-access" => {
            let written: Vec<String> = manifest
                .type_requests()
                .iter()
                .filter(|r| r.write)
                .map(|r| r.data_type.info().name.to_lowercase())
                .collect();
            format!("It can add {} to your records.", written.join(", "))
        }
        "long-history" => "It asks for more than a year of your history.".into(),
        "broad-wildcard" => "It can reach every subdomain of an address, not just one server.".into(),
        "vague-purpose" => "Its stated purpose is vague, so it is hard to know what you agree to.".into(),
        "forbidden-purpose" => "Its stated purpose mentions a use health data may not serve.".into(),
        "free-text-fields" => "It asks for notes or metadata: free text that may hold anything.".into(),
        _ => format!("{}.", risk.message.trim_end_matches('.')),
    };
    line(&text)
}

pub(super) fn review_text(host: &Host, record: &PluginRecord) -> String {
    if record.dev {
        return "Development build: not reviewed".into();
    }
    let Some(approval) = record.approval.as_deref().and_then(|a| Approval::parse(a).ok()) else {
        return "Reviewed".into();
    };
    let name = host
        .vault()
        .reviewers()
        .ok()
        .and_then(|all| all.into_iter().find(|r| r.public_key == approval.reviewer))
        .map_or_else(|| "a trusted reviewer".to_string(), |r| r.name);
    format!(
        "Approved by {} on {}",
        line(&name),
        line(approval.signed_at.get(..10).unwrap_or(&approval.signed_at))
    )
}

pub(super) fn risks(host: &Host, manifest: &Manifest) -> Vec<String> {
    let Ok(loaded) = host.loaded(&manifest.id) else {
        return vec!["It cannot be loaded now, so it cannot run.".into()];
    };
    let mut out: Vec<String> = crate::vetting::report::risks(manifest, &ImportCheck::default(), &loaded.limits)
        .iter()
        .map(|r| risk_sentence(r, manifest))
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn risk_flags_read_as_sentences() {
        let manifest = Manifest::parse(
            "[plugin]\nid = \"sender\"\nname = \"Sender\"\nversion = \"1.0.0\"\npublisher = \"p\"\ncomponent = \"c.wasm\"\n\
             [[read]]\ntypes = [\"steps\"]\npurpose = \"Send your daily step totals to your coach\"\nfields = [\"value\"]\n\
             days = 30\ngranularity = \"daily\"\n\
             [network]\nallow = [\"https://api.partner.example\"]\npurpose = \"Upload the totals to Partner Cloud\"\n",
            Path::new("sender"),
        )
        .unwrap();
        let effective = crate::capabilities::resolve_limits(
            &manifest.limits,
            manifest.storage.as_ref(),
            &crate::runtime::PlatformLimits::default(),
            manifest.world,
        );
        let sentences: Vec<String> = crate::vetting::report::risks(&manifest, &ImportCheck::default(), &effective)
            .iter()
            .map(|r| risk_sentence(r, &manifest))
            .collect();
        assert!(
            sentences.contains(&"It can send data to api.partner.example.".to_string()),
            "{sentences:?}"
        );
    }
}
