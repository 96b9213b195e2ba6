//! An in-process HTTPS server on 127.0.0.1 playing a partner's API, with a
//! certificate from a test CA, for the egress tests. Plugins reach it only
//! through the host's test-only switches (a resolver mapping test names to
//! 127.0.0.1, loopback allowed, the test CA trusted), all off by default.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Host names the test certificate covers.
pub const TEST_HOSTS: [&str; 3] = ["api.partner.test", "evil.test", "other.partner.test"];

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `Host` header.
    pub host: String,
    /// Path and query.
    pub path: String,
    /// Header names received.
    pub headers: Vec<String>,
}

/// The running server.
pub struct TestServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The test CA certificate (DER) to trust.
    pub ca_der: Vec<u8>,
    /// Requests received.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _runtime: tokio::runtime::Runtime,
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

fn full(status: u16, body: impl Into<Bytes>, headers: &[(&str, String)]) -> Response<Body> {
    let mut r = Response::builder().status(status);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(Full::new(body.into()).map_err(|never| match never {}).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed()))
}

fn route(path: &str, port: u16) -> Response<Body> {
    let json = |v: serde_json::Value| full(200, v.to_string(), &[("content-type", "application/json".into())]);
    match path {
        "/v1/samples?since=0" => json(serde_json::json!({
            "samples": [
                { "type": "steps", "start": "2024-03-01T08:00:00Z", "end": "2024-03-01T09:00:00Z", "value": 1200, "unit": "count", "source": "Partner Band" },
                { "type": "steps", "start": "2024-03-01T09:00:00Z", "end": "2024-03-01T10:00:00Z", "value": 800, "unit": "count", "source": "Partner Band" },
                { "type": "heart-rate", "start": "2024-03-01T08:30:00Z", "value": 72, "unit": "count/min", "source": "Partner Band" }
            ],
            "cursor": 100,
            "more": true
        })),
        "/v1/samples?since=100" => json(serde_json::json!({
            "samples": [
                { "type": "body-mass", "start": "2024-03-02T07:00:00Z", "value": 154.0, "unit": "lb", "source": "Partner Scale" },
                { "type": "blood-type", "start": "2024-03-02T07:00:00Z", "value": 1, "unit": "1" }
            ],
            "cursor": 200,
            "more": false
        })),
        p if p.starts_with("/v1/samples") => json(serde_json::json!({ "samples": [], "cursor": 200, "more": false })),
        "/hello" => full(200, "hello", &[]),
        "/redirect" => full(302, "", &[("location", format!("https://evil.test:{port}/stolen"))]),
        "/big" => full(200, vec![b'x'; 2 * 1024 * 1024], &[]),
        "/chunked-big" => Response::new(Chunks { left: 64 }.boxed()),
        _ => full(404, "not found", &[]),
    }
}

/// A body of `left` 32 KiB chunks with no length: sent chunked.
struct Chunks {
    left: usize,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'y'; 32 * 1024])))))
    }
}

impl TestServer {
    /// Starts the server.
    pub fn start() -> anyhow::Result<TestServer> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate()?;
        let leaf = rcgen::CertificateParams::new(TEST_HOSTS.iter().map(|h| h.to_string()).collect::<Vec<_>>())?
            .signed_by(&leaf_key, &issuer)?;
        let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(|e| anyhow::anyhow!("{e}"))?,
        )?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))?;
        let port = listener.local_addr()?.port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let log = log.clone();
                        async move {
                            let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                            let host = req
                                .headers()
                                .get("host")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            let headers = req.headers().keys().map(|k| k.as_str().to_string()).collect();
                            if let Ok(mut l) = log.lock() {
                                l.push(Seen {
                                    host,
                                    path: path.clone(),
                                    headers,
                                });
                            }
                            Ok::<_, std::convert::Infallible>(route(&path, port))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(TestServer {
            port,
            ca_der: ca_cert.der().to_vec(),
            seen,
            _runtime: runtime,
        })
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|l| l.clone()).unwrap_or_default()
    }
}
