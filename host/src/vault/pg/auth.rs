//! Access tokens, web sign-in links and web sessions in PostgreSQL:
//! secrets only as keyed hashes, every row MACed in process and checked on
//! read (a token revived or moved to another user by someone with write
//! access to the database is refused).

use anyhow::Result;
use tokio_postgres::Row;

use super::Db;
use crate::vault::DerivedKeys;
use crate::vault::rowmac::{self, TOKENS, Val};
use crate::vault::tokens::{StoredToken, TokenHit, TokenInsert, TokenRow, row_name};
use crate::vault::web::{self, WebHit, WebInsert, WebKind, WebRow};

const TOKEN_COLUMNS: &str =
    "id, user_id, user_ref, secret_hash, scopes, label, created_ms, expires_ms, revoked_ms, mac";

/// A token row of [`TOKEN_COLUMNS`] (from column `at`), checked: the row,
/// its sealed label, user ref and secret hash.
fn token_of(r: &Row, at: usize, keys: &DerivedKeys) -> Result<(StoredToken, Vec<u8>)> {
    let id: String = r.try_get(at)?;
    let user_id: i64 = r.try_get(at + 1)?;
    let user_ref: Vec<u8> = r.try_get(at + 2)?;
    let secret_hash: Vec<u8> = r.try_get(at + 3)?;
    let scopes: String = r.try_get(at + 4)?;
    let label: Option<Vec<u8>> = r.try_get(at + 5)?;
    let (created_ms, expires_ms, revoked_ms): (i64, Option<i64>, Option<i64>) =
        (r.try_get(at + 6)?, r.try_get(at + 7)?, r.try_get(at + 8)?);
    let vals = [
        Val::Text(&id),
        Val::Int(user_id),
        Val::Blob(&user_ref),
        Val::Blob(&secret_hash),
        Val::Text(&scopes),
        label.as_deref().map_or(Val::Null, Val::Blob),
        Val::Int(created_ms),
        expires_ms.into(),
        revoked_ms.into(),
    ];
    rowmac::check(TOKENS.verify_of(&keys.row, &vals, r.try_get(at + 9)?), || row_name(&id))?;
    let token = TokenRow {
        id,
        user_id,
        scopes,
        label: None,
        created_ms,
        expires_ms,
        revoked_ms,
    };
    Ok((
        StoredToken {
            token,
            sealed_label: label,
            user_ref,
        },
        secret_hash,
    ))
}

pub(super) fn token_id_taken(db: &Db<'_>, id: &str) -> Result<bool> {
    Ok(db.opt("SELECT 1 FROM access_tokens WHERE id = $1", &[&id])?.is_some())
}

pub(super) fn insert_token(db: &Db<'_>, keys: &DerivedKeys, t: &TokenInsert<'_>) -> Result<()> {
    let vals = [
        Val::Text(t.id),
        Val::Int(t.user_id),
        Val::Blob(t.user_ref),
        Val::Blob(t.secret_hash),
        Val::Text(t.scopes),
        t.sealed_label.map_or(Val::Null, Val::Blob),
        Val::Int(t.created_ms),
        t.expires_ms.into(),
        Val::Null,
    ];
    let mac = TOKENS.mac_of(&keys.row, &vals);
    db.exec(
        "INSERT INTO access_tokens
           (id, user_id, user_ref, secret_hash, scopes, label, created_ms, expires_ms, revoked_ms, mac)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
        &[
            &t.id,
            &t.user_id,
            &t.user_ref,
            &t.secret_hash,
            &t.scopes,
            &t.sealed_label,
            &t.created_ms,
            &t.expires_ms,
            &mac,
        ],
    )?;
    Ok(())
}

pub(super) fn token_rows(db: &Db<'_>, keys: &DerivedKeys, user_id: Option<i64>) -> Result<Vec<StoredToken>> {
    db.query(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE $1::BIGINT IS NULL OR user_id = $1 ORDER BY created_ms, seq"
        ),
        &[&user_id],
    )?
    .iter()
    .map(|r| Ok(token_of(r, 0, keys)?.0))
    .collect()
}

pub(super) fn token_row(db: &Db<'_>, keys: &DerivedKeys, id: &str) -> Result<Option<StoredToken>> {
    db.opt(
        &format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE id = $1"),
        &[&id],
    )?
    .map(|r| Ok(token_of(&r, 0, keys)?.0))
    .transpose()
}

pub(super) fn set_token_revoked(db: &Db<'_>, keys: &DerivedKeys, id: &str, now_ms: i64) -> Result<()> {
    let Some(row) = db.opt(
        &format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE id = $1"),
        &[&id],
    )?
    else {
        return Ok(());
    };
    let (stored, secret_hash) = token_of(&row, 0, keys)?;
    let t = &stored.token;
    let vals = [
        Val::Text(&t.id),
        Val::Int(t.user_id),
        Val::Blob(&stored.user_ref),
        Val::Blob(&secret_hash),
        Val::Text(&t.scopes),
        stored.sealed_label.as_deref().map_or(Val::Null, Val::Blob),
        Val::Int(t.created_ms),
        t.expires_ms.into(),
        Val::Int(now_ms),
    ];
    let mac = TOKENS.mac_of(&keys.row, &vals);
    db.exec(
        "UPDATE access_tokens SET revoked_ms = $2, mac = $3 WHERE id = $1",
        &[&id, &now_ms, &mac],
    )?;
    Ok(())
}

