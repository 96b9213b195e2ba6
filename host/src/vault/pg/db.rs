//! One PostgreSQL connection or transaction as the PostgreSQL store uses
//! it: statements prepared once per connection (`prepare_cached`), each
//! call waited for in place (the connection's task runs on the backend's
//! runtime), errors saying which statement failed.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A pooled connection, or a transaction on one.
pub(crate) enum Db<'a> {
    /// A connection (reads, and writes needing no transaction).
    Conn(Box<Object>),
    /// A write transaction.
    Tx(&'a Transaction<'a>),
}

/// Round trips this process made to PostgreSQL: statements (a cached
/// prepared statement is one round trip) and transaction control.
static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);

/// Counts `n` round trips.
pub(super) fn counted(n: u64) {
    ROUND_TRIPS.fetch_add(n, Ordering::Relaxed);
}

/// Round trips this process made to PostgreSQL so far (the benchmarks'
/// queries-per-invocation figure).
pub fn round_trips() -> u64 {
    ROUND_TRIPS.load(Ordering::Relaxed)
}

/// Parameters of a statement.
pub(super) type Params<'p> = [&'p (dyn ToSql + Sync)];

/// The first line of `sql`, to name a statement in an error.
fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or("")
}

impl Db<'_> {
    /// Runs a query; every row.
    pub(super) fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        counted(1);
        futures_executor::block_on(async {
            match self {
                Db::Conn(c) => c.query(&c.prepare_cached(sql).await?, params).await,
                Db::Tx(t) => t.query(&t.prepare_cached(sql).await?, params).await,
            }
        })
        .with_context(|| format!("vault query failed: {}", first_line(sql)))
    }

    /// Runs a query; its one row, if any.
    pub(super) fn opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs a query that returns exactly one row.
    pub(super) fn one(&self, sql: &str, params: &Params<'_>) -> Result<Row> {
        self.opt(sql, params)?
            .with_context(|| format!("vault query returned no row: {}", first_line(sql)))
    }

    /// Runs a statement; how many rows it changed.
    pub(super) fn exec(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        counted(1);
        futures_executor::block_on(async {
            match self {
                Db::Conn(c) => c.execute(&c.prepare_cached(sql).await?, params).await,
                Db::Tx(t) => t.execute(&t.prepare_cached(sql).await?, params).await,
            }
        })
        .with_context(|| format!("vault statement failed: {}", first_line(sql)))
    }

    /// Runs several statements without parameters (migrations).
    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        counted(1);
        futures_executor::block_on(async {
            match self {
                Db::Conn(c) => c.batch_execute(sql).await,
                Db::Tx(t) => t.batch_execute(sql).await,
            }
        })
        .with_context(|| format!("vault statements failed: {}", first_line(sql)))
    }

    /// Whether this is a transaction.
    pub(super) fn in_transaction(&self) -> bool {
        matches!(self, Db::Tx(_))
    }
}

/// An `i64` count as `u64` (a negative count is 0).
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
