//! `healthplug token create|list|revoke`: the bearer tokens of
//! `healthplug serve`. `create` prints the secret once, saying so; nothing
//! else ever prints it (it is not stored). `--expires` takes a number and a
//! unit (`90m`, `12h`, `30d`, `2w`) or `never`. Also `healthplug
//! login-link`, the consent page's one-time sign-in links.

use std::time::Duration;

use serde::Serialize;

use super::args::TokenCommand;
use super::output::{Table, line, print_json, short_time};
use super::{CliError, CliResult, usage};
use crate::auth::Scopes;
use crate::platform::{Host, TokenInfo};

/// The longest `--expires`: 100 years (longer is `never`).
const MAX_EXPIRY: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `healthplug login-link <user> [--expires 15m] [--base URL]`: prints a
/// one-time URL that opens a consent-page session for `user`.
pub(super) fn login_link(host: &Host, user: &str, expires: &str, base: Option<&str>, json: bool) -> CliResult {
    let valid = parse_expiry(expires)?.ok_or_else(|| {
        usage(
            "a sign-in link cannot be valid forever",
            "give a short lifetime such as --expires 15m (at most 24h)",
        )
    })?;
    let base = match base {
        Some(b) if b.starts_with("http://") || b.starts_with("https://") => b.trim_end_matches('/').to_string(),
        Some(b) => {
            return Err(usage(
                format!("--base `{}` is not an http(s) URL", line(b)),
                "for example --base https://health.example",
            ));
        }
        None => {
            let config = crate::serve::ServeConfig::load(&crate::serve::default_config_path(host.home()), false)
                .map_err(|e| usage(e.to_string(), "fix serve.toml or pass --base URL"))?;
            crate::web::link_base(config.public_url.as_deref(), config.listen)
        }
    };
    let link = host.create_login_link(user, valid)?;
    let url = crate::web::login_url(&base, &link.secret);
    if json {
        return Ok(print_json(&serde_json::json!({
            "url": url,
            "id": link.id,
            "expires_ms": link.expires_ms,
        }))?);
    }
    println!("{url}");
    println!(
        "Open it in a browser to sign {} in to the consent page. It works once, until {} UTC.",
        line(user),
        short_time(link.expires_ms)
    );
    Ok(())
}

/// Runs one `token` subcommand.
pub(super) fn run(host: &Host, cmd: TokenCommand, json: bool) -> CliResult {
    match cmd {
        TokenCommand::Create {
            user,
            expires,
            scope,
            label,
        } => create(host, &user, &expires, &scope, label.as_deref(), json),
        TokenCommand::List { user } => list(host, user.as_deref(), json),
        TokenCommand::Revoke { id } => revoke(host, &id, json),
    }
}

/// Parses `--expires`: a whole number above zero and a unit (m minutes, h
/// hours, d days, w weeks), or `never` (`None`).
pub(super) fn parse_expiry(text: &str) -> Result<Option<Duration>, CliError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let bad = |why: &str| {
        usage(
            format!("invalid --expires value `{}`: {why}", line(text)),
            "give a number and a unit (90m, 12h, 30d, 2w) or `never`",
        )
    };
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    if digits.is_empty() {
        return Err(bad("it does not start with a number"));
    }
    let unit_secs: u64 = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => return Err(bad("it has no unit (m, h, d or w)")),
        _ => return Err(bad("the unit must be m, h, d or w")),
    };
    let n: u64 = digits.parse().unwrap_or(u64::MAX);
    if n == 0 {
        return Err(bad("a token must be valid for longer than zero"));
    }
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .filter(|d| *d <= MAX_EXPIRY)
        .map(Some)
        .ok_or_else(|| bad("that is more than 100 years (use `never`)"))
}

/// The scopes of `--scope` (each a space- or comma-separated list); the
/// MCP scopes when none is given (`records:read` only when asked for).
fn parse_scopes(given: &[String]) -> Result<Scopes, CliError> {
    if given.is_empty() {
        return Ok(Scopes::tools());
    }
    Scopes::parse_strict(&given.join(" ")).map_err(|e| usage(e.to_string(), "for example --scope tools:list"))
}

/// When a token expires, as shown (UTC).
fn expiry_text(expires_ms: Option<i64>) -> String {
    expires_ms.map_or_else(|| "never".into(), short_time)
}

