//! TLS to the database, attacker first: a server whose certificate this
//! host cannot verify is refused (never a fall back to the clear), the
//! same server is accepted once its CA is trusted and the session is
//! really encrypted, and a malformed CA file is named. Skipped, saying
//! why, without a test database or when its server has TLS off.

use std::path::PathBuf;

use anyhow::Result;

use super::PgBackend;
use super::testing::{self, TestSchema};
use crate::vault::{DerivedKeys, SecretKey};

/// The schema, a TLS URL for it (`localhost`, which the server's
/// certificate names on these machines), and the server's certificate.
fn tls_setup() -> Result<Option<(TestSchema, String, PathBuf)>> {
    let Some(base) = testing::url() else {
        eprintln!("skipped: {} is not set", testing::TEST_DATABASE_ENV);
        return Ok(None);
    };
    if testing::show(&base, "ssl")? != "on" {
        eprintln!("skipped: the test database's server has ssl off");
        return Ok(None);
    }
    let cert = PathBuf::from(testing::show(&base, "ssl_cert_file")?);
    if std::fs::read(&cert).is_err() {
        eprintln!(
            "skipped: the server's certificate {} is not readable here",
            cert.display()
        );
        return Ok(None);
    }
    let schema = TestSchema::new(&base)?;
    let url = schema
        .url
        .replace("127.0.0.1", "localhost")
        .replace("sslmode=disable", "sslmode=require");
    Ok(Some((schema, url, cert)))
}

fn keys() -> Result<(DerivedKeys, String)> {
    Ok(DerivedKeys::from_master(&SecretKey::generate()?))
}

#[test]
fn an_unverifiable_server_is_refused_and_a_trusted_one_is_encrypted() -> Result<()> {
    let Some((_schema, url, cert)) = tls_setup()? else {
        return Ok(());
    };
    let (keys, check) = keys()?;
    let refused = PgBackend::open_with_ca(&url, &keys, &check, None)
        .err()
        .map(|e| format!("{e:#}"));
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("certificate")),
        "a server with an unknown certificate was accepted: {refused:?}"
    );
    let backend = PgBackend::open_with_ca(&url, &keys, &check, Some(&cert))?;
    use crate::vault::backend::Backend;
    let encrypted = backend.tamper("SELECT 1 FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")?;
    assert_eq!(encrypted, 1, "the session is not encrypted");
    Ok(())
}

#[test]
fn a_malformed_ca_file_is_named() -> Result<()> {
    let Some((_schema, url, _cert)) = tls_setup()? else {
        return Ok(());
    };
    let (keys, check) = keys()?;
    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("ca.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )?;
    let e = PgBackend::open_with_ca(&url, &keys, &check, Some(&bad))
        .err()
        .map(|e| format!("{e:#}"));
    assert!(e.as_deref().is_some_and(|e| e.contains("ca.pem")), "{e:?}");
    Ok(())
}
