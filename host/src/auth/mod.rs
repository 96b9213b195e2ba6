//! Who is calling: the scopes a bearer credential may carry, and the
//! verification of credentials issued by a platform's identity provider
//! (JWTs). Pure over its inputs: the opaque tokens healthplug issues
//! itself are stored by the vault and checked by the platform; this module
//! only names what either kind of credential may allow.

mod scopes;

pub use scopes::{Scope, ScopeError, Scopes};
