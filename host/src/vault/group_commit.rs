//! Group commit of the audit log: entries from concurrent invocations are
//! appended in one transaction, with one commit and one anchor sync, keeping
//! the hash chain. Each caller still returns only once its own entries are
//! committed (nothing is delivered before it is audited), and learns the
//! failure if the transaction carrying them failed.
//!
//! The first caller to find no transaction under way becomes the writer:
//! it takes every entry queued so far, writes them (its own among them)
//! and wakes the others; callers arriving meanwhile queue for the next
//! transaction. With one caller at a time this is one transaction per call,
//! as before; under load the syncs no longer serialise the callers.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use anyhow::{Result, anyhow};

use super::{AuditEvent, Vault};

/// The queue of audit entries waiting for a transaction.
#[derive(Default)]
pub(crate) struct AuditQueue {
    state: Mutex<State>,
    turn: Condvar,
}

#[derive(Default)]
struct State {
    /// Entries waiting, by ticket.
    pending: Vec<(u64, Vec<AuditEvent>)>,
    /// A transaction is under way.
    writing: bool,
    next_ticket: u64,
    /// What each finished ticket got: its entries' sequence numbers, or
    /// why its transaction failed.
    done: HashMap<u64, Result<Vec<i64>, String>>,
}

/// The entries of one transaction and their tickets.
type Batch = Vec<(u64, Vec<AuditEvent>)>;

impl AuditQueue {
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| anyhow!("the audit queue was poisoned by a panic"))
    }
}

impl Vault {
    /// Appends `events` to the audit log, in this order and contiguously,
    /// committed (with others queued at the same time) before it returns;
    /// returns their sequence numbers.
    pub fn audit_all(&self, events: Vec<AuditEvent>) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let queue = &self.inner.audit_queue;
        let mut state = queue.lock()?;
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.pending.push((ticket, events));
        loop {
            if let Some(done) = state.done.remove(&ticket) {
                return done.map_err(|e| anyhow!("writing the audit log: {e}"));
            }
            if state.writing {
                state = queue
                    .turn
                    .wait(state)
                    .map_err(|_| anyhow!("the audit queue was poisoned by a panic"))?;
                continue;
            }
            state.writing = true;
            let batch = std::mem::take(&mut state.pending);
            drop(state);
            let written = self.write_batch(&batch);
            state = queue.lock()?;
            match written {
                Ok(seqs) => state.done.extend(seqs.into_iter().map(|(t, s)| (t, Ok(s)))),
                Err(e) => {
                    let why = format!("{e:#}");
                    state.done.extend(batch.iter().map(|(t, _)| (*t, Err(why.clone()))));
                }
            }
            state.writing = false;
            queue.turn.notify_all();
        }
    }

    fn write_batch(&self, batch: &Batch) -> Result<Vec<(u64, Vec<i64>)>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(batch.len());
            for (ticket, events) in batch {
                let mut seqs = Vec::with_capacity(events.len());
                for e in events {
                    seqs.push(tx.audit_append(e)?);
                }
                out.push((*ticket, seqs));
            }
            Ok(out)
        })
    }
}
