//! Access tokens healthplug issues itself (`healthplug token create`), the
//! embedded default credential of `healthplug serve`. This module owns the
//! `access_tokens` table, the format of a token's id and secret, how the
//! secret is hashed, and the lookup by secret; what a token may do and how
//! it is shown is the platform's (`platform/tokens.rs`).
//!
//! A token has a public id, `hpt_` and 8 hex digits (listed, named by a
//! revoke, written to the audit log), and a secret, `hp_` and 32 random
//! bytes (`getrandom`) in unpadded base64url, shown once when the token is
//! created. The prefixes let secret scanners recognise a leaked secret and
//! keep an id from ever parsing as a secret.
//!
//! The secret is never stored. The row holds `secret_hash`, the
//! HMAC-SHA256 of the secret's 32 bytes under a key derived from the master
//! key ("healthplug access token v1"), not a plain sha256. 256 random bits
//! need no slow hash and either is one-way, but with the HMAC a copy of
//! `vault.db` (a backup, a synced folder) cannot confirm whether a string
//! seen elsewhere (a log, a paste) is a live token of this vault, and
//! someone who can write the file cannot compute the hash of a secret of
//! their own to plant a row. It costs the same one hash per lookup.
//!
//! A lookup is one indexed query (`secret_hash` is UNIQUE) joining the
//! token to its user, and it never writes (there is no last-used time): it
//! runs on every request. Its timing depends on the HMAC, which says
//! nothing usable about the secret; the hash found is then compared again
//! in constant time, as is the row's MAC.
//!
//! Every row carries a MAC (`rowmac.rs`) over all its columns, checked on
//! every read, so a row whose user, scopes, expiry or revocation was edited
//! in the file, or one planted there, is refused with [`IntegrityError`].
//! The row also holds its user's ref (`users.ref`, under the MAC) and a
//! lookup refuses a token whose user row does not have that ref, so
//! renumbering `users` cannot hand a token to someone else either; the
//! handle is unsealed with that ref as associated data. Token rows are
//! never MACed by a schema upgrade (`rowmac::TOKENS` is not in `ALL`).
//!
//! The optional label is the user's text: one sanitised line, sealed with
//! the user's key (bound to the token id), never in the audit log. Erasing
//! a user deletes their tokens (`users.rs`; `ON DELETE CASCADE` too).
//!
//! Not covered, as for consents: someone who kept a copy of a row from
//! before it was revoked and writes it back whole restores a row with a
//! valid MAC; only the audit log, anchored outside the file, records the
//! revocation.

use anyhow::{Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::rowmac::IntegrityError;
use super::users::ref_text;
use super::{AuditEvent, AuditKind, Store, UserRecord, Vault};

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "hp_";
/// What every token id starts with.
pub const ID_PREFIX: &str = "hpt_";
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;
/// Random bytes in an id (8 hex digits).
const ID_BYTES: usize = 4;

/// A token row, checked against its MAC (the label unsealed, when read
/// with it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// `hpt_` and 8 hex digits.
    pub id: String,
    /// The user's row id.
    pub user_id: i64,
    /// Space-separated scope names.
    pub scopes: String,
    /// The label, sanitised by the platform.
    pub label: Option<String>,
    /// When created (ms since epoch).
    pub created_ms: i64,
    /// When it expires (never if `None`).
    pub expires_ms: Option<i64>,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
}

/// A token to create for a user.
pub(crate) struct NewToken<'a> {
    /// Space-separated scope names.
    pub scopes: &'a str,
    /// The label, already sanitised.
    pub label: Option<&'a str>,
    /// Now.
    pub created_ms: i64,
    /// When it expires (never if `None`).
    pub expires_ms: Option<i64>,
}

/// What revoking a token did.
pub(crate) enum Revocation {
    /// Revoked now.
    Revoked(TokenRow),
    /// It had been revoked before: nothing changed.
    Already(TokenRow),
    /// No token has that id.
    Unknown,
}

