//! Queries' embeddings, gathered: whatever queries wait when the embedder is free go to it in
//! one call, so a burst of searches costs one round trip instead of one each, and none queues
//! behind another's call.
//!
//! One thread owns the calls (the HTTP client blocks). A caller that stops waiting (its
//! deadline passed) leaves its text in the batch: the vector still arrives and is remembered,
//! so the next search for it does not wait.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Texts sent in one call at most.
pub const MAX_BATCH: usize = 32;
/// Queries waiting for the embedder at most; past it a query is answered without.
const QUEUE: usize = 1_024;

/// Embeds a batch of query texts: one vector per text, or `None` for all when the call failed.
pub type EmbedBatch = dyn Fn(&[String]) -> Option<Vec<Vec<f32>>> + Send + Sync;

struct Job {
    text: String,
    reply: oneshot::Sender<Option<Vec<f32>>>,
}

/// Hands query texts to the batching thread.
pub struct QueryBatcher {
    jobs: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
    /// Texts queued or in the call under way.
    queued: Arc<Mutex<HashSet<String>>>,
}

impl QueryBatcher {
    /// Starts the thread that calls `embed`; it ends when the batcher is dropped.
    pub fn start(embed: Box<EmbedBatch>) -> std::io::Result<Self> {
        let (jobs, rx) = sync_channel(QUEUE);
        let waiting = Arc::new(AtomicUsize::new(0));
        let queued = Arc::new(Mutex::new(HashSet::new()));
        let (counter, set) = (waiting.clone(), queued.clone());
        std::thread::Builder::new()
            .name("query-embedder".into())
            .spawn(move || serve(rx, embed, counter, set))?;
        Ok(QueryBatcher {
            jobs,
            waiting,
            queued,
        })
    }

    /// Queues `text`; the receiver gets its vector (`None` when the embedder failed), or
    /// `None` at once when too many queries wait already.
    pub fn submit(&self, text: String) -> Option<oneshot::Receiver<Option<Vec<f32>>>> {
        let (reply, answer) = oneshot::channel();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        match self.jobs.try_send(Job {
            text: text.clone(),
            reply,
        }) {
            Ok(()) => {
                queued.insert(text);
                Some(answer)
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                None
            }
        }
    }

    /// Queues `text` unless it is queued already, without waiting for its vector (it is
    /// remembered when it comes).
    pub fn nudge(&self, text: &str) {
        let queued = self
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(text);
        if !queued {
            let _ = self.submit(text.to_string());
        }
    }

    /// Queries waiting for their vector now (queued or in the call under way).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

fn serve(
    rx: Receiver<Job>,
    embed: Box<EmbedBatch>,
    waiting: Arc<AtomicUsize>,
    queued: Arc<Mutex<HashSet<String>>>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // The same text asked twice (a popular query) is embedded once.
        let mut texts: Vec<String> = Vec::with_capacity(batch.len());
        let slots: Vec<usize> = batch
            .iter()
            .map(|job| match texts.iter().position(|t| *t == job.text) {
                Some(i) => i,
                None => {
                    texts.push(job.text.clone());
                    texts.len() - 1
                }
            })
            .collect();
        let vectors = embed(&texts);
        if let Ok(mut queued) = queued.lock() {
            for t in &texts {
                queued.remove(t);
            }
        }
        // Counted out before the replies: a caller that has its answer must not see itself
        // still waiting (the backlog yields to waiting queries).
        waiting.fetch_sub(batch.len(), Ordering::SeqCst);
        for (job, slot) in batch.into_iter().zip(slots) {
            let v = vectors.as_ref().and_then(|v| v.get(slot).cloned());
            // The caller may have stopped waiting: its vector is remembered all the same.
            let _ = job.reply.send(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn waiting_queries_go_in_one_call() {
        let calls = Arc::new(Mutex::new(Vec::<usize>::new()));
        let seen = calls.clone();
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap_or_else(|e| e.into_inner());
        let inner_gate = gate.clone();
        let (started, calling) = std::sync::mpsc::channel();
        let batcher = QueryBatcher::start(Box::new(move |texts: &[String]| {
            let _ = started.send(());
            // The first call is held until every query is queued.
            drop(inner_gate.lock().unwrap_or_else(|e| e.into_inner()));
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(texts.len());
            Some(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }))
        .expect("thread");
        let first = batcher.submit("a".into()).expect("queued");
        // The thread has taken the first job into its (held) call.
        calling.recv().expect("first call");
        let rest: Vec<_> = ["bb", "ccc", "bb"]
            .iter()
            .map(|t| batcher.submit(t.to_string()).expect("queued"))
            .collect();
        assert_eq!(batcher.waiting(), 4);
        drop(held);
        assert_eq!(first.await.ok().flatten(), Some(vec![1.0]));
        let mut got = Vec::new();
        for r in rest {
            got.push(r.await.ok().flatten());
        }
        assert_eq!(got, vec![Some(vec![2.0]), Some(vec![3.0]), Some(vec![2.0])]);
        // One call for the first, one for the three queued meanwhile (two distinct texts).
        assert_eq!(*calls.lock().unwrap_or_else(|e| e.into_inner()), vec![1, 2]);
        assert_eq!(batcher.waiting(), 0);
    }
}
