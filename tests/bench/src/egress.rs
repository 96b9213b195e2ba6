//! B10: the per-request cost of the egress policy check.

use healthplug_host::platform::GrantRequest;
use healthplug_tests::TestHome;

use crate::measure::{Report, measure};

/// The per-request cost of the egress policy check (grant lookup,
/// allowlist, resolved-address checks), DNS excluded (a fixed resolver).
pub fn egress_check(report: &mut Report) -> anyhow::Result<()> {
    use healthplug_host::network::{EgressGrant, EgressHooks, EgressParty, NetworkPolicy, Origin};
    let home = TestHome::new()?;
    home.install(&healthplug_tests::example_dir("cloud-sync"))?;
    home.host.grant(
        "bench",
        "cloud-sync",
        &GrantRequest {
            network: Some(Vec::new()),
            ..GrantRequest::default()
        },
    )?;
    let user = home.host.user("bench")?;
    let mut policy = NetworkPolicy::default();
    let ip: std::net::IpAddr = "93.184.216.34".parse()?;
    policy.resolver_for_tests = Some(std::sync::Arc::new(move |_: &str, _: u16| Some(vec![ip])));
    let hooks = EgressHooks::new(
        EgressGrant {
            origins: vec![Origin::parse("https://api.partner.example").map_err(anyhow::Error::msg)?],
            max_requests: 20,
            max_request_bytes: 1 << 20,
            max_response_bytes: 1 << 22,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(3600),
        },
        policy,
        EgressParty {
            grants: std::sync::Arc::new(home.host.vault().clone()),
            audit: std::sync::Arc::new(home.host.vault().clone()),
            user_id: user.id,
            user_ref: user.user_ref.clone(),
            plugin: "cloud-sync".into(),
            digest: String::new(),
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    anyhow::ensure!(
        rt.block_on(hooks.preflight("https://api.partner.example/v1/samples"))
            .is_ok()
    );
    anyhow::ensure!(rt.block_on(hooks.preflight("https://evil.example/")).is_err());
    let allowed = measure(100, 5000, || {
        let _ = rt.block_on(hooks.preflight("https://api.partner.example/v1/samples"));
    });
    report.add(
        "B10",
        "egress policy check per request, allowed",
        allowed.p50_ns / 1e3,
        "µs p50",
        "grant read + allowlist + address checks",
    );
    let refused = measure(100, 5000, || {
        let _ = rt.block_on(hooks.preflight("https://evil.example/"));
    });
    report.add(
        "B10",
        "egress policy check per request, refused",
        refused.p50_ns / 1e3,
        "µs p50",
        "",
    );
    Ok(())
}
