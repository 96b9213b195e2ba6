//! The consent-version cache each host keeps, so a plugin's host call
//! checks its grant without a database round trip in the common case,
//! and a revoke made through another host still bites at once.
//!
//! Every grant or revoke bumps the (user, plugin) version and, in the same
//! transaction, sends `NOTIFY healthplug_consent, 'user:plugin'`; every
//! host keeps one listening connection and drops the entry when the
//! notification arrives (right after the commit). Rules:
//! - an entry is used only while the listener is connected, and for at
//!   most [`MAX_AGE`] after it was read: a listener that died without the
//!   host noticing (a silent network) can leave a stale entry that long,
//!   never longer; that is the documented staleness bound;
//! - losing the listener clears the cache and stops caching until it is
//!   back (notifications sent meanwhile were missed);
//! - a value read from the database is cached only if no notification or
//!   reconnect happened while it was read (a generation counter), so a
//!   read racing a revoke cannot plant the old version;
//! - the host that made the change forgets the entry itself on commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio_postgres::AsyncMessage;
use tokio_postgres::tls::MakeTlsConnect;

use super::Target;

/// The notification channel grant changes are announced on.
pub(super) const CHANNEL: &str = "healthplug_consent";

/// The longest an entry is trusted: the staleness bound when
/// notifications silently stop.
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// How long the listener waits before reconnecting.
const RECONNECT: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Inner {
    entries: HashMap<(i64, String), (i64, Instant)>,
    generation: u64,
    listening: bool,
}

/// Consent versions this host read, by (user, plugin).
#[derive(Default)]
pub(crate) struct VersionCache {
    inner: Mutex<Inner>,
}

/// The notification payload naming (user, plugin).
pub(super) fn payload(user_id: i64, plugin: &str) -> String {
    format!("{user_id}:{plugin}")
}

impl VersionCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the listener on `rt`; the cache works once it has connected.
    pub(super) fn start(
        rt: &tokio::runtime::Handle,
        target: &Target,
        tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    ) -> Arc<VersionCache> {
        let cache = Arc::new(VersionCache::default());
        let config = target.config.clone();
        let weak = Arc::downgrade(&cache);
        rt.spawn(async move {
            while let Some(cache) = weak.upgrade() {
                let ended = match tls.clone() {
                    Some(tls) => listen(&config, tls, &cache).await,
                    None => listen(&config, tokio_postgres::NoTls, &cache).await,
                };
                cache.set_listening(false);
                if let Err(e) = ended {
                    tracing::warn!(error = %e, "consent notifications from other hosts stopped; reading versions from the database until they are back");
                }
                drop(cache);
                tokio::time::sleep(RECONNECT).await;
            }
        });
        cache
    }

    /// The cached version of (user, plugin), if fresh and trusted.
    pub(super) fn get(&self, user_id: i64, plugin: &str) -> Option<i64> {
        let inner = self.lock();
        if !inner.listening {
            return None;
        }
        let (version, at) = inner.entries.get(&(user_id, plugin.to_string()))?;
        (at.elapsed() < MAX_AGE).then_some(*version)
    }

    /// The generation to pass to [`VersionCache::put`] for a read starting
    /// now.
    pub(super) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Caches a version read from the database, unless anything changed
    /// since `generation` was taken.
    pub(super) fn put(&self, user_id: i64, plugin: &str, version: i64, generation: u64) {
        let mut inner = self.lock();
        if inner.listening && inner.generation == generation {
            inner
                .entries
                .insert((user_id, plugin.to_string()), (version, Instant::now()));
        }
    }

    /// Drops the entries of these (user, plugin) pairs.
    pub(super) fn forget(&self, pairs: &[(i64, String)]) {
        let mut inner = self.lock();
        inner.generation += 1;
        for pair in pairs {
            inner.entries.remove(pair);
        }
    }

    /// Drops the entry a notification payload names (everything, if it
    /// names nothing this host understands).
    fn notified(&self, payload: &str) {
        let pair = payload
            .split_once(':')
            .and_then(|(user, plugin)| Some((user.parse::<i64>().ok()?, plugin.to_string())));
        match pair {
            Some(pair) => self.forget(&[pair]),
            None => self.set_listening(true),
        }
    }

    /// Marks the listener up or down; either way the cache starts empty.
    fn set_listening(&self, listening: bool) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.listening = listening;
    }
}

/// One listening connection: returns when it drops.
async fn listen<T>(config: &tokio_postgres::Config, tls: T, cache: &VersionCache) -> anyhow::Result<()>
where
    T: MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if sender.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    cache.set_listening(true);
    while let Some(payload) = received.recv().await {
        cache.notified(&payload);
    }
    driver.abort();
    anyhow::bail!("the listening connection closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listening() -> VersionCache {
        let cache = VersionCache::default();
        cache.set_listening(true);
        cache
    }

    #[test]
    fn nothing_is_cached_while_not_listening() {
        let cache = VersionCache::default();
        cache.put(1, "p", 5, cache.generation());
        assert_eq!(cache.get(1, "p"), None);
    }

    #[test]
    fn a_notification_drops_the_entry_it_names_only() {
        let cache = listening();
        cache.put(1, "p", 5, cache.generation());
        cache.put(2, "p", 6, cache.generation());
        assert_eq!(cache.get(1, "p"), Some(5));
        cache.notified(&payload(1, "p"));
        assert_eq!((cache.get(1, "p"), cache.get(2, "p")), (None, Some(6)));
    }

    #[test]
    fn a_read_racing_a_change_is_not_cached() {
        let cache = listening();
        let before = cache.generation();
        cache.notified(&payload(1, "p"));
        cache.put(1, "p", 5, before);
        assert_eq!(
            cache.get(1, "p"),
            None,
            "the version read before the revoke was planted"
        );
    }

    #[test]
    fn losing_the_listener_clears_everything_and_stops_caching() {
        let cache = listening();
        cache.put(1, "p", 5, cache.generation());
        cache.set_listening(false);
        assert_eq!(cache.get(1, "p"), None);
        cache.put(1, "p", 5, cache.generation());
        assert_eq!(cache.get(1, "p"), None);
    }

    #[test]
    fn a_payload_naming_nothing_clears_everything() {
        let cache = listening();
        cache.put(1, "p", 5, cache.generation());
        cache.notified("garbage");
        assert_eq!(cache.get(1, "p"), None);
    }
}