/// Whether `text` has the shape of a token id.
pub fn is_token_id(text: &str) -> bool {
    text.strip_prefix(ID_PREFIX).is_some_and(|hex| {
        hex.len() == 2 * ID_BYTES && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The 32 bytes of a well-formed secret (`hp_` and exactly 43 canonical
/// base64url characters), or `None`.
pub(crate) fn parse_secret(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = text.strip_prefix(SECRET_PREFIX)?;
    if body.len() != 43 {
        return None;
    }
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).ok()?);
    (bytes.len() == SECRET_BYTES).then_some(bytes)
}

/// How a token row is named in errors.
pub(super) fn row_name(id: &str) -> String {
    format!("access_tokens(token {id})")
}

/// The associated data a label is sealed with.
fn label_aad(id: &str) -> Vec<u8> {
    format!("healthplug token label v1\0{id}").into_bytes()
}

/// `n` random bytes.
fn random(n: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no system randomness: {e}"))?;
    Ok(bytes)
}

/// A row as stored, its MAC checked: its label still sealed, and the ref
/// of the user it was issued to.
pub struct StoredToken {
    pub(crate) token: TokenRow,
    pub(crate) sealed_label: Option<Vec<u8>>,
    pub(crate) user_ref: Vec<u8>,
}

/// A token found by its secret's hash, its MAC checked, with the columns
/// of the user row it points to.
pub struct TokenHit {
    pub(crate) token: TokenRow,
    pub(crate) secret_hash: Vec<u8>,
    pub(crate) token_ref: Vec<u8>,
    pub(crate) user_ref: Vec<u8>,
    pub(crate) sealed_handle: Vec<u8>,
    pub(crate) user_created_ms: i64,
}

/// A row to insert.
pub struct TokenInsert<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: i64,
    pub(crate) user_ref: &'a [u8],
    pub(crate) secret_hash: &'a [u8],
    pub(crate) scopes: &'a str,
    pub(crate) sealed_label: Option<&'a [u8]>,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: Option<i64>,
}

/// An id no token has yet (ids are 32 random bits: a clash is rare, and
/// retried).
fn fresh_id(store: &dyn Store) -> Result<String> {
    for _ in 0..16 {
        let id = format!("{ID_PREFIX}{}", hex::encode(random(ID_BYTES)?.as_slice()));
        if !store.token_id_taken(&id)? {
            return Ok(id);
        }
    }
    Err(anyhow!("no free token id after 16 tries"))
}

impl Vault {
    /// Creates a token for `user`: writes its row (MACed) and an audit
    /// entry naming the token id, never the secret. Returns the row and
    /// the secret, which exists nowhere else.
    pub(crate) fn create_token(&self, user: &UserRecord, new: &NewToken<'_>) -> Result<(TokenRow, Zeroizing<String>)> {
        let secret = random(SECRET_BYTES)?;
        let hash = self.keys().token.mac(&secret);
        let user_key = self.user_key(user.id)?;
        let ref_bytes = self.ref_bytes(&user.handle);
        let row = self.write(|tx| {
            let id = fresh_id(tx)?;
            let label = new
                .label
                .map(|l| user_key.seal(l.as_bytes(), &label_aad(&id)))
                .transpose()?;
            tx.insert_token(&TokenInsert {
                id: &id,
                user_id: user.id,
                user_ref: ref_bytes.as_slice(),
                secret_hash: hash.as_slice(),
                scopes: new.scopes,
                sealed_label: label.as_deref(),
                created_ms: new.created_ms,
                expires_ms: new.expires_ms,
            })?;
            let expires = new.expires_ms.map_or_else(|| "never".to_string(), time_text);
            tx.audit_append(
                &AuditEvent::new(AuditKind::Token)
                    .user(&user.user_ref)
                    .outcome("created")
                    .detail(format!("{id}, scopes {}, expires {expires}", new.scopes)),
            )?;
            Ok(TokenRow {
                id,
                user_id: user.id,
                scopes: new.scopes.to_string(),
                label: new.label.map(str::to_string),
                created_ms: new.created_ms,
                expires_ms: new.expires_ms,
                revoked_ms: None,
            })
        })?;
        let text = Zeroizing::new(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret.as_slice())));
        Ok((row, text))
    }

    /// The tokens of user `user_id` (every user's when `None`), oldest
    /// first, each checked against its MAC, labels unsealed.
    pub(crate) fn tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenRow>> {
        let mut out = Vec::new();
        for stored in self.store()?.token_rows(user_id)? {
            let mut token = stored.token;
            token.label = self.open_label(&token, stored.sealed_label.as_deref())?;
            out.push(token);
        }
        Ok(out)
    }

    /// Revokes the token `id` at `now_ms` (audited), unless it was already.
    pub(crate) fn revoke_token(&self, id: &str, now_ms: i64) -> Result<Revocation> {
        let done = self.write(|tx| {
            let Some(mut stored) = tx.token_row(id)? else {
                return Ok(None);
            };
            if stored.token.revoked_ms.is_some() {
                return Ok(Some((stored, false)));
            }
            tx.set_token_revoked(id, now_ms)?;
            stored.token.revoked_ms = Some(now_ms);
            tx.audit_append(
                &AuditEvent::new(AuditKind::Token)
                    .user(&ref_text(&stored.user_ref))
                    .outcome("revoked")
                    .detail(id),
            )?;
            Ok(Some((stored, true)))
        })?;
        let Some((stored, now)) = done else {
            return Ok(Revocation::Unknown);
        };
        let mut token = stored.token;
        token.label = self.open_label(&token, stored.sealed_label.as_deref())?;
        Ok(if now {
            Revocation::Revoked(token)
        } else {
            Revocation::Already(token)
        })
    }

    /// The token whose secret is `secret` (its 32 bytes), with its user:
    /// one indexed query, no write. `None` when no token has that secret
    /// (or its user is gone); an [`IntegrityError`] when the row fails its
    /// MAC or its user row is not the one it was issued to. The label is
    /// not read.
    pub(crate) fn token_by_secret(&self, secret: &[u8]) -> Result<Option<(TokenRow, UserRecord)>> {
        let hash = self.keys().token.mac(secret);
        let hit = self.store()?.token_by_hash(&hash)?;
        let Some(hit) = hit else { return Ok(None) };
        if !self.keys().token.verify(secret, &hit.secret_hash) {
            return Ok(None);
        }
        let refused = || IntegrityError {
            row: format!(
                "{} (its user row {} was changed)",
                row_name(&hit.token.id),
                hit.token.user_id
            ),
        };
        if hit.token_ref != hit.user_ref {
            return Err(refused().into());
        }
        let user = self
            .open_user(
                hit.token.user_id,
                &hit.user_ref,
                &hit.sealed_handle,
                hit.user_created_ms,
            )
            .map_err(|_| refused())?;
        Ok(Some((hit.token, user)))
    }

    /// Unseals a token's label.
    fn open_label(&self, token: &TokenRow, sealed: Option<&[u8]>) -> Result<Option<String>> {
        let Some(sealed) = sealed else { return Ok(None) };
        let plain = self.user_key(token.user_id)?.open(sealed, &label_aad(&token.id))?;
        Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
    }
}

