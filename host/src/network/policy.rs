//! Egress policy: the platform's caps and test-only switches (which no
//! manifest can set), and the per-invocation grant the host computes from
//! manifest ∩ user grant ∩ policy.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

use super::Origin;

/// A name resolver override: host and port to addresses (test only).
pub type Resolver = Arc<dyn Fn(&str, u16) -> Option<Vec<IpAddr>> + Send + Sync>;

/// Platform egress policy.
#[derive(Clone)]
pub struct NetworkPolicy {
    /// Requests per invocation, at most.
    pub max_requests: u32,
    /// Request body bytes, at most.
    pub max_request_bytes: u64,
    /// Response body bytes, at most.
    pub max_response_bytes: u64,
    /// Time per request, at most (also bounded by the invocation's).
    pub request_timeout: Duration,
    /// TEST ONLY: let requests reach loopback addresses, for in-process
    /// test servers. Never set by a manifest; off by default.
    pub allow_loopback_for_tests: bool,
    /// TEST ONLY: extra trusted root certificates (DER).
    pub extra_roots_for_tests: Vec<Vec<u8>>,
    /// TEST ONLY: resolve names with this instead of DNS.
    pub resolver_for_tests: Option<Resolver>,
}

impl Default for NetworkPolicy {
    fn default() -> NetworkPolicy {
        NetworkPolicy {
            max_requests: 20,
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            allow_loopback_for_tests: false,
            extra_roots_for_tests: Vec::new(),
            resolver_for_tests: None,
        }
    }
}

impl fmt::Debug for NetworkPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkPolicy")
            .field("max_requests", &self.max_requests)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("allow_loopback_for_tests", &self.allow_loopback_for_tests)
            .field("extra_roots_for_tests", &self.extra_roots_for_tests.len())
            .field("resolver_for_tests", &self.resolver_for_tests.is_some())
            .finish()
    }
}

/// What one invocation may reach.
#[derive(Clone, Debug)]
pub struct EgressGrant {
    /// Origins granted (manifest ∩ user grant).
    pub origins: Vec<Origin>,
    /// Requests, at most.
    pub max_requests: u32,
    /// Request body bytes, at most.
    pub max_request_bytes: u64,
    /// Response body bytes, at most.
    pub max_response_bytes: u64,
    /// When the invocation's time is up.
    pub deadline: Instant,
}

/// What an invocation sent and received.
#[derive(Debug, Default)]
pub struct EgressStats {
    /// Requests attempted (refused ones included).
    pub requests: AtomicU32,
    /// Requests refused by policy.
    pub refused: AtomicU32,
    /// Request body bytes sent.
    pub bytes_out: AtomicU64,
    /// Response body bytes received.
    pub bytes_in: AtomicU64,
}
