//! Row MACs: every security-relevant row (plugins with their approval,
//! trusted reviewers, consents, consent versions, capability grants, the
//! consent version counter, access tokens, web sign-in links and
//! sessions) carries a `mac` column, an HMAC-SHA256 under a
//! key derived from the master key over a canonical encoding of the table
//! name and every column of the row, primary key included (so a row cannot
//! be edited, forged, or copied to another user or plugin).
//!
//! The MAC is computed and checked inside SQLite by two functions each
//! pooled connection registers with the key captured in their closure:
//! `healthplug_row_mac(table, v1, ...)` (writes) and
//! `healthplug_row_ok(mac, table, v1, ...)` (reads, constant time). They
//! are `DIRECTONLY`, so a trigger or view planted in the database file
//! cannot call them. Every reader selects `healthplug_row_ok(...)` and
//! refuses a row for which it is false with [`IntegrityError`].
//!
//! The encoding is unambiguous: each value is a type tag (null, integer,
//! real, text, blob) followed by its fixed-width or length-prefixed bytes.

use anyhow::Result;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};

use super::SecretKey;

/// Domain separation for the row encoding.
const DOMAIN: &[u8] = b"healthplug row v1\0";

/// A row that failed its integrity check.
#[derive(Debug, thiserror::Error)]
#[error("vault row {row} failed its integrity check: it was altered outside healthplug")]
pub struct IntegrityError {
    /// Which row (table and primary key).
    pub row: String,
}

/// A table whose rows carry a MAC: its name and the columns covered, in
/// the order they are encoded.
pub(crate) struct MacTable {
    /// The table.
    pub name: &'static str,
    /// Every column but `mac`, primary key first.
    pub columns: &'static str,
}

/// Installed plugins (approval included).
pub(crate) const PLUGINS: MacTable = MacTable {
    name: "plugins",
    columns: "id, version, name, publisher, world, manifest, manifest_sha256, component_sha256, installed_ms, dev, approval",
};

/// Trusted reviewers.
pub(crate) const REVIEWERS: MacTable = MacTable {
    name: "trusted_reviewers",
    columns: "public_key, name, added_ms",
};

/// Consent rows.
pub(crate) const CONSENTS: MacTable = MacTable {
    name: "consents",
    columns: "user_id, plugin_id, data_type, read, write, fields, days, since_ms, granularity, until_ms, purpose, granted_ms, revoked_ms",
};

/// Consent versions.
pub(crate) const CONSENT_VERSIONS: MacTable = MacTable {
    name: "consent_versions",
    columns: "user_id, plugin_id, version, consented_manifest",
};

/// Capability grants.
pub(crate) const CAPABILITIES: MacTable = MacTable {
    name: "capability_grants",
    columns: "user_id, plugin_id, capability, scope, granted_ms, revoked_ms",
};

/// MACed `meta` rows (the consent version counter).
pub(crate) const META: MacTable = MacTable {
    name: "meta",
    columns: "key, value",
};

/// Access tokens (`tokens.rs`). Not in [`ALL`]: the table is newer than
/// the schemas an upgrade starts from, so a token row without a MAC is
/// always forged and no upgrade ever MACs one.
pub(crate) const TOKENS: MacTable = MacTable {
    name: "access_tokens",
    columns: "id, user_id, user_ref, secret_hash, scopes, label, created_ms, expires_ms, revoked_ms",
};

/// Web sign-in links (`web.rs`). Not in [`ALL`], as for tokens.
pub(crate) const LOGIN_LINKS: MacTable = MacTable {
    name: "web_login_links",
    columns: "id, user_id, user_ref, secret_hash, created_ms, expires_ms, closed_ms",
};

/// Web sessions (`web.rs`). Not in [`ALL`], as for tokens.
pub(crate) const WEB_SESSIONS: MacTable = MacTable {
    name: "web_sessions",
    columns: "id, user_id, user_ref, secret_hash, created_ms, expires_ms, closed_ms",
};

