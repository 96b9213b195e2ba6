//! Access tokens as the platform offers them: creating one for a user
//! (`healthplug token create`), listing and revoking them, and checking the
//! bearer secret an HTTP request carries (`healthplug serve`). The table,
//! the secret's format and its hashing are the vault's (`vault/tokens.rs`).
//!
//! Rules:
//! 1. A token belongs to one existing user and reaches that user only: the
//!    grant an authentication returns names the user the row was issued to,
//!    and a row edited to name anyone else fails its MAC.
//! 2. A token carries at least one scope ([`Scopes`]); none is
//!    administrative. Creating, listing and revoking tokens is for whoever
//!    runs the CLI on the home, never for a bearer of a token.
//! 3. Creating and revoking are audited with the user's ref and the token
//!    id; the secret and the label never reach the audit log.
//! 4. Authenticating reads one row and writes nothing. A revoked token is
//!    `Revoked` even once past its expiry.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::Host;
use super::records::format_time;
use crate::auth::Scopes;
use crate::error::HostError;
use crate::text::sanitize_line;
use crate::vault::tokens::{NewToken, Revocation, TokenRow, is_token_id, parse_secret};
use crate::vault::{IntegrityError, UserRecord, now_ms};

pub use crate::vault::tokens::{ID_PREFIX, SECRET_PREFIX};

/// The longest label, in characters.
pub const LABEL_MAX: usize = 100;

/// Where a token stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// It authenticates.
    Active,
    /// Its expiry has passed.
    Expired,
    /// It was revoked.
    Revoked,
}

impl TokenStatus {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }

    fn of(revoked_ms: Option<i64>, expires_ms: Option<i64>, now_ms: i64) -> TokenStatus {
        if revoked_ms.is_some() {
            TokenStatus::Revoked
        } else if expires_ms.is_some_and(|e| now_ms >= e) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A token as shown to people: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// `hpt_` and 8 hex digits.
    pub id: String,
    /// The user's handle.
    pub user: String,
    /// What it allows (space-separated in JSON).
    #[serde(serialize_with = "scope_text")]
    pub scopes: Scopes,
    /// The label given at creation (one sanitised line).
    pub label: Option<String>,
    /// When created (ms since epoch).
    pub created_ms: i64,
    /// When it expires (never if `None`).
    pub expires_ms: Option<i64>,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
    /// Where it stands now.
    pub status: TokenStatus,
}

fn scope_text<S: Serializer>(scopes: &Scopes, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(scopes)
}

/// What an authenticated token allows: its user (and no one else) and its
/// scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token's public id (for logs; never the secret).
    pub token_id: String,
    /// The user the token was issued to.
    pub user: UserRecord,
    /// What it allows.
    pub scopes: Scopes,
    /// When it expires (never if `None`).
    pub expires_ms: Option<i64>,
}

/// Why a bearer secret was not accepted. None of these messages repeats
/// the secret.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not the shape of a healthplug secret (`hp_` and 43 base64url
    /// characters).
    #[error("not a healthplug access token")]
    Malformed,
    /// No token has this secret (never issued, or deleted with its user).
    #[error("unknown access token")]
    Unknown,
    /// The token's expiry has passed.
    #[error("access token {token_id} has expired")]
    Expired {
        /// The token's id.
        token_id: String,
    },
    /// The token was revoked.
    #[error("access token {token_id} was revoked")]
    Revoked {
        /// The token's id.
        token_id: String,
    },
    /// The token's row (or its user's) was altered outside healthplug.
    #[error(transparent)]
    Integrity(IntegrityError),
    /// The vault could not be read.
    #[error("the vault could not be read: {0:#}")]
    Storage(#[source] anyhow::Error),
}

impl From<anyhow::Error> for TokenError {
    fn from(e: anyhow::Error) -> TokenError {
        match e.downcast::<IntegrityError>() {
            Ok(integrity) => TokenError::Integrity(integrity),
            Err(e) => TokenError::Storage(e),
        }
    }
}

/// `row` as shown, for the user whose handle is `user`.
fn info(row: TokenRow, user: String, now_ms: i64) -> TokenInfo {
    TokenInfo {
        status: TokenStatus::of(row.revoked_ms, row.expires_ms, now_ms),
        id: row.id,
        user,
        scopes: Scopes::parse_lenient(&row.scopes),
        label: row.label,
        created_ms: row.created_ms,
        expires_ms: row.expires_ms,
        revoked_ms: row.revoked_ms,
    }
}

/// The label to store: trimmed, at most [`LABEL_MAX`] characters, one
/// sanitised line; `None` when empty.
fn clean_label(label: Option<&str>) -> Result<Option<String>, HostError> {
    let Some(text) = label.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > LABEL_MAX {
        return Err(HostError::InvalidRequest(format!(
            "a token label must be at most {LABEL_MAX} characters"
        )));
    }
    Ok(Some(sanitize_line(text).into_owned()))
}

