//! Keys: the master key (from `HEALTHPLUG_MASTER_KEY` or a 0600 key file,
//! generated on first run), keys derived from it, per-user data keys
//! wrapped by it, and the AEAD (XChaCha20-Poly1305) that seals every health
//! value, identifier and free text in the vault.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The environment variable that may hold the master key (64 hex digits).
pub const MASTER_KEY_ENV: &str = "HEALTHPLUG_MASTER_KEY";

/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;

/// A 256-bit secret key, wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; 32]>);

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> Result<SecretKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        Ok(SecretKey(bytes))
    }

    fn from_slice(bytes: &[u8]) -> Result<SecretKey> {
        let array: [u8; 32] = bytes.try_into().context("a key must be 32 bytes")?;
        Ok(SecretKey(Zeroizing::new(array)))
    }

    /// A key derived from this one for a named purpose (HMAC-SHA256).
    pub fn derive(&self, label: &str) -> SecretKey {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.mac(label.as_bytes()));
        SecretKey(out)
    }

    /// The raw bytes of a key derived for a named purpose, for a consumer
    /// that takes key bytes (the component cache's MAC key).
    pub fn derive_bytes(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.mac(label))
    }

    /// HMAC-SHA256 of `data` under this key.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()) else {
            unreachable!("HMAC accepts keys of any length")
        };
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the HMAC-SHA256 of `data` under this key (constant
    /// time).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()) else {
            return false;
        };
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }

    /// Encrypts `plaintext` bound to `aad`; returns nonce ‖ ciphertext.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let ciphertext = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + 16 {
            bail!("sealed data is truncated");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| anyhow::anyhow!("authentication failed: wrong key or tampered data"))?;
        Ok(Zeroizing::new(plain))
    }

    /// Wraps (encrypts) another key under this one.
    pub fn wrap(&self, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        self.seal(key.0.as_ref(), aad)
    }

    /// Unwraps a key wrapped by [`wrap`](Self::wrap).
    pub fn unwrap_key(&self, wrapped: &[u8], aad: &[u8]) -> Result<SecretKey> {
        let plain = self.open(wrapped, aad)?;
        SecretKey::from_slice(&plain)
    }
}

fn parse_hex_key(text: &str, source: &str) -> Result<SecretKey> {
    let text = text.trim();
    let bytes = hex::decode(text).with_context(|| format!("{source} is not hexadecimal"))?;
    if bytes.len() != 32 {
        bail!("{source} must be 64 hex digits (32 bytes), found {} bytes", bytes.len());
    }
    SecretKey::from_slice(&bytes)
}

/// Loads the master key: `HEALTHPLUG_MASTER_KEY` if set, else the key file
/// at `path`, generating it (mode 0600) on first run. The file is opened
/// without following a symbolic link and refused unless it is a regular
/// file owned by this user and private (see `home.rs`).
pub fn load_master_key(path: &Path) -> Result<SecretKey> {
    if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
        return parse_hex_key(&text, MASTER_KEY_ENV);
    }
    match fs::symlink_metadata(path) {
        Ok(_) => {
            let mut file = super::home::open_private(path, "the master key", false)?;
            let mut text = Zeroizing::new(String::new());
            file.read_to_string(&mut text)
                .with_context(|| format!("reading the master key {}", path.display()))?;
            parse_hex_key(&text, &path.display().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate()?;
            let text = Zeroizing::new(hex::encode(key.0.as_ref()));
            write_private_file(path, text.as_bytes())
                .with_context(|| format!("writing the master key {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading the master key {}", path.display())),
    }
}

/// Creates `path` with `bytes`, readable by the owner only.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = super::home::create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = SecretKey::generate().unwrap();
        let sealed = k.seal(b"canary-72.5", b"row-1").unwrap();
        assert_eq!(&k.open(&sealed, b"row-1").unwrap()[..], b"canary-72.5");
        assert!(k.open(&sealed, b"row-2").is_err(), "aad binds the row");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(k.open(&bad, b"row-1").is_err());
        let other = SecretKey::generate().unwrap();
        assert!(other.open(&sealed, b"row-1").is_err());
    }

    #[test]
    fn wrap_and_derive() {
        let master = SecretKey::generate().unwrap();
        let user = SecretKey::generate().unwrap();
        let wrapped = master.wrap(&user, b"u1").unwrap();
        let back = master.unwrap_key(&wrapped, b"u1").unwrap();
        assert_eq!(back.mac(b"x"), user.mac(b"x"));
        assert_ne!(master.derive("a").mac(b"x"), master.derive("b").mac(b"x"));
    }

    #[test]
    fn key_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let k1 = load_master_key(&path).unwrap();
        let k2 = load_master_key(&path).unwrap();
        assert_eq!(k1.mac(b"x"), k2.mac(b"x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