/// Every table all of whose rows are MACed (`meta` only MACs some) and
/// that an upgrade from schema 1 or 2 may find rows without a MAC in.
pub(crate) const ALL: [&MacTable; 5] = [&PLUGINS, &REVIEWERS, &CONSENTS, &CONSENT_VERSIONS, &CAPABILITIES];

impl MacTable {
    /// SQL computing the MAC of the current row (for `SET mac = ...`).
    pub fn mac_expr(&self) -> String {
        format!("healthplug_row_mac('{}', {})", self.name, self.columns)
    }

    /// SQL that is 1 when the row's stored `mac` is right.
    pub fn ok_expr(&self) -> String {
        format!("healthplug_row_ok(mac, '{}', {})", self.name, self.columns)
    }

    /// Recomputes the MAC of the rows matching `filter` (a `WHERE` clause
    /// over `params`). Only for rows this transaction just wrote, or
    /// rows it read and checked.
    pub fn stamp<P: rusqlite::ToSql>(&self, tx: &Connection, filter: &str, params: &[P]) -> Result<()> {
        tx.execute(
            &format!("UPDATE {} SET mac = {} WHERE {filter}", self.name, self.mac_expr()),
            params_from_iter(params),
        )?;
        Ok(())
    }
}

/// Refuses a row whose MAC check failed; `row` names it.
pub(crate) fn check(ok: bool, row: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(IntegrityError { row: row() }.into())
    }
}

/// One column value as the encoding tags it (a backend that computes MACs
/// in process, such as PostgreSQL's, hands these over).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> From<Option<i64>> for Val<'a> {
    fn from(v: Option<i64>) -> Val<'a> {
        v.map_or(Val::Null, Val::Int)
    }
}

/// Appends one value: its type tag, then its fixed-width or
/// length-prefixed bytes.
fn push(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_be_bytes());
        }
        ValueRef::Real(v) => {
            out.push(2);
            out.extend_from_slice(&v.to_bits().to_be_bytes());
        }
        ValueRef::Text(b) => {
            out.push(3);
            out.extend_from_slice(&(b.len() as u64).to_be_bytes());
            out.extend_from_slice(b);
        }
        ValueRef::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// The canonical encoding of the function's arguments from `from` on.
fn encode(ctx: &Context<'_>, from: usize) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    for i in from..ctx.len() {
        push(&mut out, ctx.get_raw(i));
    }
    out
}

