//! Each user's time zone: an IANA name (default `UTC`), which sets the
//! local hours and days that aggregates and day-snapping follow. A zone
//! says roughly where someone lives, so it is sealed like the handle
//! (bound to the user's row), kept in its own table (deleted with the
//! user), and checked against the bundled time-zone database when set and
//! when read.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use super::{AuditEvent, AuditKind, UserRecord, Vault};
use crate::consent::Calendar;

/// The sealed zone stored for `user_id`, if one was set.
pub(super) fn get(conn: &Connection, user_id: i64) -> Result<Option<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT tz FROM user_zones WHERE user_id = ?1")?;
    Ok(stmt.query_row(params![user_id], |r| r.get(0)).optional()?)
}

/// Stores the sealed zone of `user_id` (replacing one set before).
pub(super) fn put(tx: &Connection, user_id: i64, sealed: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT INTO user_zones (user_id, tz) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET tz = excluded.tz",
        params![user_id, sealed],
    )?;
    Ok(())
}

fn aad(user_id: i64) -> Vec<u8> {
    format!("user zone:{user_id}").into_bytes()
}

impl Vault {
    /// The calendar of `user` (UTC when no zone was set).
    pub fn user_calendar(&self, user: &UserRecord) -> Result<Calendar> {
        let Some(sealed) = self.store()?.sealed_zone(user.id)? else {
            return Ok(Calendar::utc());
        };
        let plain = self
            .keys()
            .handle
            .open(&sealed, &aad(user.id))
            .context("unsealing a user's time zone")?;
        let name = String::from_utf8(plain.to_vec()).context("a user's time zone is not UTF-8")?;
        Ok(Calendar::named(&name)?)
    }

    /// Sets the time zone of `user` to the IANA zone `name`.
    pub fn set_user_zone(&self, user: &UserRecord, name: &str) -> Result<Calendar> {
        let calendar = Calendar::named(name)?;
        let sealed = self.keys().handle.seal(calendar.name().as_bytes(), &aad(user.id))?;
        self.write(|tx| {
            tx.put_zone(user.id, &sealed)?;
            tx.audit_append(
                &AuditEvent::new(AuditKind::User)
                    .user(&user.user_ref)
                    .outcome("time zone set"),
            )?;
            Ok(())
        })?;
        Ok(calendar)
    }
}
