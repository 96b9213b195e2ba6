//! The service's Prometheus metrics: counts and latencies per plugin,
//! limit hits, refusals and requests turned away at the door. Labels are
//! plugin ids, tool names and outcome kinds only: never a user, a token or
//! a health value, so scraping `/metrics` reveals nothing about anyone.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an invocation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The plugin id.
    pub plugin: String,
    /// `ok`, `tool-error`, `refused`, `limit`, `trap`, `busy`, `invalid`
    /// or `error`.
    pub outcome: String,
}

/// Labels naming a plugin and a kind (limit or refusal reason).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The plugin id.
    pub plugin: String,
    /// The limit, or the refusal's reason.
    pub kind: String,
}

/// Labels of a request turned away at the door.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DoorLabels {
    /// `unauthenticated`, `forbidden`, `crowded-user`, `crowded-plugin`,
    /// `crowded-service`, `timeout`, `too-large`.
    pub reason: String,
}

/// Labels of a latency series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// The plugin id.
    pub plugin: String,
}

/// The metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    calls: Family<CallLabels, Counter>,
    latency: Family<PluginLabels, Histogram>,
    limits: Family<KindLabels, Counter>,
    refusals: Family<KindLabels, Counter>,
    door: Family<DoorLabels, Counter>,
    in_flight: Gauge,
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~52 s, doubling.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 20,
    ))
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("healthplug");
        let calls = Family::<CallLabels, Counter>::default();
        let latency = Family::<PluginLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let limits = Family::<KindLabels, Counter>::default();
        let refusals = Family::<KindLabels, Counter>::default();
        let door = Family::<DoorLabels, Counter>::default();
        let in_flight = Gauge::default();
        registry.register("tool_calls", "Tool calls by plugin and outcome", calls.clone());
        registry.register(
            "tool_call_seconds",
            "Tool call latency inside the service, by plugin",
            latency.clone(),
        );
        registry.register(
            "limit_hits",
            "Calls stopped by a limit, by plugin and limit",
            limits.clone(),
        );
        registry.register(
            "refusals",
            "Host calls refused by consent, by plugin and reason",
            refusals.clone(),
        );
        registry.register(
            "turned_away",
            "Requests turned away at the door, by reason",
            door.clone(),
        );
        registry.register("tool_calls_in_flight", "Tool calls running now", in_flight.clone());
        Metrics {
            registry: Mutex::new(registry),
            calls,
            latency,
            limits,
            refusals,
            door,
            in_flight,
        }
    }

    /// Counts a finished call.
    pub fn call(&self, plugin: &str, outcome: &str, elapsed: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                plugin: plugin.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&PluginLabels {
                plugin: plugin.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a limit hit.
    pub fn limit(&self, plugin: &str, limit: &str) {
        self.limits.get_or_create(&kind(plugin, limit)).inc();
    }

    /// Counts a refused host call.
    pub fn refusal(&self, plugin: &str, reason: &str) {
        self.refusals.get_or_create(&kind(plugin, reason)).inc();
    }

    /// Counts a request turned away.
    pub fn turned_away(&self, reason: &str) {
        self.door
            .get_or_create(&DoorLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// A call started; the guard ends it.
    pub fn started(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            // Writing to a String cannot fail.
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn kind(plugin: &str, kind: &str) -> KindLabels {
    KindLabels {
        plugin: plugin.to_string(),
        kind: kind.to_string(),
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_plugins_and_kinds_only() {
        let m = Metrics::new();
        m.call("sleep-coach", "ok", Duration::from_micros(300));
        m.limit("loop", "timeout");
        m.refusal("sleep-coach", "not-granted");
        m.turned_away("crowded-user");
        {
            let _g = m.started();
            assert!(m.render().contains("healthplug_tool_calls_in_flight 1"));
        }
        let text = m.render();
        assert!(
            text.contains("healthplug_tool_calls_total{plugin=\"sleep-coach\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("healthplug_limit_hits_total{plugin=\"loop\",kind=\"timeout\"} 1"));
        assert!(text.contains("healthplug_refusals_total{plugin=\"sleep-coach\",kind=\"not-granted\"} 1"));
        assert!(text.contains("healthplug_turned_away_total{reason=\"crowded-user\"} 1"));
        assert!(text.contains("healthplug_tool_call_seconds_bucket"));
        assert!(text.contains("healthplug_tool_calls_in_flight 0"));
    }
}
