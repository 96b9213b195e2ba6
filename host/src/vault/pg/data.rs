//! Users' data in PostgreSQL, all of it sealed before it gets here: user
//! rows (sealed handle, wrapped key), time zones, plugin storage (sealed
//! key names and values under keyed key MACs) and sample day chunks, with
//! an invocation's staged chunks invisible to every read until it commits.

use anyhow::{Context, Result};

use super::Db;
use super::db::count;
use crate::vault::storage::{SealedEntry, Usage};
use crate::vault::store::EachChunk;
use crate::vault::users::{ErasedRows, UserRow};

pub(super) fn kv_sealed(db: &Db<'_>, user_id: i64, plugin: &str, mac: &[u8]) -> Result<Option<Vec<u8>>> {
    db.opt(
        "SELECT value FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2 AND key_mac = $3",
        &[&user_id, &plugin, &mac],
    )?
    .map(|r| r.try_get(0).context("reading a storage value"))
    .transpose()
}

pub(super) fn kv_size(db: &Db<'_>, user_id: i64, plugin: &str, mac: &[u8]) -> Result<Option<u64>> {
    db.opt(
        "SELECT size FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2 AND key_mac = $3",
        &[&user_id, &plugin, &mac],
    )?
    .map(|r| Ok(count(r.try_get(0)?)))
    .transpose()
}

pub(super) fn kv_sealed_keys(db: &Db<'_>, user_id: i64, plugin: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    db.query(
        "SELECT key_mac, key FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2",
        &[&user_id, &plugin],
    )?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

pub(super) fn kv_put(
    db: &Db<'_>,
    user_id: i64,
    plugin: &str,
    mac: &[u8],
    entry: Option<SealedEntry<'_>>,
) -> Result<()> {
    match entry {
        None => db.exec(
            "DELETE FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2 AND key_mac = $3",
            &[&user_id, &plugin, &mac],
        )?,
        Some(e) => db.exec(
            "INSERT INTO plugin_storage (user_id, plugin_id, key_mac, key, value, size) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, plugin_id, key_mac) DO UPDATE SET
               key = excluded.key, value = excluded.value, size = excluded.size",
            &[
                &user_id,
                &plugin,
                &mac,
                &e.key,
                &e.value,
                &i64::try_from(e.size).unwrap_or(i64::MAX),
            ],
        )?,
    };
    Ok(())
}

pub(super) fn kv_usage(db: &Db<'_>, user_id: i64, plugin: &str) -> Result<Usage> {
    let row = db.one(
        "SELECT COALESCE(SUM(size), 0)::BIGINT, COUNT(*) FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2",
        &[&user_id, &plugin],
    )?;
    Ok(Usage {
        bytes: count(row.try_get(0)?),
        keys: count(row.try_get(1)?),
    })
}

pub(super) fn kv_delete_all(db: &Db<'_>, user_id: i64, plugin: Option<&str>) -> Result<u64> {
    match plugin {
        Some(p) => db.exec(
            "DELETE FROM plugin_storage WHERE user_id = $1 AND plugin_id = $2",
            &[&user_id, &p],
        ),
        None => db.exec("DELETE FROM plugin_storage WHERE user_id = $1", &[&user_id]),
    }
}

pub(super) fn chunk_next_day(db: &Db<'_>, user_id: i64, ty: u8, (from, to): (i64, i64)) -> Result<Option<i64>> {
    db.opt(
        "SELECT day FROM sample_chunks WHERE user_id = $1 AND data_type = $2 AND day >= $3 AND day <= $4
         ORDER BY day LIMIT 1",
        &[&user_id, &i64::from(ty), &from, &to],
    )?
    .map(|r| r.try_get(0).context("reading a chunk day"))
    .transpose()
}

pub(super) fn chunk_sealed(db: &Db<'_>, user_id: i64, ty: u8, day: i64) -> Result<Option<Vec<u8>>> {
    db.opt(
        "SELECT payload FROM sample_chunks WHERE user_id = $1 AND data_type = $2 AND day = $3",
        &[&user_id, &i64::from(ty), &day],
    )?
    .map(|r| r.try_get(0).context("reading a chunk"))
    .transpose()
}

