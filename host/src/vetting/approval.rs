//! Reviewer approvals: an ed25519 signature binding a plugin's id, version,
//! component sha256 and manifest sha256. `plugin add` refuses a plugin
//! without a valid approval from a trusted reviewer (outside `--dev`), and
//! every load checks it again, so a changed component or manifest, or a
//! reviewer no longer trusted, stops the plugin.

use std::path::Path;

use anyhow::{Context, Result, bail};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The file an approval is written to, beside the manifest.
pub const APPROVAL_FILE: &str = "healthplug.approval";

const FORMAT: &str = "healthplug-approval-v1";

/// A signed approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Always `healthplug-approval-v1`.
    pub format: String,
    /// Plugin id.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// sha256 of the component bytes.
    pub component_sha256: String,
    /// sha256 of the manifest text.
    pub manifest_sha256: String,
    /// The reviewer's public key, `ed25519:<hex>`.
    pub reviewer: String,
    /// When it was signed (RFC 3339).
    pub signed_at: String,
    /// The signature (hex) over the canonical message.
    pub signature: String,
}

/// Why an approval does not let a plugin in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// No approval file.
    #[error("no approval: {0} was not found (a reviewer signs it with `healthplug review sign`)")]
    Missing(String),
    /// The file is not an approval.
    #[error("the approval is malformed: {0}")]
    Malformed(String),
    /// The signature does not verify.
    #[error("the approval's signature is invalid (the approval was altered or forged)")]
    BadSignature,
    /// Signed by a key the platform does not trust.
    #[error("the approval is signed by {0}, which is not a trusted reviewer (`healthplug trust add`)")]
    Untrusted(String),
    /// The component changed since it was signed.
    #[error("the component changed since it was approved: its sha256 is {actual}, the approval covers {approved}")]
    ComponentChanged {
        /// Approved.
        approved: String,
        /// Found.
        actual: String,
    },
    /// The manifest changed since it was signed.
    #[error("the manifest changed since it was approved: its sha256 is {actual}, the approval covers {approved}")]
    ManifestChanged {
        /// Approved.
        approved: String,
        /// Found.
        actual: String,
    },
    /// A `--dev` build may not replace a reviewed plugin.
    #[error(
        "`{plugin}` is installed from a reviewed build (approved by {reviewer}); a --dev build may not replace it (`healthplug plugin remove {plugin}` first, which deletes its users' grants and data)"
    )]
    DevOverReviewed {
        /// The plugin.
        plugin: String,
        /// Who approved the installed build.
        reviewer: String,
    },
    /// The platform does not allow dev installs.
    #[error("this platform does not allow --dev installs (HEALTHPLUG_ALLOW_DEV=0); install a reviewed build")]
    DevDisabled,
    /// The approval is for another plugin or version.
    #[error("the approval is for {approved}, not {actual}")]
    OtherPlugin {
        /// Approved.
        approved: String,
        /// Found.
        actual: String,
    },
}

impl Approval {
    fn message(&self) -> String {
        format!(
            "{FORMAT}\nplugin={}\nversion={}\ncomponent_sha256={}\nmanifest_sha256={}\nsigned_at={}\n",
            self.plugin, self.version, self.component_sha256, self.manifest_sha256, self.signed_at
        )
    }

    /// Parses an approval file's text.
    pub fn parse(text: &str) -> Result<Approval, ApprovalError> {
        let a: Approval = serde_json::from_str(text).map_err(|e| ApprovalError::Malformed(e.to_string()))?;
        if a.format != FORMAT {
            return Err(ApprovalError::Malformed(format!("unknown format `{}`", a.format)));
        }
        Ok(a)
    }

    /// Reads `dir/healthplug.approval` (or the file `path`).
    pub fn load(path: &Path) -> Result<Approval, ApprovalError> {
        let file = if path.is_dir() {
            path.join(APPROVAL_FILE)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|_| ApprovalError::Missing(file.display().to_string()))?;
        Approval::parse(&text)
    }