/// When a token created at `created_ms` and valid for `valid` expires.
fn expiry(created_ms: i64, valid: Duration) -> Result<i64, HostError> {
    if valid.is_zero() {
        return Err(HostError::InvalidRequest(
            "a token's lifetime must be longer than zero".into(),
        ));
    }
    i64::try_from(valid.as_millis().max(1))
        .ok()
        .and_then(|ms| created_ms.checked_add(ms))
        .filter(|ms| jiff::Timestamp::from_millisecond(*ms).is_ok())
        .ok_or_else(|| HostError::InvalidRequest("a token's lifetime is too long (use no expiry instead)".into()))
}

impl Host {
    /// Creates a token for the existing user `user_handle`, valid for
    /// `expires` (forever if `None`), allowing `scopes` (at least one),
    /// with an optional `label` (sanitised). Returns the token and its
    /// secret: shown once, stored only as a hash.
    pub fn create_token(
        &self,
        user_handle: &str,
        expires: Option<Duration>,
        scopes: &Scopes,
        label: Option<&str>,
    ) -> Result<(TokenInfo, String), HostError> {
        if scopes.is_empty() {
            return Err(HostError::InvalidRequest(
                "a token needs at least one scope: tools:list, tools:call".into(),
            ));
        }
        let label = clean_label(label)?;
        let user = self.user(user_handle)?;
        let created_ms = now_ms();
        let expires_ms = expires.map(|d| expiry(created_ms, d)).transpose()?;
        let scope_names = scopes.to_string();
        let new = NewToken {
            scopes: &scope_names,
            label: label.as_deref(),
            created_ms,
            expires_ms,
        };
        let (row, secret) = self.vault.create_token(&user, &new)?;
        Ok((info(row, user.handle, created_ms), secret.as_str().to_string()))
    }

    /// The tokens of `user_handle` (every user's when `None`), oldest
    /// first, each row checked against its MAC. Never their secrets.
    pub fn tokens(&self, user_handle: Option<&str>) -> Result<Vec<TokenInfo>, HostError> {
        let (user_id, handles): (Option<i64>, HashMap<i64, String>) = match user_handle {
            Some(handle) => {
                let user = self.user(handle)?;
                (Some(user.id), HashMap::from([(user.id, user.handle)]))
            }
            None => (None, self.users()?.into_iter().map(|u| (u.id, u.handle)).collect()),
        };
        let now = now_ms();
        Ok(self
            .vault
            .tokens(user_id)?
            .into_iter()
            .map(|row| {
                let handle = handles
                    .get(&row.user_id)
                    .cloned()
                    .unwrap_or_else(|| format!("(user #{})", row.user_id));
                info(row, handle, now)
            })
            .collect())
    }

    /// Revokes the token `id` (audited); it stops authenticating at once.
    /// Revoking a token twice is an error saying when it was revoked.
    pub fn revoke_token(&self, id: &str) -> Result<TokenInfo, HostError> {
        if !is_token_id(id) {
            return Err(HostError::InvalidRequest(format!(
                "`{}` is not a token id: ids look like hpt_1a2b3c4d (`healthplug token list` shows them)",
                sanitize_line(id)
            )));
        }
        let now = now_ms();
        let row = match self.vault.revoke_token(id, now)? {
            Revocation::Revoked(row) => row,
            Revocation::Already(row) => {
                let at = row
                    .revoked_ms
                    .map_or_else(String::new, |ms| format!(" at {}", format_time(ms)));
                return Err(HostError::InvalidRequest(format!("token {id} was already revoked{at}")));
            }
            Revocation::Unknown => {
                return Err(HostError::InvalidRequest(format!(
                    "no token {id} (`healthplug token list` shows the tokens)"
                )));
            }
        };
        let handle = self
            .vault
            .user_by_id(row.user_id)?
            .map_or_else(|| format!("(user #{})", row.user_id), |u| u.handle);
        Ok(info(row, handle, now))
    }

    /// Checks a bearer secret: the grant of its token (its user and scopes)
    /// when the token exists, is intact, unrevoked and unexpired. One
    /// indexed query; nothing is written.
    pub fn authenticate_token(&self, secret: &str) -> Result<TokenGrant, TokenError> {
        let bytes = parse_secret(secret).ok_or(TokenError::Malformed)?;
        let (row, user) = self.vault.token_by_secret(&bytes)?.ok_or(TokenError::Unknown)?;
        if row.revoked_ms.is_some() {
            return Err(TokenError::Revoked { token_id: row.id });
        }
        if row.expires_ms.is_some_and(|e| now_ms() >= e) {
            return Err(TokenError::Expired { token_id: row.id });
        }
        Ok(TokenGrant {
            token_id: row.id,
            user,
            scopes: Scopes::parse_lenient(&row.scopes),
            expires_ms: row.expires_ms,
        })
    }
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
