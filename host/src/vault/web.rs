//! The consent page's credentials: one-time sign-in links
//! (`healthplug login-link`) and the browser sessions they open. This
//! module owns the `web_login_links` and `web_sessions` tables, the format
//! of their secrets, how a secret is hashed, and the CSRF token of a
//! session; what a page may do with a session is the web layer's.
//!
//! Both are built like access tokens (`tokens.rs`): a public id (`hpl_` or
//! `hps_` and 8 hex digits, written to the audit log) and a secret (`hpl_`
//! or `hps_`, then 32 random bytes in unpadded base64url) that exists only
//! in the link or the cookie. A row stores the HMAC-SHA256 of the secret's
//! bytes under a key derived from the master key ("healthplug web secret
//! v1"), with the kind in the hashed message so a link's secret can never
//! be looked up as a session's. Every row carries a MAC over all its
//! columns (`rowmac.rs`) and names its user twice (`user_id` and the
//! user's `ref`), so an edited, planted or re-pointed row is refused.
//!
//! A link is consumed in the same transaction that opens its session: the
//! `UPDATE` that sets `closed_ms` only matches an unused row, so two
//! concurrent sign-ins with one link open one session. A session ends when
//! `closed_ms` is set (sign-out) or its expiry passes.
//!
//! The CSRF token of a session is the HMAC of its id under another derived
//! key ("healthplug web csrf v1"): stable for the session, unguessable
//! without the master key, and never the same for two sessions.

use anyhow::{Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::rowmac::{IntegrityError, LOGIN_LINKS, MacTable, WEB_SESSIONS};
use super::{AuditEvent, AuditKind, Store, UserRecord, Vault};

/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// Which of the two credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebKind {
    /// A one-time sign-in link.
    Link,
    /// A browser session.
    Session,
}

impl WebKind {
    /// What its ids and secrets start with.
    pub fn prefix(self) -> &'static str {
        match self {
            WebKind::Link => "hpl_",
            WebKind::Session => "hps_",
        }
    }

    pub(super) fn table(self) -> &'static MacTable {
        match self {
            WebKind::Link => &LOGIN_LINKS,
            WebKind::Session => &WEB_SESSIONS,
        }
    }

    fn label(self) -> &'static [u8] {
        match self {
            WebKind::Link => b"healthplug login link v1\0",
            WebKind::Session => b"healthplug web session v1\0",
        }
    }
}

/// A link or session row, checked against its MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebRow {
    /// `hpl_`/`hps_` and 8 hex digits.
    pub id: String,
    /// When issued (ms since epoch).
    pub created_ms: i64,
    /// When it stops working.
    pub expires_ms: i64,
    /// When the link was used or the session ended.
    pub closed_ms: Option<i64>,
}

impl WebRow {
    /// Whether it still works at `now_ms`.
    pub fn open_at(&self, now_ms: i64) -> bool {
        self.closed_ms.is_none() && now_ms < self.expires_ms
    }
}

/// The 32 bytes of a well-formed secret of `kind`, or `None`.
pub(crate) fn parse_secret(kind: WebKind, text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = text.strip_prefix(kind.prefix())?;
    if body.len() != 43 {
        return None;
    }
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).ok()?);
    (bytes.len() == SECRET_BYTES).then_some(bytes)
}

fn random(n: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no system randomness: {e}"))?;
    Ok(bytes)
}

pub(super) fn row_name(kind: WebKind, id: &str) -> String {
    format!("{}({id})", kind.table().name)
}

fn time_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

/// A new secret of `kind` and a fresh id.
fn fresh(store: &dyn Store, kind: WebKind) -> Result<(String, Zeroizing<Vec<u8>>)> {
    for _ in 0..16 {
        let id = format!("{}{}", kind.prefix(), hex::encode(random(4)?.as_slice()));
        if !store.web_id_taken(kind, &id)? {
            return Ok((id, random(SECRET_BYTES)?));
        }
    }
    Err(anyhow!("no free {} id after 16 tries", kind.table().name))
}

