//! Sign-in for the consent page as the platform offers it: issuing a
//! one-time link for a user (`healthplug login-link`), reading a link
//! without using it (the page a link opens), using it to open a session,
//! finding the session a cookie names, and ending it. The tables, the
//! secrets' format and their hashing are the vault's (`vault/web.rs`).
//!
//! Rules:
//! 1. A link belongs to one existing user, opens at most one session, and
//!    only before its expiry; a session acts for the user of its link and
//!    no one else, until sign-out or its expiry.
//! 2. Issuing, using and ending are audited with the user's ref and the
//!    link's or session's id, never a secret.
//! 3. Looking up a session reads one row and writes nothing.

use std::time::Duration;

use super::Host;
use crate::error::HostError;
use crate::vault::web::{WebKind, parse_secret};
use crate::vault::{UserRecord, now_ms};

/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The longest a sign-in link may be valid.
pub const LINK_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A sign-in link just issued.
#[derive(Clone, Debug)]
pub struct LoginLink {
    /// Its public id (`hpl_` and 8 hex digits).
    pub id: String,
    /// The secret that goes into the URL (shown once).
    pub secret: String,
    /// When it stops working (ms since epoch).
    pub expires_ms: i64,
}

/// Where a sign-in link stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    /// It can be used, by this user.
    Valid(String),
    /// It was used already.
    Used,
    /// Its expiry passed.
    Expired,
    /// No link has this secret.
    Unknown,
}

/// A signed-in browser session.
#[derive(Clone, Debug)]
pub struct WebSession {
    /// Its public id (`hps_` and 8 hex digits).
    pub id: String,
    /// The user it acts for.
    pub user: UserRecord,
    /// The CSRF token every state-changing form of this session carries.
    pub csrf: String,
    /// When it ends.
    pub expires_ms: i64,
}

/// A sign-in that opened a session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The session.
    pub session: WebSession,
    /// The cookie's secret.
    pub secret: String,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Host {
    /// Issues a one-time sign-in link for the existing user `handle`,
    /// valid for `valid` (at most [`LINK_MAX_LIFETIME`]).
    pub fn create_login_link(&self, handle: &str, valid: Duration) -> Result<LoginLink, HostError> {
        if valid.is_zero() || valid > LINK_MAX_LIFETIME {
            return Err(HostError::InvalidRequest(
                "a sign-in link must be valid for more than zero and at most 24 hours".into(),
            ));
        }
        let user = self.user(handle)?;
        let now = now_ms();
        let issued = self
            .vault
            .issue_login_link(&user, now, now.saturating_add(millis(valid)))?;
        Ok(LoginLink {
            id: issued.row.id,
            secret: issued.secret.as_str().to_string(),
            expires_ms: issued.row.expires_ms,
        })
    }

    /// Where the link `secret` stands; nothing is written.
    pub fn login_link_status(&self, secret: &str) -> Result<LinkStatus, HostError> {
        let Some(bytes) = parse_secret(WebKind::Link, secret) else {
            return Ok(LinkStatus::Unknown);
        };
        let found = self.vault.find_web(WebKind::Link, &bytes)?;
        Ok(match found {
            None => LinkStatus::Unknown,
            Some((row, _)) if row.closed_ms.is_some() => LinkStatus::Used,
            Some((row, _)) if !row.open_at(now_ms()) => LinkStatus::Expired,
            Some((_, user)) => LinkStatus::Valid(user.handle),
        })
    }

    /// Uses the link `secret` and opens a session for its user; the link's
    /// status when it cannot be used.
    pub fn sign_in(&self, secret: &str) -> Result<Result<SignedIn, LinkStatus>, HostError> {
        let Some(bytes) = parse_secret(WebKind::Link, secret) else {
            return Ok(Err(LinkStatus::Unknown));
        };
        let now = now_ms();
        let outcome = self
            .vault
            .sign_in(&bytes, now, now.saturating_add(millis(SESSION_LIFETIME)))?;
        Ok(match outcome {
            None => Err(LinkStatus::Unknown),
            Some(Err(row)) if row.closed_ms.is_some() => Err(LinkStatus::Used),
            Some(Err(_)) => Err(LinkStatus::Expired),
            Some(Ok((issued, user))) => Ok(SignedIn {
                session: WebSession {
                    csrf: self.vault.csrf_token(&issued.row.id),
                    id: issued.row.id,
                    user,
                    expires_ms: issued.row.expires_ms,
                },
                secret: issued.secret.as_str().to_string(),
            }),
        })
    }

    /// The open session whose cookie secret is `secret`, if any.
    pub fn web_session(&self, secret: &str) -> Result<Option<WebSession>, HostError> {
        let Some(bytes) = parse_secret(WebKind::Session, secret) else {
            return Ok(None);
        };
        let found = self.vault.find_web(WebKind::Session, &bytes)?;
        Ok(found
            .filter(|(row, _)| row.open_at(now_ms()))
            .map(|(row, user)| WebSession {
                csrf: self.vault.csrf_token(&row.id),
                id: row.id,
                user,
                expires_ms: row.expires_ms,
            }))
    }

    /// Ends `session` (audited); its cookie stops working at once.
    pub fn sign_out(&self, session: &WebSession) -> Result<(), HostError> {
        self.vault.end_session(&session.id, &session.user, now_ms())?;
        Ok(())
    }
}
