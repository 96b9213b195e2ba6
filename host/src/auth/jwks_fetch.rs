//! Where a key set comes from: a file, or an identity provider's URL.
//!
//! Threats answered here:
//! 1. A forged key set: a URL must be `https://` (verified against the
//!    Mozilla roots); plain `http://` is allowed only to a loopback IP
//!    literal (tests, a sidecar), never to a name an attacker could
//!    resolve. Redirects are not followed.
//! 2. A slow or huge answer: one fetch is bounded by [`FETCH_TIMEOUT`] and
//!    its body (or a file) by [`MAX_JWKS_BYTES`].
//! 3. Credentials in logs: a URL carrying `user:password@` is refused, so
//!    it never reaches an error message.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::jwt_error::JwtError;
use crate::text::sanitize_line;

/// The most bytes a key set may take.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The longest one fetch of a key set may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest an error's reason may be (it may quote a remote body).
const MAX_REASON: usize = 200;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A place a key set is read from, checked.
pub(crate) enum Fetcher {
    File(PathBuf),
    Url { uri: http::Uri, client: Box<HttpsClient> },
}

impl Fetcher {
    /// A fetcher for a file.
    pub(crate) fn file(path: PathBuf) -> Fetcher {
        Fetcher::File(path)
    }

    /// A fetcher for a URL, refused unless it is `https://` or `http://`
    /// to a loopback IP literal.
    pub(crate) fn url(url: &str) -> Result<Fetcher, JwtError> {
        let uri = check_url(url)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(FETCH_TIMEOUT));
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| JwtError::Config(format!("TLS setup for the JWKS URL failed: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Box::new(Client::builder(TokioExecutor::new()).build(connector));
        Ok(Fetcher::Url { uri, client })
    }

    /// The key set's bytes.
    pub(crate) async fn fetch(&self) -> Result<Vec<u8>, JwtError> {
        match self {
            Fetcher::File(path) => {
                let owned = path.clone();
                tokio::task::spawn_blocking(move || read_capped(&owned))
                    .await
                    .map_err(|e| file_error(path, &e.to_string()))?
                    .map_err(|reason| file_error(path, &reason))
            }
            Fetcher::Url { uri, client } => tokio::time::timeout(FETCH_TIMEOUT, get(client, uri))
                .await
                .map_err(|_| fetch_error(uri, &format!("no complete answer within {} s", FETCH_TIMEOUT.as_secs())))?
                .map_err(|reason| fetch_error(uri, &reason)),
        }
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_JWKS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
    }
    Ok(bytes)
}

async fn get(client: &HttpsClient, uri: &http::Uri) -> Result<Vec<u8>, String> {
    let request = http::Request::get(uri.clone())
        .header(http::header::ACCEPT, "application/jwk-set+json, application/json")
        .header(
            http::header::USER_AGENT,
            concat!("healthplug/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| with_causes(&e))?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("HTTP status {}", response.status().as_u16()));
    }
    let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("answer larger than {MAX_JWKS_BYTES} bytes")
            } else {
                e.to_string()
            }
        })?;
    Ok(body.to_bytes().to_vec())
}

/// `error` and its causes, `: `-separated (hyper's own message is only
/// "client error (Connect)").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// The URL parsed, if it may be fetched.
pub(crate) fn check_url(url: &str) -> Result<http::Uri, JwtError> {
    let refuse = |why: &str| JwtError::Config(format!("JWKS URL {}: {why}", sanitize_line(url)));
    let uri: http::Uri = url.parse().map_err(|_| refuse("not a valid URL"))?;
    let authority = uri.authority().ok_or_else(|| refuse("no host"))?;
    if authority.as_str().contains('@') {
        return Err(JwtError::Config("the JWKS URL must not carry credentials".into()));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback_literal(authority.host()) => Ok(uri),
        Some("http") => Err(refuse(
            "plain http is allowed only to a loopback address such as 127.0.0.1",
        )),
        _ => Err(refuse("must be an https:// URL")),
    }
}

fn is_loopback_literal(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn file_error(path: &Path, reason: &str) -> JwtError {
    JwtError::JwksFile {
        path: sanitize_line(&path.display().to_string()).into_owned(),
        reason: short(reason),
    }
}

fn fetch_error(uri: &http::Uri, reason: &str) -> JwtError {
    JwtError::JwksFetch {
        url: sanitize_line(&uri.to_string()).into_owned(),
        reason: short(reason),
    }
}

/// `text` on one line, at most [`MAX_REASON`] characters.
pub(crate) fn short(text: &str) -> String {
    let line = sanitize_line(text);
    match line.char_indices().nth(MAX_REASON) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_urls_are_fetched() {
        for ok in [
            "https://id.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://127.5.6.7/jwks",
            "http://[::1]:9000/jwks",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com/jwks",
            "http://localhost/jwks",
            "http://10.0.0.1/jwks",
            "http://127.0.0.1.example.com/jwks",
            "ftp://id.example.com/jwks",
            "/etc/jwks.json",
            "https://user:secret@id.example.com/jwks",
            "not a url at all",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(matches!(err, JwtError::Config(_)), "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn reasons_are_one_short_line() {
        let long = "x".repeat(500) + "\n\u{1b}[2J";
        let s = short(&long);
        assert!(s.chars().count() <= MAX_REASON + 1 && !s.contains('\n'));
        assert_eq!(short("a\nb"), "a\\u{a}b");
    }

    #[test]
    fn a_file_larger_than_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, vec![b' '; MAX_JWKS_BYTES + 1]).unwrap();
        assert!(read_capped(&path).unwrap_err().contains("larger than"));
        std::fs::write(&path, vec![b' '; MAX_JWKS_BYTES]).unwrap();
        assert_eq!(read_capped(&path).unwrap().len(), MAX_JWKS_BYTES);
    }
}
