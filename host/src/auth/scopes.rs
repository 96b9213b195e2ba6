//! The scopes of a bearer credential: on the MCP endpoint, and on the
//! consent page's JSON endpoints. A credential carries a set of them; a
//! request needs one. There is deliberately no
//! administrative scope: nothing reachable with a bearer credential
//! installs plugins, grants consent or reads another user's data.
//!
//! Rules:
//! 1. `tools:list` allows `tools/list` (and the protocol's own requests:
//!    `initialize`, `ping`, `server/discover`).
//! 2. `tools:call` allows `tools/call`, for the caller's own user only.
//! 3. `records:read` allows reading the user's own activity log and
//!    exporting their own records (the page's JSON endpoints). A new token
//!    does not carry it unless asked for: an assistant calling tools needs
//!    only the tool scopes.
//! 4. A scope string is a space-separated list (RFC 6749 §3.3); an unknown
//!    scope in a token request is an error naming it, while unknown scopes
//!    in an identity provider's token are ignored (they belong to others).

use std::collections::BTreeSet;
use std::fmt;

/// One scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// List the tools of the plugins the user has granted something to.
    ToolsList,
    /// Call those tools for the user.
    ToolsCall,
    /// Read the user's own activity log and export their own records.
    RecordsRead,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 3] = [Scope::ToolsList, Scope::ToolsCall, Scope::RecordsRead];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ToolsList => "tools:list",
            Scope::ToolsCall => "tools:call",
            Scope::RecordsRead => "records:read",
        }
    }

    /// The scope with this name, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope string that names a scope healthplug does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: the scopes are `tools:list`, `tools:call` and `records:read`")]
pub struct ScopeError(pub String);

/// A set of scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Every scope.
    pub fn all() -> Scopes {
        Scopes(Scope::ALL.into_iter().collect())
    }

    /// The MCP scopes, `tools:list` and `tools:call` (the default for a
    /// new token).
    pub fn tools() -> Scopes {
        Scopes([Scope::ToolsList, Scope::ToolsCall].into_iter().collect())
    }

    /// Parses a space- or comma-separated list, refusing unknown names.
    pub fn parse_strict(text: &str) -> Result<Scopes, ScopeError> {
        let mut set = BTreeSet::new();
        for name in split(text) {
            set.insert(
                Scope::from_name(name).ok_or_else(|| ScopeError(crate::text::sanitize_line(name).into_owned()))?,
            );
        }
        Ok(Scopes(set))
    }

    /// Parses a space-separated list, ignoring names that are not ours.
    pub fn parse_lenient(text: &str) -> Scopes {
        Scopes(split(text).filter_map(Scope::from_name).collect())
    }

    /// Whether `scope` is in the set.
    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',']).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parsing_names_the_unknown_scope() {
        assert_eq!(Scopes::parse_strict("tools:list tools:call").unwrap(), Scopes::tools());
        assert_eq!(Scopes::parse_strict("tools:list,tools:call").unwrap(), Scopes::tools());
        assert!(Scopes::parse_strict("records:read").unwrap().allows(Scope::RecordsRead));
        let err = Scopes::parse_strict("tools:list admin").unwrap_err();
        assert_eq!(err, ScopeError("admin".into()));
        assert!(err.to_string().contains("`admin`"));
    }

    #[test]
    fn lenient_parsing_ignores_other_services_scopes() {
        let s = Scopes::parse_lenient("openid profile tools:call");
        assert!(s.allows(Scope::ToolsCall));
        assert!(!s.allows(Scope::ToolsList));
        assert!(Scopes::parse_lenient("openid email").is_empty());
    }

    #[test]
    fn display_round_trips() {
        let all = Scopes::all();
        assert_eq!(all.to_string(), "tools:list tools:call records:read");
        assert_eq!(Scopes::tools().to_string(), "tools:list tools:call");
        assert_eq!(Scopes::parse_strict(&all.to_string()).unwrap(), all);
        assert_eq!(Scopes::default().to_string(), "");
    }
}