pub(super) fn token_by_hash(db: &Db<'_>, keys: &DerivedKeys, hash: &[u8]) -> Result<Option<TokenHit>> {
    let Some(r) = db.opt(
        &format!(
            "SELECT {}, u.ref, u.handle, u.created_ms FROM access_tokens AS t JOIN users AS u ON u.id = t.user_id
             WHERE t.secret_hash = $1",
            TOKEN_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[&hash],
    )?
    else {
        return Ok(None);
    };
    let (stored, secret_hash) = token_of(&r, 0, keys)?;
    Ok(Some(TokenHit {
        token: stored.token,
        secret_hash,
        token_ref: stored.user_ref,
        user_ref: r.try_get(10)?,
        sealed_handle: r.try_get(11)?,
        user_created_ms: r.try_get(12)?,
    }))
}

const WEB_COLUMNS: &str = "id, user_id, user_ref, secret_hash, created_ms, expires_ms, closed_ms, mac";

/// A web row of [`WEB_COLUMNS`], checked: the row, user id, ref, hash.
fn web_of(r: &Row, kind: WebKind, keys: &DerivedKeys) -> Result<(WebRow, i64, Vec<u8>, Vec<u8>)> {
    let id: String = r.try_get(0)?;
    let user_id: i64 = r.try_get(1)?;
    let (user_ref, secret_hash): (Vec<u8>, Vec<u8>) = (r.try_get(2)?, r.try_get(3)?);
    let (created_ms, expires_ms, closed_ms): (i64, i64, Option<i64>) = (r.try_get(4)?, r.try_get(5)?, r.try_get(6)?);
    let vals = web_vals(
        &id,
        user_id,
        (&user_ref, &secret_hash),
        (created_ms, expires_ms, closed_ms),
    );
    rowmac::check(kind.table().verify_of(&keys.row, &vals, r.try_get(7)?), || {
        web::row_name(kind, &id)
    })?;
    let row = WebRow {
        id,
        created_ms,
        expires_ms,
        closed_ms,
    };
    Ok((row, user_id, user_ref, secret_hash))
}

fn web_vals<'a>(
    id: &'a str,
    user_id: i64,
    (user_ref, hash): (&'a [u8], &'a [u8]),
    times: (i64, i64, Option<i64>),
) -> [Val<'a>; 7] {
    [
        Val::Text(id),
        Val::Int(user_id),
        Val::Blob(user_ref),
        Val::Blob(hash),
        Val::Int(times.0),
        Val::Int(times.1),
        times.2.into(),
    ]
}

pub(super) fn web_id_taken(db: &Db<'_>, kind: WebKind, id: &str) -> Result<bool> {
    Ok(db
        .opt(&format!("SELECT 1 FROM {} WHERE id = $1", kind.table().name), &[&id])?
        .is_some())
}

pub(super) fn insert_web(db: &Db<'_>, keys: &DerivedKeys, kind: WebKind, w: &WebInsert<'_>) -> Result<()> {
    let vals = web_vals(
        w.id,
        w.user_id,
        (w.user_ref, w.secret_hash),
        (w.created_ms, w.expires_ms, None),
    );
    let mac = kind.table().mac_of(&keys.row, &vals);
    db.exec(
        &format!(
            "INSERT INTO {} ({WEB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
            kind.table().name
        ),
        &[
            &w.id,
            &w.user_id,
            &w.user_ref,
            &w.secret_hash,
            &w.created_ms,
            &w.expires_ms,
            &mac,
        ],
    )?;
    Ok(())
}

pub(super) fn web_by_hash(db: &Db<'_>, keys: &DerivedKeys, kind: WebKind, hash: &[u8]) -> Result<Option<WebHit>> {
    let columns = WEB_COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(r) = db.opt(
        &format!(
            "SELECT {columns}, u.ref, u.handle, u.created_ms FROM {} AS t JOIN users AS u ON u.id = t.user_id
             WHERE t.secret_hash = $1",
            kind.table().name
        ),
        &[&hash],
    )?
    else {
        return Ok(None);
    };
    let (row, user_id, row_ref, _) = web_of(&r, kind, keys)?;
    Ok(Some(WebHit {
        row,
        user_id,
        row_ref,
        user_ref: r.try_get(8)?,
        sealed_handle: r.try_get(9)?,
        user_created_ms: r.try_get(10)?,
    }))
}

pub(super) fn close_web(db: &Db<'_>, keys: &DerivedKeys, kind: WebKind, id: &str, now_ms: i64) -> Result<bool> {
    let table = kind.table().name;
    let Some(r) = db.opt(
        &format!("SELECT {WEB_COLUMNS} FROM {table} WHERE id = $1 AND closed_ms IS NULL FOR UPDATE"),
        &[&id],
    )?
    else {
        return Ok(false);
    };
    let (row, user_id, user_ref, hash) = web_of(&r, kind, keys)?;
    let vals = web_vals(
        id,
        user_id,
        (&user_ref, &hash),
        (row.created_ms, row.expires_ms, Some(now_ms)),
    );
    let mac = kind.table().mac_of(&keys.row, &vals);
    let changed = db.exec(
        &format!("UPDATE {table} SET closed_ms = $2, mac = $3 WHERE id = $1 AND closed_ms IS NULL"),
        &[&id, &now_ms, &mac],
    )?;
    Ok(changed == 1)
}

pub(super) fn sweep_web(db: &Db<'_>, cutoff_ms: i64) -> Result<usize> {
    let mut deleted = 0;
    for kind in [WebKind::Link, WebKind::Session] {
        deleted += db.exec(
            &format!(
                "DELETE FROM {} WHERE expires_ms < $1 OR (closed_ms IS NOT NULL AND closed_ms < $1)",
                kind.table().name
            ),
            &[&cutoff_ms],
        )?;
    }
    Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
}
