//! Who is calling: the scopes a bearer credential may carry, and the
//! verification of credentials issued by a platform's identity provider
//! (JWTs). The opaque tokens healthplug issues itself are stored by the
//! vault and checked by the platform; this module names what either kind
//! of credential may allow, and verifies the identity provider's.

mod jwks;
mod jwks_fetch;
mod jwt;
mod jwt_claims;
mod jwt_config;
mod jwt_error;
mod scopes;

#[cfg(test)]
mod jwt_source_tests;
#[cfg(test)]
mod jwt_test_support;
#[cfg(test)]
mod jwt_tests;

pub use jsonwebtoken::Algorithm as JwtAlgorithm;
pub use jwks::MAX_KEYS;
pub use jwks_fetch::{FETCH_TIMEOUT, MAX_JWKS_BYTES};
pub use jwt::{JwtVerifier, VerifiedJwt};
pub use jwt_claims::{MAX_TOKEN_BYTES, MAX_USER_CHARS};
pub use jwt_config::{JwksSource, JwtConfig, MAX_LEEWAY_S};
pub use jwt_error::{JwtError, UserProblem};
pub use scopes::{Scope, ScopeError, Scopes};