/// A time for the audit log (RFC 3339, UTC).
fn time_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_has_one_spelling() {
        let body = URL_SAFE_NO_PAD.encode([7u8; 32]);
        assert_eq!(body.len(), 43);
        let good = format!("hp_{body}");
        assert_eq!(
            parse_secret(&good).as_deref().map(Vec::as_slice),
            Some([7u8; 32].as_slice())
        );
        // The last character carries the last 4 bits and 2 spare ones:
        // `c` (011100) is canonical, `d` (011101) decodes to the same bytes.
        assert!(body.ends_with('c'), "{body}");
        let twin = format!("hp_{}d", &body[..42]);
        for bad in [
            String::new(),
            "hp_".into(),
            body.clone(),
            format!("HP_{body}"),
            format!("hpt_{body}"),
            format!("hp_{body}="),
            format!("hp_{}", &body[..42]),
            format!("hp_{body}A"),
            format!(" hp_{body}"),
            format!("hp_{}+", &body[..42]),
            twin,
        ] {
            assert!(parse_secret(&bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn ids_are_recognised() {
        assert!(is_token_id("hpt_0123abcd"));
        for bad in [
            "hpt_0123ABCD",
            "hpt_0123abc",
            "hpt_0123abcde",
            "hp_0123abcd",
            "hpt_0123abcg",
            "",
        ] {
            assert!(!is_token_id(bad), "{bad}");
        }
    }
}
