//! Each user's time zone: an IANA name (default `UTC`), which sets the
//! local hours and days that aggregates and day-snapping follow. Kept in
//! its own table (deleted with the user) and checked against the bundled
//! time-zone database when set and when read.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::{AuditEvent, AuditKind, UserRecord, Vault, audit};
use crate::consent::Calendar;

/// The zone name stored for `user_id`, if one was set.
pub(crate) fn get(conn: &Connection, user_id: i64) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT tz FROM user_zones WHERE user_id = ?1")?;
    Ok(stmt.query_row(params![user_id], |r| r.get(0)).optional()?)
}

impl Vault {
    /// The calendar of `user` (UTC when no zone was set).
    pub fn user_calendar(&self, user: &UserRecord) -> Result<Calendar> {
        let conn = self.conn()?;
        match get(&conn, user.id)? {
            None => Ok(Calendar::utc()),
            Some(name) => Ok(Calendar::named(&name)?),
        }
    }

    /// Sets the time zone of `user` to the IANA zone `name`.
    pub fn set_user_zone(&self, user: &UserRecord, name: &str) -> Result<Calendar> {
        let calendar = Calendar::named(name)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO user_zones (user_id, tz) VALUES (?1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET tz = excluded.tz",
                params![user.id, calendar.name()],
            )?;
            audit::append(
                tx,
                self.keys(),
                &AuditEvent::new(AuditKind::User)
                    .user(&user.user_ref)
                    .outcome("time zone set"),
            )?;
            Ok(())
        })?;
        Ok(calendar)
    }
}
