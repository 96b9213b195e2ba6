//! The SQLite side of web sign-in links and sessions (`web.rs` owns their
//! secrets, hashes and rules): the statements on `web_login_links` and
//! `web_sessions`, every row read with its MAC checked inside SQLite.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::rowmac;
use super::web::{WebHit, WebInsert, WebKind, WebRow, row_name};

/// Whether a row of `kind` has this id.
pub(super) fn id_taken(conn: &Connection, kind: WebKind, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", kind.table().name))?
        .exists(params![id])?)
}

/// Inserts a row of `kind` with its MAC.
pub(super) fn insert(tx: &Connection, kind: WebKind, w: &WebInsert<'_>) -> Result<()> {
    let table = kind.table();
    tx.execute(
        &format!(
            "INSERT INTO {} (id, user_id, user_ref, secret_hash, created_ms, expires_ms, closed_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
            table.name
        ),
        params![w.id, w.user_id, w.user_ref, w.secret_hash, w.created_ms, w.expires_ms],
    )?;
    table.stamp(tx, "id = ?1", &[&w.id])
}

/// The row of `kind` whose secret hashes to `hash`, with its user's row.
pub(super) fn by_hash(conn: &Connection, kind: WebKind, hash: &[u8]) -> Result<Option<WebHit>> {
    let table = kind.table();
    let hit = conn
        .prepare_cached(&format!(
            "SELECT t.id, t.user_id, t.created_ms, t.expires_ms, t.closed_ms, t.ok, t.user_ref,
                    u.ref, u.handle, u.created_ms
             FROM (SELECT *, {} AS ok FROM {} WHERE secret_hash = ?1) AS t
             JOIN users AS u ON u.id = t.user_id",
            table.ok_expr(),
            table.name
        ))?
        .query_row(params![hash], |r| {
            let hit = WebHit {
                row: WebRow {
                    id: r.get(0)?,
                    created_ms: r.get(2)?,
                    expires_ms: r.get(3)?,
                    closed_ms: r.get(4)?,
                },
                user_id: r.get(1)?,
                row_ref: r.get(6)?,
                user_ref: r.get(7)?,
                sealed_handle: r.get(8)?,
                user_created_ms: r.get(9)?,
            };
            Ok((hit, r.get::<_, bool>(5)?))
        })
        .optional()?;
    let Some((hit, ok)) = hit else { return Ok(None) };
    rowmac::check(ok, || row_name(kind, &hit.row.id))?;
    Ok(Some(hit))
}

/// Sets `closed_ms` on the open row `id` whose MAC verifies, re-stamping
/// it; false when the row was closed already.
pub(super) fn close(tx: &Connection, kind: WebKind, id: &str, now_ms: i64) -> Result<bool> {
    let table = kind.table();
    let ok: Option<bool> = tx
        .prepare_cached(&format!(
            "SELECT {} FROM {} WHERE id = ?1 AND closed_ms IS NULL",
            table.ok_expr(),
            table.name
        ))?
        .query_row(params![id], |r| r.get(0))
        .optional()?;
    let Some(ok) = ok else { return Ok(false) };
    rowmac::check(ok, || row_name(kind, id))?;
    tx.execute(
        &format!(
            "UPDATE {} SET closed_ms = ?2 WHERE id = ?1 AND closed_ms IS NULL",
            table.name
        ),
        params![id, now_ms],
    )?;
    table.stamp(tx, "id = ?1", &[id])?;
    Ok(true)
}

/// Deletes every link and session that ended (expired or closed) before
/// `cutoff_ms`; how many.
pub(super) fn sweep(tx: &Connection, cutoff_ms: i64) -> Result<usize> {
    let mut deleted = 0;
    for kind in [WebKind::Link, WebKind::Session] {
        deleted += tx.execute(
            &format!(
                "DELETE FROM {} WHERE expires_ms < ?1 OR (closed_ms IS NOT NULL AND closed_ms < ?1)",
                kind.table().name
            ),
            params![cutoff_ms],
        )?;
    }
    Ok(deleted)
}
