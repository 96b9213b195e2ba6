//! The SQLite side of access tokens (`tokens.rs` owns their format, the
//! secret's hash and the checks): the `access_tokens` statements, every
//! row read with its MAC checked inside SQLite (`rowmac.rs`).

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::rowmac::{self, TOKENS};
use super::tokens::{StoredToken, TokenHit, TokenInsert, TokenRow, row_name};

/// The columns `from_row` reads, then the row's label and MAC check.
const COLUMNS: &str = "id, user_id, scopes, created_ms, expires_ms, revoked_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        scopes: r.get(2)?,
        label: None,
        created_ms: r.get(3)?,
        expires_ms: r.get(4)?,
        revoked_ms: r.get(5)?,
    })
}

/// Reads a row selected as `COLUMNS, label, user_ref, ok`, with whether
/// its MAC is right.
fn checked_row(r: &Row<'_>) -> rusqlite::Result<(StoredToken, bool)> {
    let stored = StoredToken {
        token: from_row(r)?,
        sealed_label: r.get(6)?,
        user_ref: r.get(7)?,
    };
    Ok((stored, r.get(8)?))
}

/// Whether a token has this id.
pub(super) fn id_taken(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM access_tokens WHERE id = ?1")?
        .exists(params![id])?)
}

/// Inserts a token row with its MAC.
pub(super) fn insert(tx: &Connection, t: &TokenInsert<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO access_tokens
           (id, user_id, user_ref, secret_hash, scopes, label, created_ms, expires_ms, revoked_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
        params![
            t.id,
            t.user_id,
            t.user_ref,
            t.secret_hash,
            t.scopes,
            t.sealed_label,
            t.created_ms,
            t.expires_ms
        ],
    )?;
    TOKENS.stamp(tx, "id = ?1", &[&t.id])
}

/// The rows of user `user_id` (every user's when `None`), oldest first.
pub(super) fn list(conn: &Connection, user_id: Option<i64>) -> Result<Vec<StoredToken>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS}, label, user_ref, {} FROM access_tokens
         WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_ms, rowid",
        TOKENS.ok_expr()
    ))?;
    let rows = stmt.query_map(params![user_id], checked_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (stored, ok) = row?;
        rowmac::check(ok, || row_name(&stored.token.id))?;
        out.push(stored);
    }
    Ok(out)
}

/// The row with id `id`.
pub(super) fn by_id(conn: &Connection, id: &str) -> Result<Option<StoredToken>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, label, user_ref, {} FROM access_tokens WHERE id = ?1",
            TOKENS.ok_expr()
        ))?
        .query_row(params![id], checked_row)
        .optional()?;
    let Some((stored, ok)) = row else {
        return Ok(None);
    };
    rowmac::check(ok, || row_name(id))?;
    Ok(Some(stored))
}

/// Marks the token `id` revoked at `now_ms` (its MAC renewed).
pub(super) fn set_revoked(tx: &Connection, id: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE access_tokens SET revoked_ms = ?2 WHERE id = ?1",
        params![id, now_ms],
    )?;
    TOKENS.stamp(tx, "id = ?1", &[&id])
}

/// The token whose secret hashes to `hash`, with its user's row: one
/// indexed query joining the two.
pub(super) fn by_hash(conn: &Connection, hash: &[u8]) -> Result<Option<TokenHit>> {
    let hit = conn
        .prepare_cached(&format!(
            "SELECT t.id, t.user_id, t.scopes, t.created_ms, t.expires_ms, t.revoked_ms,
                    t.ok, t.secret_hash, t.user_ref, u.ref, u.handle, u.created_ms
             FROM (SELECT {COLUMNS}, secret_hash, user_ref, {} AS ok
                   FROM access_tokens WHERE secret_hash = ?1) AS t
             JOIN users AS u ON u.id = t.user_id",
            TOKENS.ok_expr()
        ))?
        .query_row(params![hash], |r| {
            let hit = TokenHit {
                token: from_row(r)?,
                secret_hash: r.get(7)?,
                token_ref: r.get(8)?,
                user_ref: r.get(9)?,
                sealed_handle: r.get(10)?,
                user_created_ms: r.get(11)?,
            };
            Ok((hit, r.get::<_, bool>(6)?))
        })
        .optional()?;
    let Some((hit, ok)) = hit else { return Ok(None) };
    rowmac::check(ok, || row_name(&hit.token.id))?;
    Ok(Some(hit))
}
