//! Fairness at the door: a tool call needs three permits before it runs,
//! one of its user's, one of its plugin's and one of the service's. Each
//! kind is a fair (FIFO) semaphore, so one user's flood waits behind that
//! user's own calls and one slow plugin holds at most its own share of the
//! service. A call that cannot get its permits within the queue wait is
//! turned away (`429` with `Retry-After` over HTTP, a tool error over
//! stdio) instead of hanging.
//!
//! Permits are taken in a fixed order (user, plugin, service), so two
//! calls can never each hold what the other waits for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::DoorLimits;

/// Which share ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crowded {
    /// The user already has as many calls running as allowed.
    User,
    /// The plugin already runs as many calls as allowed.
    Plugin,
    /// The service runs as many calls as allowed.
    Service,
}

impl Crowded {
    /// The label used in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Crowded::User => "user",
            Crowded::Plugin => "plugin",
            Crowded::Service => "service",
        }
    }

    /// A sentence for the caller.
    pub fn message(self) -> &'static str {
        match self {
            Crowded::User => "too many of this user's tool calls are running at once; retry shortly",
            Crowded::Plugin => "this plugin is busy with other calls; retry shortly",
            Crowded::Service => "healthplug is busy; retry shortly",
        }
    }
}

/// The permits of one admitted call; dropping it lets the next one in.
#[derive(Debug)]
pub struct Admission {
    _user: OwnedSemaphorePermit,
    _plugin: OwnedSemaphorePermit,
    _service: OwnedSemaphorePermit,
}

/// The semaphores.
pub struct Gate {
    per_user: usize,
    per_plugin: usize,
    wait: Duration,
    users: Mutex<HashMap<String, Arc<Semaphore>>>,
    plugins: Mutex<HashMap<String, Arc<Semaphore>>>,
    service: Arc<Semaphore>,
}

impl Gate {
    /// A gate with these limits.
    pub fn new(limits: &DoorLimits) -> Gate {
        Gate {
            per_user: limits.per_user_calls,
            per_plugin: limits.per_plugin_calls,
            wait: limits.queue_wait(),
            users: Mutex::new(HashMap::new()),
            plugins: Mutex::new(HashMap::new()),
            service: Arc::new(Semaphore::new(limits.total_calls)),
        }
    }

    /// Waits (at most the queue wait in all) for the three permits of a
    /// call of `plugin` by `user` (its pseudonymous ref).
    pub async fn admit(&self, user: &str, plugin: &str) -> Result<Admission, Crowded> {
        let deadline = tokio::time::Instant::now() + self.wait;
        let user_sem = semaphore(&self.users, user, self.per_user);
        let plugin_sem = semaphore(&self.plugins, plugin, self.per_plugin);
        let user = acquire(user_sem, deadline).await.ok_or(Crowded::User)?;
        let plugin = acquire(plugin_sem, deadline).await.ok_or(Crowded::Plugin)?;
        let service = acquire(self.service.clone(), deadline).await.ok_or(Crowded::Service)?;
        Ok(Admission {
            _user: user,
            _plugin: plugin,
            _service: service,
        })
    }

    /// Forgets the semaphores nobody holds or waits for (called now and
    /// then, so a stream of distinct users does not grow the maps).
    pub fn sweep(&self) {
        for (map, full) in [(&self.users, self.per_user), (&self.plugins, self.per_plugin)] {
            if let Ok(mut map) = map.lock() {
                map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < full);
            }
        }
    }

    /// Calls running now.
    pub fn running(&self, total: usize) -> usize {
        total.saturating_sub(self.service.available_permits())
    }
}

fn semaphore(map: &Mutex<HashMap<String, Arc<Semaphore>>>, key: &str, permits: usize) -> Arc<Semaphore> {
    match map.lock() {
        Ok(mut map) => map
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(permits)))
            .clone(),
        // A poisoned map (a panic elsewhere) still admits, one at a time.
        Err(_) => Arc::new(Semaphore::new(1)),
    }
}

async fn acquire(sem: Arc<Semaphore>, deadline: tokio::time::Instant) -> Option<OwnedSemaphorePermit> {
    tokio::time::timeout_at(deadline, sem.acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_user: usize, per_plugin: usize, total: usize) -> DoorLimits {
        DoorLimits {
            per_user_calls: per_user,
            per_plugin_calls: per_plugin,
            total_calls: total,
            queue_wait_ms: 50,
            ..DoorLimits::default()
        }
    }

    #[tokio::test]
    async fn a_users_flood_does_not_take_another_users_turn() {
        let gate = Gate::new(&limits(2, 10, 10));
        let a1 = gate.admit("a", "p").await.unwrap();
        let _a2 = gate.admit("a", "p").await.unwrap();
        assert_eq!(gate.admit("a", "p").await.unwrap_err(), Crowded::User);
        // b still gets in while a is at its share.
        let _b = gate.admit("b", "p").await.unwrap();
        drop(a1);
        assert!(gate.admit("a", "p").await.is_ok());
    }

    #[tokio::test]
    async fn a_busy_plugin_does_not_take_another_plugins_turn() {
        let gate = Gate::new(&limits(10, 1, 10));
        let _slow = gate.admit("a", "slow").await.unwrap();
        assert_eq!(gate.admit("b", "slow").await.unwrap_err(), Crowded::Plugin);
        assert!(gate.admit("b", "fast").await.is_ok());
    }

    #[tokio::test]
    async fn the_service_cap_holds_and_a_waiter_gets_in_when_a_call_ends() {
        let gate = Arc::new(Gate::new(&DoorLimits {
            queue_wait_ms: 2_000,
            ..limits(10, 10, 1)
        }));
        let first = gate.admit("a", "p").await.unwrap();
        assert_eq!(gate.running(1), 1);
        let g = gate.clone();
        let waiter = tokio::spawn(async move { g.admit("b", "q").await.is_ok() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn sweeping_forgets_idle_users_only() {
        let gate = Gate::new(&limits(2, 2, 4));
        let held = gate.admit("a", "p").await.unwrap();
        drop(gate.admit("b", "p").await.unwrap());
        gate.sweep();
        let users: Vec<String> = gate.users.lock().unwrap().keys().cloned().collect();
        assert_eq!(users, vec!["a".to_string()]);
        drop(held);
    }
}
