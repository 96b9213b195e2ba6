//! Users: a pseudonymous ref (HMAC of the handle) used everywhere, the
//! handle itself sealed, and a per-user data key wrapped by the master
//! key. Erasing a user deletes the wrapped key with every row: what might
//! survive on disk is unreadable. Ids are never reused (AUTOINCREMENT).

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::keys::SecretKey;
use super::{AuditEvent, AuditKind, Vault, now_ms};

/// A user of the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// Row id (internal).
    #[serde(skip)]
    pub id: i64,
    /// The handle the platform knows the user by.
    pub handle: String,
    /// The pseudonymous ref used in the audit log.
    pub user_ref: String,
    /// When the user was created (ms since epoch).
    pub created_ms: i64,
}

/// What erasing a user removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EraseReport {
    /// Samples deleted.
    pub samples: u64,
    /// Consent rows deleted.
    pub consents: u64,
    /// Plugin storage entries deleted.
    pub storage_entries: u64,
    /// Access tokens deleted.
    pub tokens: u64,
    /// The user's data key was destroyed.
    pub key_destroyed: bool,
}

/// How long erasing waits for readers to let the write-ahead log go.
const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A user key in the in-memory cache, with what it was unwrapped from.
pub(crate) struct CachedKey {
    user_ref: Vec<u8>,
    wrapped: Vec<u8>,
    key: SecretKey,
}

/// Checks a user handle: 1-128 printable characters.
pub fn check_handle(handle: &str) -> Result<()> {
    if handle.is_empty() || handle.chars().count() > 128 {
        bail!("a user id must be 1 to 128 characters");
    }
    if handle.chars().any(char::is_control) {
        bail!("a user id must not contain control characters");
    }
    Ok(())
}

/// A ref (`users.ref`) as printed in the audit log: its first 8 bytes in
/// hex.
pub(super) fn ref_text(ref_bytes: &[u8]) -> String {
    hex::encode(ref_bytes.get(..8).unwrap_or(ref_bytes))
}

/// A user's row as stored: the ref, the sealed handle, when created.
#[derive(Clone, Debug)]
pub struct UserRow {
    /// Row id.
    pub id: i64,
    /// HMAC of the handle.
    pub ref_bytes: Vec<u8>,
    /// The handle, sealed with the ref as associated data.
    pub sealed_handle: Vec<u8>,
    /// When created (ms since epoch).
    pub created_ms: i64,
}

/// The rows an erase deleted, by table.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErasedRows {
    /// Consent rows.
    pub consents: u64,
    /// Access tokens.
    pub tokens: u64,
    /// Plugin storage entries.
    pub storage: u64,
    /// User rows (1 when the user, with their wrapped key, was deleted).
    pub users: u64,
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        ref_bytes: r.get(1)?,
        sealed_handle: r.get(2)?,
        created_ms: r.get(3)?,
    })
}