/// A link or session row to insert.
pub struct WebInsert<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: i64,
    pub(crate) user_ref: &'a [u8],
    pub(crate) secret_hash: &'a [u8],
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: i64,
}

/// What a secret found, its MAC checked: its row and the columns of the
/// user row it points to.
pub struct WebHit {
    pub(crate) row: WebRow,
    pub(crate) user_id: i64,
    pub(crate) row_ref: Vec<u8>,
    pub(crate) user_ref: Vec<u8>,
    pub(crate) sealed_handle: Vec<u8>,
    pub(crate) user_created_ms: i64,
}

/// A newly issued secret.
pub(crate) struct Issued {
    /// Its row.
    pub row: WebRow,
    /// The secret text (`hpl_…`/`hps_…`): in the link or cookie only.
    pub secret: Zeroizing<String>,
}

impl Vault {
    fn web_hash(&self, kind: WebKind, secret: &[u8]) -> [u8; 32] {
        let mut message = kind.label().to_vec();
        message.extend_from_slice(secret);
        self.keys().web.mac(&message)
    }

    /// Writes a new row of `kind` for `user` inside `tx` (audited).
    fn issue_in(
        &self,
        tx: &dyn Store,
        kind: WebKind,
        user: &UserRecord,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Issued> {
        let (id, secret) = fresh(tx, kind)?;
        let hash = self.web_hash(kind, &secret);
        tx.insert_web(
            kind,
            &WebInsert {
                id: &id,
                user_id: user.id,
                user_ref: self.ref_bytes(&user.handle).as_slice(),
                secret_hash: hash.as_slice(),
                created_ms: now_ms,
                expires_ms,
            },
        )?;
        let what = match kind {
            WebKind::Link => "login link issued",
            WebKind::Session => "signed in",
        };
        tx.audit_append(
            &AuditEvent::new(AuditKind::Session)
                .user(&user.user_ref)
                .outcome(what)
                .detail(format!("{id}, expires {}", time_text(expires_ms))),
        )?;
        let text = Zeroizing::new(format!(
            "{}{}",
            kind.prefix(),
            URL_SAFE_NO_PAD.encode(secret.as_slice())
        ));
        Ok(Issued {
            row: WebRow {
                id,
                created_ms: now_ms,
                expires_ms,
                closed_ms: None,
            },
            secret: text,
        })
    }

    /// Issues a one-time sign-in link for `user` (audited with its id).
    pub(crate) fn issue_login_link(&self, user: &UserRecord, now_ms: i64, expires_ms: i64) -> Result<Issued> {
        self.write(|tx| self.issue_in(tx, WebKind::Link, user, now_ms, expires_ms))
    }

    /// The row and user whose secret of `kind` is `secret`, MAC and user
    /// checked; `None` when no row has it.
    fn find_in(&self, store: &dyn Store, kind: WebKind, secret: &[u8]) -> Result<Option<(WebRow, UserRecord)>> {
        let hash = self.web_hash(kind, secret);
        let Some(hit) = store.web_by_hash(kind, &hash)? else {
            return Ok(None);
        };
        let refused = || IntegrityError {
            row: format!(
                "{} (its user row {} was changed)",
                row_name(kind, &hit.row.id),
                hit.user_id
            ),
        };
        if hit.row_ref != hit.user_ref {
            return Err(refused().into());
        }
        let user = self
            .open_user(hit.user_id, &hit.user_ref, &hit.sealed_handle, hit.user_created_ms)
            .map_err(|_| refused())?;
        Ok(Some((hit.row, user)))
    }

    /// The link or session whose secret is `secret` (its 32 bytes), with
    /// its user, whatever its state. Reads one row; writes nothing.
    pub(crate) fn find_web(&self, kind: WebKind, secret: &[u8]) -> Result<Option<(WebRow, UserRecord)>> {
        self.find_in(&*self.store()?, kind, secret)
    }

    /// Uses the link `secret` at `now_ms` and opens a session until
    /// `session_expires_ms` in one transaction. `Err(row)` (nothing
    /// written) when the link is used or expired; `None` when unknown.
    pub(crate) fn sign_in(
        &self,
        secret: &[u8],
        now_ms: i64,
        session_expires_ms: i64,
    ) -> Result<Option<Result<(Issued, UserRecord), WebRow>>> {
        self.write(|tx| {
            let Some((link, user)) = self.find_in(tx, WebKind::Link, secret)? else {
                return Ok(None);
            };
            if !link.open_at(now_ms) || !tx.close_web(WebKind::Link, &link.id, now_ms)? {
                return Ok(Some(Err(link)));
            }
            tx.audit_append(
                &AuditEvent::new(AuditKind::Session)
                    .user(&user.user_ref)
                    .outcome("login link used")
                    .detail(&link.id),
            )?;
            let session = self.issue_in(tx, WebKind::Session, &user, now_ms, session_expires_ms)?;
            tx.sweep_web(now_ms - KEEP_ENDED_MS)?;
            Ok(Some(Ok((session, user))))
        })
    }

    /// Ends the session `id` at `now_ms` (audited), unless it had ended.
    pub(crate) fn end_session(&self, id: &str, user: &UserRecord, now_ms: i64) -> Result<bool> {
        self.write(|tx| {
            let ended = tx.close_web(WebKind::Session, id, now_ms)?;
            if ended {
                tx.audit_append(
                    &AuditEvent::new(AuditKind::Session)
                        .user(&user.user_ref)
                        .outcome("signed out")
                        .detail(id),
                )?;
            }
            Ok(ended)
        })
    }

    /// The CSRF token of session `id`: base64url of an HMAC of the id.
    pub(crate) fn csrf_token(&self, session_id: &str) -> String {
        let mut message = b"healthplug csrf v1\0".to_vec();
        message.extend_from_slice(session_id.as_bytes());
        URL_SAFE_NO_PAD.encode(self.keys().csrf.mac(&message))
    }
}

/// How long an ended link or session is kept (so a reused link is told
/// "already used" rather than "unknown") before a sign-in deletes it: each
/// sign-in sweeps what ended before that, so the tables hold about a week
/// of rows, not every one ever.
pub(crate) const KEEP_ENDED_MS: i64 = 7 * 86_400_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_one_kind_never_parse_as_the_other() {
        let body = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let link = format!("hpl_{body}");
        assert!(parse_secret(WebKind::Link, &link).is_some());
        assert!(parse_secret(WebKind::Session, &link).is_none());
        for bad in [
            String::new(),
            "hpl_".into(),
            format!("hpl_{}", &body[..42]),
            format!("hpl_{body}="),
            format!("hp_{body}"),
        ] {
            assert!(parse_secret(WebKind::Link, &bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_sign_in_sweeps_what_ended_over_a_week_ago_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let (user, _) = vault.ensure_user("ann").unwrap();
        let now = 100 * 86_400_000;
        let old = now - KEEP_ENDED_MS - 1;
        let stale = vault.issue_login_link(&user, old - 1000, old).unwrap();
        let recent = vault.issue_login_link(&user, now - 2000, now - 1000).unwrap();
        let live = vault.issue_login_link(&user, now, now + 60_000).unwrap();
        let count = |table: &str| -> i64 {
            let conn = vault.sql_for_tests().unwrap();
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count("web_login_links"), 3);
        let secret = parse_secret(WebKind::Link, &live.secret).unwrap();
        let signed = vault.sign_in(&secret, now + 1, now + 3_600_000).unwrap().unwrap();
        assert!(signed.is_ok());
        // The stale link is gone; the recently expired and the used one stay.
        assert_eq!(count("web_login_links"), 2);
        assert_eq!(count("web_sessions"), 1);
        let find = |issued: &Issued| {
            let secret = parse_secret(WebKind::Link, &issued.secret).unwrap();
            vault.find_web(WebKind::Link, &secret).unwrap()
        };
        assert!(find(&stale).is_none());
        assert!(find(&recent).is_some());
    }
}