/// How many chunks one query of a range fetches: a reader that stops
/// early (`each` returns false) has not pulled a year of chunks.
const PAGE: i64 = 64;

pub(super) fn chunk_each_sealed(
    db: &Db<'_>,
    user_id: i64,
    ty: u8,
    (from, to): (i64, i64),
    each: &mut dyn FnMut(i64, &[u8]) -> Result<bool>,
) -> Result<()> {
    let mut next = from;
    loop {
        let rows = db.query(
            "SELECT day, payload FROM sample_chunks WHERE user_id = $1 AND data_type = $2 AND day >= $3 AND day <= $4
             ORDER BY day LIMIT $5",
            &[&user_id, &i64::from(ty), &next, &to, &PAGE],
        )?;
        for row in &rows {
            let day: i64 = row.try_get(0)?;
            if !each(day, row.try_get(1)?)? {
                return Ok(());
            }
            next = day + 1;
        }
        if i64::try_from(rows.len()).unwrap_or(0) < PAGE {
            return Ok(());
        }
    }
}

pub(super) fn put_chunk(db: &Db<'_>, user_id: i64, ty: u8, day: i64, sealed: &[u8]) -> Result<()> {
    db.exec(
        "INSERT INTO sample_chunks (user_id, data_type, day, payload) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, data_type, day) DO UPDATE SET payload = excluded.payload",
        &[&user_id, &i64::from(ty), &day, &sealed],
    )?;
    Ok(())
}

pub(super) fn put_staged(
    db: &Db<'_>,
    invocation: &str,
    user_id: i64,
    (ty, day): (u8, i64),
    sealed: &[u8],
    staged_ms: i64,
) -> Result<()> {
    db.exec(
        "INSERT INTO staged_chunks (invocation, user_id, data_type, day, payload, staged_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&invocation, &user_id, &i64::from(ty), &day, &sealed, &staged_ms],
    )?;
    Ok(())
}

pub(super) fn staged_days(db: &Db<'_>, invocation: &str, user_id: i64) -> Result<Vec<(u8, i64)>> {
    db.query(
        "SELECT DISTINCT data_type, day FROM staged_chunks WHERE invocation = $1 AND user_id = $2
         ORDER BY data_type, day",
        &[&invocation, &user_id],
    )?
    .iter()
    .map(|r| {
        let ty: i64 = r.try_get(0)?;
        Ok((
            u8::try_from(ty).context("a staged chunk's type code is out of range")?,
            r.try_get(1)?,
        ))
    })
    .collect()
}

pub(super) fn staged_sealed(db: &Db<'_>, invocation: &str, user_id: i64, (ty, day): (u8, i64)) -> Result<Vec<Vec<u8>>> {
    db.query(
        "SELECT payload FROM staged_chunks WHERE invocation = $1 AND user_id = $2 AND data_type = $3 AND day = $4
         ORDER BY id",
        &[&invocation, &user_id, &i64::from(ty), &day],
    )?
    .iter()
    .map(|r| r.try_get(0).context("reading a staged chunk"))
    .collect()
}

pub(super) fn discard_staged(db: &Db<'_>, invocation: &str) -> Result<u64> {
    db.exec("DELETE FROM staged_chunks WHERE invocation = $1", &[&invocation])
}

pub(super) fn chunk_each_of_user(db: &Db<'_>, user_id: i64, each: &mut EachChunk<'_>) -> Result<()> {
    let rows = db.query(
        "SELECT data_type, day, payload FROM sample_chunks WHERE user_id = $1 ORDER BY data_type, day",
        &[&user_id],
    )?;
    for r in &rows {
        let ty: i64 = r.try_get(0)?;
        each(
            u8::try_from(ty).context("a chunk's type code is out of range")?,
            r.try_get(1)?,
            r.try_get(2)?,
        )?;
    }
    Ok(())
}