/// `--json` output of `create`: the token and, this once, its secret.
#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    token: &'a TokenInfo,
    secret: &'a str,
}

fn create(host: &Host, user: &str, expires: &str, scope: &[String], label: Option<&str>, json: bool) -> CliResult {
    let valid = parse_expiry(expires)?;
    let scopes = parse_scopes(scope)?;
    let (token, secret) = host.create_token(user, valid, &scopes, label)?;
    if json {
        return Ok(print_json(&Created {
            token: &token,
            secret: &secret,
        })?);
    }
    println!(
        "created token {} for {}: {}, expires {}",
        token.id,
        line(&token.user),
        token.scopes,
        token
            .expires_ms
            .map_or_else(|| "never".into(), |ms| format!("{} UTC", short_time(ms)))
    );
    if let Some(label) = &token.label {
        println!("label: {label}");
    }
    println!();
    println!("    {secret}");
    println!();
    println!("This is the token's secret and it will not be shown again: healthplug keeps only a hash of it.");
    println!(
        "Send it as `Authorization: Bearer <secret>`; `healthplug token revoke {}` ends it.",
        token.id
    );
    Ok(())
}

fn list(host: &Host, user: Option<&str>, json: bool) -> CliResult {
    let tokens = host.tokens(user)?;
    if json {
        return Ok(print_json(&tokens)?);
    }
    if tokens.is_empty() {
        println!("no tokens (`healthplug token create <user>` creates one)");
        return Ok(());
    }
    let mut t = Table::new(&["ID", "USER", "SCOPES", "LABEL", "CREATED", "EXPIRES", "STATUS"]);
    for token in tokens {
        t.row(vec![
            token.id,
            token.user,
            token.scopes.to_string(),
            token.label.unwrap_or_else(|| "-".into()),
            short_time(token.created_ms),
            expiry_text(token.expires_ms),
            token.status.id().into(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

fn revoke(host: &Host, id: &str, json: bool) -> CliResult {
    let token = host.revoke_token(id.trim())?;
    if json {
        return Ok(print_json(&token)?);
    }
    println!(
        "revoked token {} of {}: it no longer authenticates",
        token.id,
        line(&token.user)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        match parse_expiry(text) {
            Err(CliError::Usage(m, _)) => m,
            Err(CliError::Host(e)) => e.to_string(),
            Ok(d) => format!("parsed as {d:?}"),
        }
    }

    #[test]
    fn expiries_parse_or_name_the_bad_value() {
        let ok = |t: &str| match parse_expiry(t) {
            Ok(d) => d,
            Err(_) => panic!("{t} was refused"),
        };
        assert_eq!(ok("30d"), Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(ok("12h"), Some(Duration::from_secs(12 * 3_600)));
        assert_eq!(ok("90m"), Some(Duration::from_secs(90 * 60)));
        assert_eq!(ok("2w"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(ok(" never "), None);
        assert_eq!(ok("36500d"), Some(MAX_EXPIRY));
        for (bad, why) in [
            ("30x", "the unit must be"),
            ("30", "no unit"),
            ("d", "does not start with a number"),
            ("", "does not start with a number"),
            ("0h", "longer than zero"),
            ("-5d", "does not start with a number"),
            ("1.5d", "the unit must be"),
            ("36501d", "more than 100 years"),
            ("99999999999999999999999d", "more than 100 years"),
        ] {
            let m = message(bad);
            assert!(m.contains(&format!("`{bad}`")) && m.contains(why), "{bad}: {m}");
        }
        assert!(!message("1\u{1b}[2Jd").contains('\u{1b}'));
    }

    #[test]
    fn scopes_default_to_all_and_unknown_ones_are_named() {
        assert!(matches!(parse_scopes(&[]), Ok(s) if s == Scopes::tools()));
        let two = vec!["tools:list".to_string(), "tools:call".to_string()];
        assert!(matches!(parse_scopes(&two), Ok(s) if s == Scopes::tools()));
        match parse_scopes(&["tools:list admin".to_string()]) {
            Err(CliError::Usage(m, _)) => assert!(m.contains("`admin`"), "{m}"),
            _ => panic!("admin was accepted"),
        }
    }
}
