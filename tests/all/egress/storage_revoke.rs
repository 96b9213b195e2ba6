//! A storage revoke while the plugin runs: its next storage call is
//! refused, not served from what it was granted when it started.

use std::time::Duration;

use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::Capability;
use serde_json::json;

use super::{install_netprobe, net_home};

#[test]
fn a_storage_revoke_bites_on_the_next_storage_call_of_a_running_invocation() -> anyhow::Result<()> {
    // The revoke may land before the plugin's first read on a loaded
    // machine; then nothing is shown, so try again with a longer lead.
    for lead_ms in [150, 400, 1_000] {
        let home = std::sync::Arc::new(net_home(None, &[])?);
        install_netprobe(&home, 443)?;
        let storage = GrantRequest {
            storage: true,
            ..GrantRequest::default()
        };
        home.grant_with("ann", "netprobe", storage)?;
        home.invoke_json("ann", "netprobe", "put", json!({ "key": "k", "value": "kept" }))?;
        let running = {
            let home = home.clone();
            std::thread::spawn(move || {
                home.invoke_json(
                    "ann",
                    "netprobe",
                    "poll",
                    json!({ "key": "k", "iterations": 400, "sleep_ms": 5 }),
                )
            })
        };
        std::thread::sleep(Duration::from_millis(lead_ms));
        home.host.revoke_capability("ann", "netprobe", Capability::Storage)?;
        let (out, _) = running
            .join()
            .map_err(|_| anyhow::anyhow!("invocation thread panicked"))??;
        let outcomes = out["outcomes"].as_array().cloned().unwrap_or_default();
        let Some(first_refused) = outcomes.iter().position(|o| o["ok"] == false) else {
            anyhow::bail!("the running plugin kept reading storage after the revoke: {out}");
        };
        if first_refused == 0 {
            continue;
        }
        assert!(outcomes[..first_refused].iter().all(|o| o["result"] == "kept"));
        for o in &outcomes[first_refused..] {
            assert_eq!(o["ok"], false, "served again after the revoke: {out}");
            assert!(o["error"].as_str().unwrap_or("").contains("not granted"), "{o}");
        }
        return Ok(());
    }
    anyhow::bail!("the revoke always landed before the plugin's first read")
}