pub(super) fn user_by_ref(db: &Db<'_>, ref_bytes: &[u8]) -> Result<Option<(i64, i64)>> {
    db.opt("SELECT id, created_ms FROM users WHERE ref = $1", &[&ref_bytes])?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
}

pub(super) fn insert_user(
    db: &Db<'_>,
    ref_bytes: &[u8],
    sealed: &[u8],
    wrapped: &[u8],
    created: i64,
) -> Result<(i64, bool)> {
    let inserted = db.opt(
        "INSERT INTO users (ref, handle, wrapped_key, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (ref) DO NOTHING RETURNING id",
        &[&ref_bytes, &sealed, &wrapped, &created],
    )?;
    if let Some(row) = inserted {
        return Ok((row.try_get(0)?, true));
    }
    let row = db.one("SELECT id FROM users WHERE ref = $1", &[&ref_bytes])?;
    Ok((row.try_get(0)?, false))
}

fn user_row(r: &tokio_postgres::Row) -> Result<UserRow> {
    Ok(UserRow {
        id: r.try_get(0)?,
        ref_bytes: r.try_get(1)?,
        sealed_handle: r.try_get(2)?,
        created_ms: r.try_get(3)?,
    })
}

pub(super) fn user_rows(db: &Db<'_>) -> Result<Vec<UserRow>> {
    db.query("SELECT id, ref, handle, created_ms FROM users ORDER BY id", &[])?
        .iter()
        .map(user_row)
        .collect()
}

pub(super) fn user_row_by_id(db: &Db<'_>, id: i64) -> Result<Option<UserRow>> {
    db.opt("SELECT id, ref, handle, created_ms FROM users WHERE id = $1", &[&id])?
        .map(|r| user_row(&r))
        .transpose()
}

pub(super) fn user_wrapped_key(db: &Db<'_>, id: i64) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    db.opt("SELECT ref, wrapped_key FROM users WHERE id = $1", &[&id])?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
}

pub(super) fn delete_user_rows(db: &Db<'_>, id: i64) -> Result<ErasedRows> {
    for table in ["sample_chunks", "staged_chunks"] {
        db.exec(&format!("DELETE FROM {table} WHERE user_id = $1"), &[&id])?;
    }
    let consents = db.exec("DELETE FROM consents WHERE user_id = $1", &[&id])?;
    for table in ["consent_versions", "capability_grants", "user_zones"] {
        db.exec(&format!("DELETE FROM {table} WHERE user_id = $1"), &[&id])?;
    }
    let tokens = db.exec("DELETE FROM access_tokens WHERE user_id = $1", &[&id])?;
    for table in ["web_login_links", "web_sessions"] {
        db.exec(&format!("DELETE FROM {table} WHERE user_id = $1"), &[&id])?;
    }
    let storage = kv_delete_all(db, id, None)?;
    let users = db.exec("DELETE FROM users WHERE id = $1", &[&id])?;
    Ok(ErasedRows {
        consents,
        tokens,
        storage,
        users,
    })
}

/// After an erase: vacuums the tables that held the user's rows, so their
/// dead tuples are gone from the live tables. What PostgreSQL keeps
/// elsewhere (its WAL until recycled, base backups, replicas' history) is
/// outside healthplug's reach: README "Running several hosts" says so.
pub(super) fn reclaim_erased(db: &Db<'_>) -> Result<()> {
    db.batch(
        "VACUUM users, sample_chunks, staged_chunks, consents, consent_versions, capability_grants, \
         plugin_storage, access_tokens, web_login_links, web_sessions, user_zones",
    )
}

pub(super) fn sealed_zone(db: &Db<'_>, user_id: i64) -> Result<Option<Vec<u8>>> {
    db.opt("SELECT tz FROM user_zones WHERE user_id = $1", &[&user_id])?
        .map(|r| r.try_get(0).context("reading a time zone"))
        .transpose()
}

pub(super) fn put_zone(db: &Db<'_>, user_id: i64, sealed: &[u8]) -> Result<()> {
    db.exec(
        "INSERT INTO user_zones (user_id, tz) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET tz = excluded.tz",
        &[&user_id, &sealed],
    )?;
    Ok(())
}
