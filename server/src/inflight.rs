//! Valid statements whose receipts are being committed, so that one statement
//! is metered once per tenant whatever the path and timing.
//!
//! The first valid proof of a (tenant, statement) to reach the store leads:
//! its receipt is committed and metered. Any other valid proof of the same
//! statement that arrives while that commit is under way (later in the same
//! batch, on the same stream, or in a concurrent call) follows: it waits for
//! the leader's commit and is answered with the leader's receipt as a replay,
//! metered nothing. Once the commit is durable the store answers the replay
//! check itself, so the entry is removed.
//!
//! A follower never depends on the leader's caller staying: the entry holds
//! the commit's own future (the rows are with the store's writer before the
//! entry is made), shared between the leader and every follower.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::error::ApiError;
use crate::receipt::Receipt;

/// A group commit's outcome, shared by everyone waiting on it.
pub type CommitOutcome = Result<Arc<Vec<Receipt>>, String>;

/// A group commit that can be awaited by many.
pub type SharedCommit = Shared<BoxFuture<'static, CommitOutcome>>;

/// Wraps a store commit so that it can be awaited by many.
pub fn share<F, E>(commit: F) -> SharedCommit
where
    F: Future<Output = Result<Vec<Receipt>, E>> + Send + 'static,
    E: std::fmt::Display,
{
    commit
        .map(|outcome| outcome.map(Arc::new).map_err(|e| e.to_string()))
        .boxed()
        .shared()
}

/// A (tenant, statement digest) pair.
pub type StatementKey = (String, [u8; 32]);

/// Where a statement's receipt will be: a commit and the receipt's place in it.
#[derive(Clone)]
pub struct Pending {
    commit: SharedCommit,
    index: usize,
    generation: u64,
}

impl Pending {
    /// The receipt, once its commit is durable.
    pub async fn receipt(self) -> Result<Receipt, ApiError> {
        match self.commit.await {
            Ok(receipts) => receipts
                .get(self.index)
                .cloned()
                .ok_or_else(|| ApiError::Internal("a commit lost a receipt".into())),
            Err(message) => Err(ApiError::Internal(message)),
        }
    }
}

/// The statements being committed, by tenant.
#[derive(Default)]
pub struct InFlight {
    entries: Arc<Mutex<HashMap<StatementKey, Pending>>>,
    generations: AtomicU64,
}

/// The table, locked: a caller decides leaders and followers and registers
/// its commit in one critical section, so no other call can slip between.
pub struct Claims<'a> {
    entries: MutexGuard<'a, HashMap<StatementKey, Pending>>,
    owner: &'a InFlight,
}

impl InFlight {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the table.
    pub fn lock(&self) -> Claims<'_> {
        Claims {
            entries: self.entries.lock().expect("in-flight lock"),
            owner: self,
        }
    }

    /// Statements being committed now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().expect("in-flight lock").len()
    }

    /// Whether no statement is being committed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Claims<'_> {
    /// The commit a statement already waits on, if any.
    pub fn pending(&self, key: &StatementKey) -> Option<Pending> {
        self.entries.get(key).cloned()
    }

    /// Registers `commit` as the one that makes each of `leaders` (statement,
    /// index of its receipt in the commit) durable. The returned guard
    /// removes the entries once the commit has finished, even if the caller
    /// stops waiting for it.
    pub fn register(
        mut self,
        commit: &SharedCommit,
        leaders: Vec<(StatementKey, usize)>,
    ) -> Registration {
        let generation = self.owner.generations.fetch_add(1, Ordering::Relaxed);
        let keys = leaders
            .into_iter()
            .map(|(key, index)| {
                self.entries.insert(
                    key.clone(),
                    Pending {
                        commit: commit.clone(),
                        index,
                        generation,
                    },
                );
                key
            })
            .collect();
        Registration {
            entries: self.owner.entries.clone(),
            keys,
            generation,
            commit: commit.clone(),
        }
    }
}

/// Removes a commit's entries when dropped: at once if the commit has
/// finished, else (the caller stopped waiting) when it finishes.
pub struct Registration {
    entries: Arc<Mutex<HashMap<StatementKey, Pending>>>,
    keys: Vec<StatementKey>,
    generation: u64,
    commit: SharedCommit,
}

fn remove(entries: &Mutex<HashMap<StatementKey, Pending>>, keys: &[StatementKey], generation: u64) {
    let mut entries = entries.lock().expect("in-flight lock");
    for key in keys {
        if entries.get(key).is_some_and(|p| p.generation == generation) {
            entries.remove(key);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        if self.commit.peek().is_some() {
            return remove(&self.entries, &keys, self.generation);
        }
        let (entries, commit, generation) =
            (self.entries.clone(), self.commit.clone(), self.generation);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let _ = commit.await;
                    remove(&entries, &keys, generation);
                });
            }
            // No runtime to wait on: the store answers replays once the rows
            // are durable, and until then a follower would wait on the commit.
            Err(_) => remove(&entries, &keys, generation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::ReceiptVerdict;

    fn receipt(id: &str) -> Receipt {
        Receipt {
            id: id.into(),
            tenant: "t".into(),
            circuit: "c".into(),
            key_fingerprint: "k".into(),
            statement_digest: "s".into(),
            verdict: ReceiptVerdict::Valid,
            issued_at_ms: 1,
            signature: String::new(),
            batch: None,
        }
    }

    #[tokio::test]
    async fn followers_get_the_leaders_receipt_and_entries_go_once_durable() {
        let table = InFlight::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<Vec<Receipt>>();
        let commit = share(async move { rx.await.map_err(|_| "closed") });
        let key = ("t".to_string(), [7u8; 32]);
        let registration = table.lock().register(&commit, vec![(key.clone(), 1)]);
        let follower = table.lock().pending(&key).expect("registered");
        assert!(table.lock().pending(&("u".into(), [7u8; 32])).is_none());
        let waiting = tokio::spawn(follower.receipt());
        tx.send(vec![receipt("a"), receipt("b")]).unwrap();
        assert_eq!(waiting.await.unwrap().unwrap().id, "b");
        let _ = commit.clone().await;
        drop(registration);
        assert!(table.is_empty());
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_leaves_the_entry_until_the_commit_ends() {
        let table = InFlight::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<Vec<Receipt>>();
        let commit = share(async move { rx.await.map_err(|_| "closed") });
        let key = ("t".to_string(), [1u8; 32]);
        drop(table.lock().register(&commit, vec![(key.clone(), 0)]));
        let follower = table.lock().pending(&key).expect("still there");
        tx.send(vec![receipt("a")]).unwrap();
        assert_eq!(follower.receipt().await.unwrap().id, "a");
        for _ in 0..100 {
            if table.is_empty() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the entry outlived its commit");
    }

    #[tokio::test]
    async fn a_failed_commit_fails_its_followers() {
        let table = InFlight::new();
        let commit = share(async { Err::<Vec<Receipt>, _>("disk full") });
        let key = ("t".to_string(), [2u8; 32]);
        let _registration = table.lock().register(&commit, vec![(key.clone(), 0)]);
        let error = table.lock().pending(&key).unwrap().receipt().await;
        assert_eq!(error.unwrap_err(), ApiError::Internal("disk full".into()));
    }
}
