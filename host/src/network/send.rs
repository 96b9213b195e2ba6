//! The host's `wasi:http` send hook: every outgoing request of a plugin
//! goes through [`EgressHooks::send_request`], which refuses anything the
//! grant and policy do not allow and otherwise connects, itself, to the
//! address it checked.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::header::HeaderName;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks,
};

use super::capped::Capped;
use super::{EgressGrant, EgressStats, NetworkPolicy, non_global_reason};
use crate::consent::Capability;
use crate::ports::{AuditEvent, AuditKind};
use crate::ports::{AuditSink, GrantSource};

/// Headers a plugin may never set, beyond wasi-http's defaults.
const EXTRA_FORBIDDEN: [&str; 4] = ["forwarded", "x-real-ip", "via", "proxy-authorization"];

/// Every header starting with this is forbidden too (`X-Forwarded-For`,
/// `-Host`, `-Proto`, `-Port`, `-Server`, ...).
const FORBIDDEN_PREFIX: &str = "x-forwarded-";

/// Whether a plugin may not send the header `name` (names are lowercase).
fn forbidden(name: &HeaderName) -> bool {
    DEFAULT_FORBIDDEN_HEADERS.contains(name)
        || EXTRA_FORBIDDEN.contains(&name.as_str())
        || name.as_str().starts_with(FORBIDDEN_PREFIX)
}

/// The `Host` header for a request to `host` on `port`: the port is kept
/// unless it is https's default.
fn host_header(host: &str, port: u16) -> String {
    if port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// Who is sending: the user and plugin the invocation runs for.
#[derive(Clone)]
pub struct EgressParty {
    /// The user's current network grant, read per request.
    pub grants: Arc<dyn GrantSource>,
    /// Where every request is audited before it is sent.
    pub audit: Arc<dyn AuditSink>,
    /// The user's row id.
    pub user_id: i64,
    /// The user's ref.
    pub user_ref: String,
    /// The plugin.
    pub plugin: String,
    /// Its component digest.
    pub digest: String,
}

/// The hooks of one invocation.
#[derive(Clone)]
pub struct EgressHooks {
    /// What the manifest allows (the user's grant is read per request).
    manifest: Arc<EgressGrant>,
    policy: Arc<NetworkPolicy>,
    stats: Arc<EgressStats>,
    audit: Arc<EgressParty>,
}

impl EgressHooks {
    /// Hooks for one invocation. `manifest` holds the manifest's origins and
    /// the caps (already bounded by policy); each request also needs the
    /// user's network grant, read afresh, so a revoke bites at once.
    pub fn new(manifest: EgressGrant, policy: NetworkPolicy, party: EgressParty) -> EgressHooks {
        EgressHooks {
            manifest: Arc::new(manifest),
            policy: Arc::new(policy),
            stats: Arc::new(EgressStats::default()),
            audit: Arc::new(party),
        }
    }

    /// The grant in force now: the manifest's origins the user granted.
    fn grant(&self) -> Result<Option<EgressGrant>, String> {
        let party = &self.audit;
        let scope = party
            .grants
            .capability(party.user_id, &party.plugin, Capability::Network)
            .map_err(|e| e.to_string())?;
        Ok(scope.map(|scope| {
            let mut g = (*self.manifest).clone();
            g.origins.retain(|o| scope.allows_origin(&o.to_string()));
            g
        }))
    }

    /// The invocation's counters.
    pub fn stats(&self) -> Arc<EgressStats> {
        self.stats.clone()
    }

    /// Runs the policy checks on `url` without sending anything (and
    /// without counting it): the address a request would connect to, or why
    /// it would be refused.
    pub async fn preflight(&self, url: &str) -> Result<IpAddr, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        self.check(&uri, 1).await.map(|(_, ip, _)| ip).map_err(|r| r.reason)
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type Sent = Result<(http::Response<WasiBody>, IoFuture), Error>;

impl WasiHttpHooks for EgressHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(forbidden)
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        let hooks = self.clone();
        Box::new(async move { hooks.send(request, options).await })
    }
}

/// A refusal: audited, counted, and turned into the error the plugin sees.
struct Refusal {
    error: Error,
    reason: String,
}

