//! PostgreSQL for the multi-host tests: the database
//! `HEALTHPLUG_TEST_DATABASE_URL` names (`.ci/run` sets it), a schema of
//! its own for each test (dropped with it), and a way to restart the
//! server under load.

/// The environment variable naming the test database.
pub const TEST_DATABASE_ENV: &str = "HEALTHPLUG_TEST_DATABASE_URL";

/// The test database's URL, or `None` after saying why the test skips.
pub fn test_database(what: &str) -> Option<String> {
    let url = std::env::var(TEST_DATABASE_ENV).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("skipped: {TEST_DATABASE_ENV} is not set, so no PostgreSQL for {what}");
    }
    url
}

async fn run(base: &str, sql: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = driver.await;
    Ok(())
}

/// A fresh schema, dropped when this is.
pub struct Schema {
    base: String,
    name: String,
    /// A database URL whose connections use the schema.
    pub url: String,
}

impl Schema {
    /// Creates `hp_it_<name>_<pid>` in the database `base` names.
    pub async fn create(base: &str, name: &str) -> anyhow::Result<Schema> {
        let name = format!("hp_it_{name}_{}", std::process::id());
        run(
            base,
            &format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"),
        )
        .await?;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(Schema {
            base: base.to_string(),
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            name,
        })
    }

    /// Runs SQL in the schema (what the test checks behind the hosts).
    pub async fn query_i64(&self, sql: &str) -> anyhow::Result<i64> {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        let n: i64 = client.query_one(sql, &[]).await?.get(0);
        drop(client);
        let _ = driver.await;
        Ok(n)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, sql) = (
            self.base.clone(),
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(run(&base, &sql)))
        })
        .join();
    }
}

/// Restarts the machine's PostgreSQL cluster (`pg_ctlcluster`, as the
/// brief says it is started); the error says why it could not.
pub fn restart_postgres() -> anyhow::Result<()> {
    let versions = std::fs::read_dir("/etc/postgresql")?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Vec<_>>();
    let version = versions
        .first()
        .ok_or_else(|| anyhow::anyhow!("no cluster under /etc/postgresql"))?;
    let status = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"])
        .status()?;
    anyhow::ensure!(status.success(), "pg_ctlcluster restart failed: {status}");
    Ok(())
}