/// The same encoding of `table` and `values`, in process.
fn encode_vals(table: &str, values: &[Val<'_>]) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    push(&mut out, ValueRef::Text(table.as_bytes()));
    for v in values {
        push(
            &mut out,
            match *v {
                Val::Null => ValueRef::Null,
                Val::Int(i) => ValueRef::Integer(i),
                Val::Text(t) => ValueRef::Text(t.as_bytes()),
                Val::Blob(b) => ValueRef::Blob(b),
            },
        );
    }
    out
}

impl MacTable {
    /// The MAC of a row computed in process: `values` are the columns of
    /// [`MacTable::columns`], in order. Equal to what `healthplug_row_mac`
    /// computes inside SQLite for the same values.
    pub fn mac_of(&self, key: &SecretKey, values: &[Val<'_>]) -> Vec<u8> {
        key.mac(&encode_vals(self.name, values)).to_vec()
    }

    /// Whether `tag` (the stored `mac`, if any) is the MAC of `values`,
    /// in constant time.
    pub fn verify_of(&self, key: &SecretKey, values: &[Val<'_>], tag: Option<&[u8]>) -> bool {
        tag.is_some_and(|tag| key.verify(&encode_vals(self.name, values), tag))
    }
}

/// Registers `healthplug_row_mac` and `healthplug_row_ok` on `conn`.
pub(crate) fn register(conn: &Connection, key: &SecretKey) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_DIRECTONLY;
    let mac_key = key.clone();
    conn.create_scalar_function("healthplug_row_mac", -1, flags, move |ctx| {
        Ok(mac_key.mac(&encode(ctx, 0)).to_vec())
    })?;
    let ok_key = key.clone();
    conn.create_scalar_function("healthplug_row_ok", -1, flags, move |ctx| {
        if ctx.len() < 2 {
            return Ok(false);
        }
        let ValueRef::Blob(tag) = ctx.get_raw(0) else {
            // A row without a MAC (NULL) or with one of the wrong type.
            return Ok(false);
        };
        Ok(ok_key.verify(&encode(ctx, 1), tag))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c, &SecretKey::generate().unwrap()).unwrap();
        c
    }

    #[test]
    fn a_mac_binds_every_value_and_its_type() {
        let c = conn();
        let ok = |sql: &str| -> bool { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert!(ok(
            "SELECT healthplug_row_ok(healthplug_row_mac('t', 1, 'a', NULL), 't', 1, 'a', NULL)"
        ));
        // Another value, another type, another table, a moved boundary.
        assert!(!ok(
            "SELECT healthplug_row_ok(healthplug_row_mac('t', 1, 'a', NULL), 't', 2, 'a', NULL)"
        ));
        assert!(!ok(
            "SELECT healthplug_row_ok(healthplug_row_mac('t', 1, 'a', NULL), 't', '1', 'a', NULL)"
        ));
        assert!(!ok(
            "SELECT healthplug_row_ok(healthplug_row_mac('t', 1, 'a', NULL), 'u', 1, 'a', NULL)"
        ));
        assert!(!ok(
            "SELECT healthplug_row_ok(healthplug_row_mac('t', 'ab', 'c'), 't', 'a', 'bc')"
        ));
        assert!(!ok("SELECT healthplug_row_ok(NULL, 't', 1)"));
        assert!(!ok("SELECT healthplug_row_ok(x'00', 't', 1)"));
    }

    #[test]
    fn the_in_process_mac_is_the_sqlite_one() {
        let key = SecretKey::generate().unwrap();
        let c = Connection::open_in_memory().unwrap();
        register(&c, &key).unwrap();
        let in_sql: Vec<u8> = c
            .query_row("SELECT healthplug_row_mac('meta', 7, 'a', x'0102', NULL)", [], |r| {
                r.get(0)
            })
            .unwrap();
        let table = MacTable {
            name: "meta",
            columns: "a, b, c, d",
        };
        let vals = [Val::Int(7), Val::Text("a"), Val::Blob(&[1, 2]), Val::Null];
        assert_eq!(table.mac_of(&key, &vals), in_sql);
        assert!(table.verify_of(&key, &vals, Some(&in_sql)));
        assert!(!table.verify_of(
            &key,
            &[Val::Int(8), Val::Text("a"), Val::Blob(&[1, 2]), Val::Null],
            Some(&in_sql)
        ));
        assert!(!table.verify_of(&key, &vals, None));
    }

    #[test]
    fn another_key_does_not_verify() {
        let a = conn();
        let b = conn();
        let mac: Vec<u8> = a
            .query_row("SELECT healthplug_row_mac('t', 1)", [], |r| r.get(0))
            .unwrap();
        let ok: bool = b
            .query_row("SELECT healthplug_row_ok(?1, 't', 1)", [mac], |r| r.get(0))
            .unwrap();
        assert!(!ok);
    }

    #[test]
    fn a_trigger_cannot_call_the_mac_function() {
        let c = conn();
        c.execute_batch("CREATE TABLE t (a, mac); CREATE TABLE log (x);")
            .unwrap();
        let planted = c.execute_batch(
            "CREATE TRIGGER forge AFTER INSERT ON log BEGIN
               INSERT INTO t VALUES (1, healthplug_row_mac('t', 1));
             END;
             INSERT INTO log VALUES (1);",
        );
        assert!(planted.is_err(), "a trigger computed a row MAC");
    }
}
