//! Which database holds the vault: SQLite in the home directory (the
//! default) or a PostgreSQL database several hosts share, named by
//! `--database` / `HEALTHPLUG_DATABASE_URL`; a URL is checked when parsed,
//! and its password never reaches a message.

use anyhow::{Context, Result};

use super::pg;

/// The environment variable naming the database (`postgres://...`); unset
/// or empty, the vault is SQLite in the home directory.
pub const DATABASE_ENV: &str = "HEALTHPLUG_DATABASE_URL";

/// Where a vault's database is.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// SQLite, `vault.db` in the home directory (the default).
    Embedded,
    /// A PostgreSQL database several hosts share (the URL, which may hold
    /// a password: never printed).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Embedded => f.write_str("Embedded"),
            Database::Postgres(url) => match pg::Target::parse(url) {
                Ok(t) => write!(f, "Postgres({})", t.shown()),
                Err(_) => f.write_str("Postgres(<unparsable URL>)"),
            },
        }
    }
}

impl Database {
    /// The database `url` names: `postgres://` or `postgresql://` for
    /// PostgreSQL, empty for the embedded default; anything else is refused
    /// with the reason.
    pub fn parse(url: &str) -> Result<Database> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(Database::Embedded);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            pg::Target::parse(url)?;
            return Ok(Database::Postgres(url.to_string()));
        }
        anyhow::bail!(
            "the database URL must start with postgres:// or postgresql:// (or be empty for the embedded SQLite vault)"
        )
    }

    /// The database `HEALTHPLUG_DATABASE_URL` names, or the embedded one.
    pub fn from_env() -> Result<Database> {
        match std::env::var(DATABASE_ENV) {
            Ok(url) => Database::parse(&url).with_context(|| format!("{DATABASE_ENV} is not usable")),
            Err(_) => Ok(Database::Embedded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_or_empty_and_a_password_is_never_shown() {
        assert_eq!(Database::parse("").unwrap(), Database::Embedded);
        assert_eq!(Database::parse("  ").unwrap(), Database::Embedded);
        let url = "postgres://ann:s3cret@db.internal:5433/hp?sslmode=require";
        let db = Database::parse(url).unwrap();
        assert_eq!(db, Database::Postgres(url.into()));
        let shown = format!("{db:?}");
        assert!(
            shown.contains("db.internal:5433/hp") && !shown.contains("s3cret"),
            "{shown}"
        );
        for bad in [
            "mysql://db/x",
            "sqlite:///tmp/v.db",
            "db.internal",
            "postgres://host:notaport/db",
        ] {
            let e = Database::parse(bad).err().map(|e| format!("{e:#}"));
            assert!(e.is_some_and(|e| !e.contains("s3cret")), "{bad} was accepted");
        }
    }
}