impl EgressHooks {
    /// Appends an audit entry about the request; `Err` when it cannot be
    /// written, which fails the request: before sending, nothing is sent;
    /// after, the response is withheld from the plugin.
    fn audit(&self, method: &str, host: &str, outcome: &str, detail: String) -> Result<(), Error> {
        let mut event = AuditEvent::new(AuditKind::Egress)
            .user(&self.audit.user_ref)
            .plugin(&self.audit.plugin, &self.audit.digest)
            .outcome(outcome)
            .detail(detail);
        event.data_type = None;
        event.fields = Some(format!("{method} {host}"));
        match self.audit.audit.record(vec![event]) {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::InternalError(Some(format!(
                "the request could not be audited, so it fails: {e:#}"
            )))),
        }
    }

    async fn send(&self, mut request: http::Request<WasiBody>, options: Option<RequestOptions>) -> Sent {
        let method = request.method().to_string();
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or("").to_string();
        let n = self.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let checked = self.check(&uri, n).await;
        let (grant, ip, port) = match checked {
            Ok(ok) => ok,
            Err(refusal) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                self.audit(&method, &host, "refused", refusal.reason)?;
                return Err(refusal.error);
            }
        };
        // Strip what the plugin may not send, whatever got through.
        let names: Vec<HeaderName> = request.headers().keys().filter(|n| forbidden(n)).cloned().collect();
        for name in names {
            request.headers_mut().remove(&name);
        }
        if let Ok(value) = http::HeaderValue::from_str(&host_header(&host, port)) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        // Fail closed: nothing leaves unless its audit entry is written.
        self.audit(&method, &host, "sending", format!("{ip}:{port}"))?;
        let remaining = grant
            .deadline
            .saturating_duration_since(Instant::now())
            .min(self.policy.request_timeout);
        let timeouts = options
            .map(|o| o.connect_timeout.unwrap_or(remaining).min(remaining))
            .unwrap_or(remaining);
        let result = tokio::time::timeout(remaining, self.exchange(request, &host, ip, port, &grant, timeouts)).await;
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(Error::HttpResponseTimeout),
        };
        let audited = match &result {
            Ok((response, _)) => self.audit(
                &method,
                &host,
                &response.status().as_u16().to_string(),
                format!(
                    "{ip}:{port}; {} request bytes",
                    self.stats.bytes_out.load(Ordering::Relaxed)
                ),
            ),
            Err(e) => self.audit(&method, &host, "failed", format!("{ip}:{port}; {e}")),
        };
        audited?;
        result
    }

    /// Scheme, allowlist, request count and resolved addresses.
    async fn check(&self, uri: &http::Uri, n: u32) -> Result<(Arc<EgressGrant>, IpAddr, u16), Refusal> {
        let deny = |error, reason: String| Refusal { error, reason };
        let grant = match self.grant() {
            Ok(Some(g)) => Arc::new(g),
            Ok(None) => {
                return Err(deny(
                    Error::HttpRequestDenied,
                    "network access is not granted by the user".into(),
                ));
            }
            Err(e) => {
                return Err(deny(
                    Error::InternalError(None),
                    format!("reading the network grant failed: {e}"),
                ));
            }
        };
        if n > grant.max_requests {
            return Err(deny(
                Error::ConnectionLimitReached,
                format!("more than {} requests in one invocation", grant.max_requests),
            ));
        }
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "https" {
            return Err(deny(
                Error::HttpRequestDenied,
                format!("scheme `{scheme}` refused: only https is allowed"),
            ));
        }
        let host = uri.host().unwrap_or("").trim_matches(|c| c == '[' || c == ']');
        let port = uri.port_u16().unwrap_or(443);
        if host.parse::<IpAddr>().is_ok() {
            return Err(deny(
                Error::HttpRequestDenied,
                format!("IP literal `{host}` refused: requests must name an allowlisted host"),
            ));
        }
        if !grant.origins.iter().any(|o| o.matches(scheme, host, port)) {
            return Err(deny(
                Error::HttpRequestDenied,
                format!("https://{host}:{port} is not an allowlisted origin"),
            ));
        }
        let addresses = self
            .resolve(host, port)
            .await
            .map_err(|reason| deny(Error::DestinationNotFound, reason))?;
        for ip in &addresses {
            let loopback_test = self.policy.allow_loopback_for_tests && ip.is_loopback();
            if let Some(reason) = non_global_reason(*ip)
                && !loopback_test
            {
                return Err(deny(
                    Error::DestinationIpProhibited,
                    format!("{host} resolves to {ip}: {reason}"),
                ));
            }
        }
        let ip = *addresses
            .first()
            .ok_or_else(|| deny(Error::DestinationNotFound, format!("{host} has no address")))?;
        Ok((grant, ip, port))
    }

    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        if let Some(resolver) = &self.policy.resolver_for_tests {
            return resolver(host, port).ok_or_else(|| format!("{host} does not resolve"));
        }
        let lookup = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| format!("resolving {host} timed out"))?
            .map_err(|e| format!("resolving {host} failed: {e}"))?;
        Ok(lookup.map(|a| a.ip()).collect())
    }

    /// Connects to the checked address (never re-resolving) and speaks TLS
    /// with the host's name (webpki roots, plus a test's own).
    async fn connect_tls(
        &self,
        host: &str,
        ip: IpAddr,
        port: u16,
        connect_timeout: Duration,
    ) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, Error> {
        let tcp = tokio::time::timeout(
            connect_timeout,
            tokio::net::TcpStream::connect(SocketAddr::new(ip, port)),
        )
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(Error::Connect)?;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        for der in &self.policy.extra_roots_for_tests {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|_| Error::TlsCertificateError)?;
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name =
            rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| Error::HttpRequestUriInvalid)?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(Error::Tls)
    }

    /// Over the checked connection, sends the request (its body capped)
    /// and returns the response with its body capped.
    async fn exchange(
        &self,
        mut request: http::Request<WasiBody>,
        host: &str,
        ip: IpAddr,
        port: u16,
        grant: &EgressGrant,
        connect_timeout: Duration,
    ) -> Sent {
        let tls = self.connect_tls(host, ip, port, connect_timeout).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(tls))
            .await
            .map_err(Error::from)?;
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(path)
            .build()
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        let stats = self.stats.clone();
        let request = request.map(|body| {
            Capped {
                inner: body,
                limit: grant.max_request_bytes,
                counter: Arc::new(move |n| stats.bytes_out.fetch_add(n, Ordering::Relaxed) + n),
                too_big: |n| Error::HttpRequestBodySize(Some(n)),
            }
            .boxed_unsync()
        });
        let mut conn = Box::pin(conn);
        let send = sender.send_request(request);
        tokio::pin!(send);
        // Drive the connection while waiting for the response head.
        let response = tokio::select! {
            r = &mut send => r.map_err(Error::from)?,
            r = &mut conn => {
                r.map_err(Error::from)?;
                send.await.map_err(Error::from)?
            }
        };
        if let Some(len) = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > grant.max_response_bytes
        {
            return Err(Error::HttpResponseBodySize(Some(len)));
        }
        let stats = self.stats.clone();
        let limit = grant.max_response_bytes;
        let response = response.map(|incoming| {
            Capped {
                inner: incoming.map_err(Error::from),
                limit,
                counter: Arc::new(move |n| stats.bytes_in.fetch_add(n, Ordering::Relaxed) + n),
                too_big: |n| Error::HttpResponseBodySize(Some(n)),
            }
            .boxed_unsync()
        });
        let io: IoFuture = Box::new(async move { conn.await.map_err(Error::from) });
        Ok((response, io))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_forwarding_header_is_forbidden_whatever_its_case() {
        for name in [
            "x-forwarded-for",
            "X-Forwarded-Host",
            "x-forwarded-proto",
            "X-FORWARDED-PORT",
            "x-forwarded-server",
            "x-forwarded-anything-else",
            "forwarded",
            "x-real-ip",
            "via",
            "proxy-authorization",
            "host",
            "connection",
        ] {
            let header = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert!(forbidden(&header), "{name} must be stripped");
        }
        for name in ["accept", "authorization", "x-forwarded", "x-request-id", "content-type"] {
            let header = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert!(!forbidden(&header), "{name} is allowed");
        }
    }

    #[test]
    fn the_host_header_keeps_a_non_default_port() {
        assert_eq!(host_header("api.partner.example", 443), "api.partner.example");
        assert_eq!(host_header("api.partner.example", 8443), "api.partner.example:8443");
        assert_eq!(host_header("api.partner.example", 80), "api.partner.example:80");
    }
}
