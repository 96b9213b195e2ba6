//! Test support: a PostgreSQL schema of its own for each vault a test
//! opens (`HEALTHPLUG_TEST_DATABASE_URL` names the database), dropped when
//! the test is done.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};

/// The environment variable naming the test database.
pub(crate) const TEST_DATABASE_ENV: &str = "HEALTHPLUG_TEST_DATABASE_URL";

static NEXT: AtomicU32 = AtomicU32::new(0);
static CREATED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// The test database's URL, if set.
pub(crate) fn url() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// Runs `f` on a plain connection to `base`, on a runtime of its own.
fn with_client<T>(
    base: &str,
    f: impl AsyncFnOnce(&tokio_postgres::Client) -> Result<T, tokio_postgres::Error>,
) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
            .await
            .context("connecting to the test database")?;
        let driver = tokio::spawn(connection);
        let value = f(&client).await?;
        drop(client);
        let _ = driver.await;
        Ok(value)
    })
}

fn run(base: &str, sql: &str) -> Result<()> {
    with_client(base, async |c| c.batch_execute(sql).await)
}

/// A fresh, empty schema, dropped when this is.
pub(crate) struct TestSchema {
    base: String,
    name: String,
    /// A URL whose connections use the schema.
    pub url: String,
}

impl TestSchema {
    /// Creates one in the database `base` names.
    pub(crate) fn new(base: &str) -> Result<TestSchema> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("hp_test_{}_{n}", std::process::id());
        run(base, &format!("CREATE SCHEMA {name}"))?;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(TestSchema {
            base: base.to_string(),
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            name,
        })
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = run(&self.base, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// A URL of `base` whose connections use a fresh, empty schema, dropped by
/// [`drop_schemas`].
pub(crate) fn fresh_schema(base: &str) -> Result<String> {
    let schema = TestSchema::new(base)?;
    let url = schema.url.clone();
    let name = std::mem::take(&mut std::mem::ManuallyDrop::new(schema).name);
    CREATED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((base.to_string(), name));
    Ok(url)
}

/// Drops every schema [`fresh_schema`] created.
pub(crate) fn drop_schemas() -> Result<()> {
    let created = std::mem::take(&mut *CREATED.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    for (base, schema) in created {
        run(&base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
    }
    Ok(())
}

/// The value of a server setting (`SHOW name`).
pub(crate) fn show(base: &str, name: &str) -> Result<String> {
    with_client(base, async |c| {
        Ok(c.query_one(&format!("SHOW {name}"), &[]).await?.get(0))
    })
}