/// The (id, created) of the user with this ref.
pub(super) fn by_ref(conn: &Connection, ref_bytes: &[u8]) -> Result<Option<(i64, i64)>> {
    Ok(conn
        .query_row(
            "SELECT id, created_ms FROM users WHERE ref = ?1",
            params![ref_bytes],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Inserts a user unless one with this ref exists; (id, inserted).
pub(super) fn insert(
    tx: &Connection,
    ref_bytes: &[u8],
    sealed: &[u8],
    wrapped: &[u8],
    created: i64,
) -> Result<(i64, bool)> {
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO users (ref, handle, wrapped_key, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![ref_bytes, sealed, wrapped, created],
    )?;
    let id: i64 = tx.query_row("SELECT id FROM users WHERE ref = ?1", params![ref_bytes], |r| r.get(0))?;
    Ok((id, inserted == 1))
}

/// Every user row, by id.
pub(super) fn rows(conn: &Connection) -> Result<Vec<UserRow>> {
    let mut stmt = conn.prepare("SELECT id, ref, handle, created_ms FROM users ORDER BY id")?;
    let rows = stmt.query_map([], user_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The row of user `id`.
pub(super) fn row(conn: &Connection, id: i64) -> Result<Option<UserRow>> {
    Ok(conn
        .query_row(
            "SELECT id, ref, handle, created_ms FROM users WHERE id = ?1",
            params![id],
            user_row,
        )
        .optional()?)
}

/// The (ref, wrapped data key) of user `id`.
pub(super) fn wrapped_key(conn: &Connection, id: i64) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(conn
        .query_row("SELECT ref, wrapped_key FROM users WHERE id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Deletes every row about user `id`, the user (and wrapped key) last.
pub(super) fn delete_rows(tx: &Connection, id: i64) -> Result<ErasedRows> {
    tx.execute("DELETE FROM sample_chunks WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM staged_chunks WHERE user_id = ?1", params![id])?;
    let consents = tx.execute("DELETE FROM consents WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM consent_versions WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM capability_grants WHERE user_id = ?1", params![id])?;
    // `ON DELETE CASCADE` would do it too; deleted here to be counted.
    let tokens = tx.execute("DELETE FROM access_tokens WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM web_login_links WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM web_sessions WHERE user_id = ?1", params![id])?;
    let storage = super::storage_sql::delete_all(tx, id, None)?;
    let users = tx.execute("DELETE FROM users WHERE id = ?1", params![id])?;
    Ok(ErasedRows {
        consents: consents as u64,
        tokens: tokens as u64,
        storage,
        users: users as u64,
    })
}

/// Copies the write-ahead log into the database and truncates it, so
/// nothing of erased rows lingers in `vault.db-wal`.
pub(super) fn checkpoint(conn: &Connection, user_ref: &str) -> Result<()> {
    conn.busy_timeout(CHECKPOINT_WAIT)?;
    let checkpoint = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    });
    conn.busy_timeout(super::BUSY_WAIT)?;
    let (busy, log, done): (i64, i64, i64) = checkpoint?;
    if busy != 0 || log != done {
        bail!(
            "user {user_ref} was erased and their key destroyed, but the write-ahead log could not be checkpointed \
             (busy {busy}, {done} of {log} pages copied): copies of the deleted rows may remain in vault.db-wal \
             until the next checkpoint; retry when nothing else is using the vault"
        );
    }
    Ok(())
}

impl Vault {
    pub(super) fn ref_bytes(&self, handle: &str) -> [u8; 32] {
        self.keys().user_ref.mac(handle.as_bytes())
    }

    /// The pseudonymous ref of a handle, as printed in the audit log.
    pub fn user_ref(&self, handle: &str) -> String {
        ref_text(&self.ref_bytes(handle))
    }

    /// The user with this handle, if any.
    pub fn find_user(&self, handle: &str) -> Result<Option<UserRecord>> {
        let row = self.store()?.user_by_ref(&self.ref_bytes(handle))?;
        Ok(row.map(|(id, created_ms)| UserRecord {
            id,
            handle: handle.to_string(),
            user_ref: self.user_ref(handle),
            created_ms,
        }))
    }

    /// The user with this handle, created (with a fresh data key) if new.
    /// Returns whether it was created.
    pub fn ensure_user(&self, handle: &str) -> Result<(UserRecord, bool)> {
        check_handle(handle)?;
        if let Some(user) = self.find_user(handle)? {
            return Ok((user, false));
        }
        let ref_bytes = self.ref_bytes(handle);
        let key = SecretKey::generate()?;
        let wrapped = self.keys().wrap.wrap(&key, &ref_bytes)?;
        let sealed_handle = self.keys().handle.seal(handle.as_bytes(), &ref_bytes)?;
        let created = now_ms();
        let user_ref = self.user_ref(handle);
        let id = self.write(|tx| {
            let (id, inserted) = tx.insert_user(&ref_bytes, &sealed_handle, &wrapped, created)?;
            if inserted {
                tx.audit_append(&AuditEvent::new(AuditKind::User).user(&user_ref).outcome("created"))?;
            }
            Ok(id)
        })?;
        Ok((
            UserRecord {
                id,
                handle: handle.to_string(),
                user_ref,
                created_ms: created,
            },
            true,
        ))
    }

    /// Every user, handles unsealed.
    pub fn list_users(&self) -> Result<Vec<UserRecord>> {
        let rows = self.store()?.user_rows()?;
        rows.iter()
            .map(|r| self.open_user(r.id, &r.ref_bytes, &r.sealed_handle, r.created_ms))
            .collect()
    }

    /// The user with row id `id`, if any, handle unsealed.
    pub(crate) fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        let row = self.store()?.user_row(id)?;
        row.map(|r| self.open_user(id, &r.ref_bytes, &r.sealed_handle, r.created_ms))
            .transpose()
    }

    /// A user from the columns of their row: the handle is unsealed with
    /// the stored ref as associated data, so it is the handle sealed for
    /// that ref.
    pub(super) fn open_user(&self, id: i64, ref_bytes: &[u8], sealed: &[u8], created_ms: i64) -> Result<UserRecord> {
        let plain = self
            .keys()
            .handle
            .open(sealed, ref_bytes)
            .context("unsealing a user handle")?;
        let handle = String::from_utf8(plain.to_vec()).context("a user handle is not UTF-8")?;
        Ok(UserRecord {
            id,
            user_ref: self.user_ref(&handle),
            handle,
            created_ms,
        })
    }

    /// The data key of user `id` (unwrapped once, then cached in memory).
    /// The cache is keyed by the id *and* the user's ref and wrapped key
    /// as stored now, so a key cached for an erased user never serves
    /// another user given the same id.
    pub fn user_key(&self, id: i64) -> Result<SecretKey> {
        let (ref_bytes, wrapped) = self.store()?.user_wrapped_key(id)?.context("no such user (erased?)")?;
        if let Ok(cache) = self.inner.user_keys.lock()
            && let Some(cached) = cache.get(&id)
            && cached.user_ref == ref_bytes
            && cached.wrapped == wrapped
        {
            return Ok(cached.key.clone());
        }
        let key = self
            .keys()
            .wrap
            .unwrap_key(&wrapped, &ref_bytes)
            .context("unwrapping a user key")?;
        if let Ok(mut cache) = self.inner.user_keys.lock() {
            cache.insert(
                id,
                CachedKey {
                    user_ref: ref_bytes,
                    wrapped,
                    key: key.clone(),
                },
            );
        }
        Ok(key)
    }

    /// Erases a user: destroys their key and deletes every row about them.
    pub fn erase_user(&self, user: &UserRecord) -> Result<EraseReport> {
        let key = self.user_key(user.id)?;
        let report = self.write(|tx| {
            let samples: u64 = super::chunks::counts(tx, user.id, &key)?.iter().map(|(_, n)| n).sum();
            let rows = tx.delete_user_rows(user.id)?;
            let report = EraseReport {
                samples,
                consents: rows.consents,
                storage_entries: rows.storage,
                tokens: rows.tokens,
                key_destroyed: rows.users == 1,
            };
            tx.audit_append(
                &AuditEvent::new(AuditKind::Erase)
                    .user(&user.user_ref)
                    .outcome("erased")
                    .detail(format!(
                        "{} samples, {} consents, {} tokens",
                        report.samples, report.consents, report.tokens
                    )),
            )?;
            Ok(report)
        })?;
        if let Ok(mut cache) = self.inner.user_keys.lock() {
            cache.remove(&user.id);
        }
        // Reclaim the freed pages so nothing of the user lingers in the
        // database's files; say so if that did not happen.
        self.store()?.reclaim_erased(&user.user_ref)?;
        Ok(report)
    }
}