    /// Checks the signature, that the reviewer is trusted, and that it
    /// covers exactly this plugin, version, component and manifest.
    pub fn verify(
        &self,
        trusted: &[String],
        plugin: &str,
        version: &str,
        component_sha256: &str,
        manifest_sha256: &str,
    ) -> Result<(), ApprovalError> {
        let key = parse_public_key(&self.reviewer).map_err(|e| ApprovalError::Malformed(e.to_string()))?;
        let sig_bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ApprovalError::Malformed("the signature is not 64 bytes of hex".into()))?;
        key.verify(self.message().as_bytes(), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| ApprovalError::BadSignature)?;
        if !trusted.contains(&self.reviewer) {
            return Err(ApprovalError::Untrusted(self.reviewer.clone()));
        }
        if self.plugin != plugin || self.version != version {
            return Err(ApprovalError::OtherPlugin {
                approved: format!("{} {}", self.plugin, self.version),
                actual: format!("{plugin} {version}"),
            });
        }
        if self.component_sha256 != component_sha256 {
            return Err(ApprovalError::ComponentChanged {
                approved: self.component_sha256.clone(),
                actual: component_sha256.to_string(),
            });
        }
        if self.manifest_sha256 != manifest_sha256 {
            return Err(ApprovalError::ManifestChanged {
                approved: self.manifest_sha256.clone(),
                actual: manifest_sha256.to_string(),
            });
        }
        Ok(())
    }
}

/// A reviewer's signing key.
pub struct ReviewerKey(SigningKey);

impl ReviewerKey {
    /// A fresh key.
    pub fn generate() -> Result<ReviewerKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        Ok(ReviewerKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads a key file (64 hex digits).
    pub fn load(path: &Path) -> Result<ReviewerKey> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading the key {}", path.display()))?,
        );
        let bytes = Zeroizing::new(hex::decode(text.trim()).context("the key file is not hexadecimal")?);
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .context("the key file must hold 32 bytes (64 hex digits)")?;
        Ok(ReviewerKey(SigningKey::from_bytes(&seed)))
    }

    /// Writes the key file, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        if path.exists() {
            bail!("{} already exists; not overwriting a key", path.display());
        }
        let text = Zeroizing::new(hex::encode(self.0.to_bytes()));
        crate::vault::write_private_file(path, text.as_bytes())
    }

    /// The public key, `ed25519:<hex>`.
    pub fn public(&self) -> String {
        format!("ed25519:{}", hex::encode(self.0.verifying_key().to_bytes()))
    }

    /// Signs an approval of a plugin.
    pub fn approve(&self, plugin: &str, version: &str, component_sha256: &str, manifest_sha256: &str) -> Approval {
        let mut a = Approval {
            format: FORMAT.into(),
            plugin: plugin.into(),
            version: version.into(),
            component_sha256: component_sha256.into(),
            manifest_sha256: manifest_sha256.into(),
            reviewer: self.public(),
            signed_at: jiff::Timestamp::now().to_string(),
            signature: String::new(),
        };
        a.signature = hex::encode(self.0.sign(a.message().as_bytes()).to_bytes());
        a
    }
}

/// Parses `ed25519:<hex>` (or bare hex) into a verifying key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey> {
    let hex_part = text.trim().strip_prefix("ed25519:").unwrap_or(text.trim());
    let bytes: [u8; 32] = hex::decode(hex_part)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("a reviewer key is `ed25519:` followed by 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).context("not a valid ed25519 public key")
}

/// The canonical form of a public key text.
pub fn normalize_public_key(text: &str) -> Result<String> {
    let key = parse_public_key(text)?;
    Ok(format!("ed25519:{}", hex::encode(key.to_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_every_refusal() {
        let key = ReviewerKey::generate().unwrap();
        let other = ReviewerKey::generate().unwrap();
        let a = key.approve("p", "1.0.0", "c".repeat(64).as_str(), "m".repeat(64).as_str());
        let trusted = vec![key.public()];
        let (c, m) = ("c".repeat(64), "m".repeat(64));
        assert_eq!(a.verify(&trusted, "p", "1.0.0", &c, &m), Ok(()));
        assert!(matches!(
            a.verify(&[other.public()], "p", "1.0.0", &c, &m),
            Err(ApprovalError::Untrusted(_))
        ));
        assert!(matches!(
            a.verify(&trusted, "p", "1.0.0", &"d".repeat(64), &m),
            Err(ApprovalError::ComponentChanged { .. })
        ));
        assert!(matches!(
            a.verify(&trusted, "p", "1.0.0", &c, &"n".repeat(64)),
            Err(ApprovalError::ManifestChanged { .. })
        ));
        assert!(matches!(
            a.verify(&trusted, "p", "2.0.0", &c, &m),
            Err(ApprovalError::OtherPlugin { .. })
        ));
        let mut forged = a.clone();
        forged.component_sha256 = "d".repeat(64);
        assert_eq!(
            forged.verify(&trusted, "p", "1.0.0", &"d".repeat(64), &m),
            Err(ApprovalError::BadSignature)
        );
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(Approval::parse(&text).unwrap(), a);
        assert!(matches!(Approval::parse("{}"), Err(ApprovalError::Malformed(_))));
        assert_eq!(normalize_public_key(&key.public()).unwrap(), key.public());
    }
}
