//! The ingestion queue: group commit for alert events.
//!
//! Requests hand their routed events to one writer task through a bounded queue and wait for
//! the commit. The writer takes everything waiting (up to a batch limit) and commits it in one
//! transaction, so under load many requests share one fsync and a handful of multi-row
//! statements, and at low load an event is committed alone without waiting for company. A
//! request is answered 2xx only after its batch is committed and on disk: on SQLite the writer
//! commits without waiting for the disk and a flusher task syncs the log once for every batch
//! committed meanwhile before answering them (see `warroom_store`'s `ingest_unsynced`); on
//! PostgreSQL each writer's commit is durable itself. When the queue is full, admission
//! fails at once and the caller answers 429 with `Retry-After`: nothing accepted is ever
//! dropped, because nothing is accepted that the queue cannot hold.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use warroom_store::{Backend, IngestItem, IngestOutcome, Store, StoreError};

/// Events waiting for the writer, at most.
pub const QUEUE_CAPACITY: usize = 16_384;

/// Events per transaction, at most.
pub const MAX_BATCH: usize = 2_048;

/// Batches written at once on PostgreSQL.
const POSTGRES_WRITERS: usize = 4;

/// How often a batch that lost a race with another process is tried again.
const CONFLICT_RETRIES: usize = 3;

/// Why events were not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: try again shortly.
    #[error("the ingestion queue is full")]
    Busy,
    /// The database failed; nothing from the batch was committed.
    #[error("could not commit the events: {0}")]
    Failed(String),
}

struct Job {
    item: IngestItem,
    reply: oneshot::Sender<Result<IngestOutcome, SubmitError>>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    queue: mpsc::Sender<Job>,
    counters: Arc<IngestCounters>,
}

/// What went through ingestion since the process started (for `/metrics`).
#[derive(Debug, Default)]
pub struct IngestCounters {
    /// Alert events handed to ingestion by the receivers (admitted or not).
    pub received: std::sync::atomic::AtomicU64,
    /// Alert events committed and recorded (not ignored or dropped by a rule).
    pub ingested: std::sync::atomic::AtomicU64,
}

impl Ingestor {
    /// Starts the writer task over `store`; `committed` runs after each committed batch (it
    /// wakes the engine to link the new alerts).
    pub fn start(store: Arc<dyn Store>, committed: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self::with_capacity(store, committed, QUEUE_CAPACITY)
    }

    /// [`Ingestor::start`] with a queue of `capacity` events.
    pub fn with_capacity(
        store: Arc<dyn Store>,
        committed: Arc<dyn Fn() + Send + Sync>,
        capacity: usize,
    ) -> Self {
        let (queue, jobs) = mpsc::channel(capacity.max(1));
        // SQLite has one writer; PostgreSQL commits several transactions at once (and flushes
        // its log for all of them together), so there several batches are written side by side.
        let writers = match store.backend() {
            Backend::Postgres => POSTGRES_WRITERS,
            Backend::Sqlite => 1,
        };
        let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
        // SQLite's writer commits without waiting for the disk and a flusher answers the
        // requests once their batches are on disk (see `warroom_store`'s `ingest_unsynced`);
        // PostgreSQL's writers commit durably and answer themselves.
        let flusher = match store.backend() {
            Backend::Sqlite => {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(flush_batches(store.clone(), rx, committed.clone()));
                Some(tx)
            }
            Backend::Postgres => None,
        };
        for _ in 0..writers {
            tokio::spawn(write_batches(
                store.clone(),
                jobs.clone(),
                committed.clone(),
                flusher.clone(),
            ));
        }
        Self {
            queue,
            counters: Arc::default(),
        }
    }

    /// Counts of received and ingested events.
    pub fn counters(&self) -> &IngestCounters {
        &self.counters
    }

    /// Free places in the queue.
    pub fn free(&self) -> usize {
        self.queue.capacity()
    }

    /// Commits `items` (in order) and returns what each did; all are admitted or none.
    pub async fn submit(&self, items: Vec<IngestItem>) -> Result<Vec<IngestOutcome>, SubmitError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        use std::sync::atomic::Ordering::Relaxed;
        self.counters
            .received
            .fetch_add(items.len() as u64, Relaxed);
        if items.len() > self.queue.max_capacity() {
            return Err(SubmitError::Busy);
        }
        let permits = self
            .queue
            .try_reserve_many(items.len())
            .map_err(|_| SubmitError::Busy)?;
        let mut replies = Vec::with_capacity(items.len());
        for (permit, item) in permits.zip(items) {
            let (reply, answer) = oneshot::channel();
            permit.send(Job { item, reply });
            replies.push(answer);
        }
        let mut outcomes = Vec::with_capacity(replies.len());
        for answer in replies {
            let outcome = answer
                .await
                .map_err(|_| SubmitError::Failed("the ingestion writer stopped".into()))??;
            outcomes.push(outcome);
        }
        let recorded = outcomes
            .iter()
            .filter(|o| !matches!(o, IngestOutcome::Ignored(_) | IngestOutcome::Dropped))
            .count();
        self.counters.ingested.fetch_add(recorded as u64, Relaxed);
        Ok(outcomes)
    }
}

/// A batch committed but perhaps not yet on disk, waiting for the flusher.
struct Unflushed {
    replies: Vec<oneshot::Sender<Result<IngestOutcome, SubmitError>>>,
    outcomes: Vec<IngestOutcome>,
}

/// Makes committed batches durable, several per flush, then answers their requests.
async fn flush_batches(
    store: Arc<dyn Store>,
    mut batches: mpsc::UnboundedReceiver<Unflushed>,
    committed: Arc<dyn Fn() + Send + Sync>,
) {
    let mut waiting: Vec<Unflushed> = Vec::new();
    while let Some(first) = batches.recv().await {
        waiting.push(first);
        while let Ok(more) = batches.try_recv() {
            waiting.push(more);
        }
        match store.flush_ingested().await {
            Ok(()) => {
                for batch in waiting.drain(..) {
                    for (reply, outcome) in batch.replies.into_iter().zip(batch.outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                committed();
            }
            Err(err) => {
                // Committed but not known to be on disk: the senders are told it failed and
                // send again, which deduplication turns into repeats of the same alerts.
                tracing::error!(error = %err, "flushing committed alert events to disk failed");
                let why = err.to_string();
                for batch in waiting.drain(..) {
                    for reply in batch.replies {
                        let _ = reply.send(Err(SubmitError::Failed(why.clone())));
                    }
                }
            }
        }
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    committed: Arc<dyn Fn() + Send + Sync>,
    flusher: Option<mpsc::UnboundedSender<Unflushed>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // Take what is waiting, then let the next writer take its own batch while this one
            // commits.
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let (items, replies): (Vec<IngestItem>, Vec<_>) =
            batch.drain(..).map(|j| (j.item, j.reply)).unzip();
        // A monotonic timer for the log only; it decides nothing.
        let started = std::time::Instant::now();
        let commit = || async {
            match &flusher {
                Some(_) => store.ingest_unsynced(&items).await,
                None => store.ingest(&items).await,
            }
        };
        let mut result = commit().await;
        for _ in 0..CONFLICT_RETRIES {
            match &result {
                // Another process opened an alert for one of these keys first: re-read, retry.
                Err(StoreError::Conflict(_)) => result = commit().await,
                _ => break,
            }
        }
        match result {
            Ok(outcomes) => {
                tracing::debug!(
                    events = items.len(),
                    micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "batch committed"
                );
                match &flusher {
                    Some(flusher) => {
                        if let Err(mpsc::error::SendError(batch)) =
                            flusher.send(Unflushed { replies, outcomes })
                        {
                            for reply in batch.replies {
                                let _ = reply.send(Err(SubmitError::Failed(
                                    "the ingestion flusher stopped".into(),
                                )));
                            }
                        }
                    }
                    None => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(Ok(outcome));
                        }
                        committed();
                    }
                }
            }
            Err(err) => {
                tracing::error!(error = %err, events = items.len(), "committing alert events failed");
                let why = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(SubmitError::Failed(why.clone())));
                }
            }
        }
    }
}
