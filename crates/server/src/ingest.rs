//! The ingestion queue: group commit for alert events.
//!
//! Requests hand their routed events to the writer through a bounded queue and wait for the
//! commit. The writer takes everything waiting (up to a batch limit) and commits it in one
//! transaction, so under load many requests share one fsync and a handful of multi-row
//! statements, and at low load an event is committed alone without waiting for company. A
//! request is answered 2xx only after its batch is committed and on disk: on a SQLite file a
//! writer thread commits each batch, flushes the log and then answers it (see
//! `warroom_store::BlockingIngest`); on PostgreSQL several writer tasks commit durably
//! themselves. When the queue is full, admission fails at once and the caller answers 429
//! with `Retry-After`: nothing accepted is ever dropped, because nothing is accepted that the
//! queue cannot hold.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use warroom_store::{Backend, BlockingIngest, IngestItem, IngestOutcome, Store, StoreError};

/// Events waiting for the writer, at most.
pub const QUEUE_CAPACITY: usize = 16_384;

/// Events per transaction, at most.
pub const MAX_BATCH: usize = 2_048;

/// Batches written at once on PostgreSQL. Two, not more: an idle writer takes whatever is
/// waiting, so with four most batches at 16 connections held a single event, and the cost per
/// batch, not per event, used up the machine (see PERFORMANCE.md); one writer alone leaves
/// every request waiting behind whichever commit stalls.
const POSTGRES_WRITERS: usize = 2;

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
    reply: Reply,
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
        match store.blocking_ingest() {
            Some(writer) => start_thread(writer, jobs, committed),
            None => start_tasks(store, jobs, committed),
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
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(()) => SubmitError::Busy,
                // Not "busy": retrying would not help.
                mpsc::error::TrySendError::Closed(()) => {
                    SubmitError::Failed("the ingestion writer stopped".into())
                }
            })?;
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

/// Runs SQLite's writer on a thread of its own: it commits a batch without waiting for the
/// disk, flushes the log, answers the batch's requests, and takes the next batch, which grew
/// while it flushed (see `warroom_store::BlockingIngest`). A thread rather than a task because
/// each step blocks: handing every batch to the runtime's blocking pool and back cost more
/// thread wake-ups than the batch's own work, and committing on one thread while another
/// flushed (tried) made more, smaller batches and was slower than flushing in line.
fn start_thread(
    writer: Arc<dyn BlockingIngest>,
    jobs: mpsc::Receiver<Job>,
    committed: Arc<dyn Fn() + Send + Sync>,
) {
    let spawned = std::thread::Builder::new()
        .name("warroom-ingest".into())
        .spawn(move || write_on_thread(writer.as_ref(), jobs, committed.as_ref()));
    if let Err(err) = spawned {
        // Without its thread every event is refused (503) rather than accepted and lost.
        tracing::error!(error = %err, "could not start the ingestion writer");
    }
}

/// Commits, flushes and answers batches as they come (see [`start_thread`]); ends when the
/// queue closes.
fn write_on_thread(
    writer: &dyn BlockingIngest,
    mut jobs: mpsc::Receiver<Job>,
    committed: &(dyn Fn() + Send + Sync),
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        fill(&mut batch, &mut jobs);
        let (items, replies): (Vec<IngestItem>, Vec<_>) =
            batch.drain(..).map(|j| (j.item, j.reply)).unzip();
        let started = std::time::Instant::now();
        let mut result = writer.commit(&items);
        for _ in 0..CONFLICT_RETRIES {
            match &result {
                // Another process opened an alert for one of these keys first: re-read, retry.
                Err(StoreError::Conflict(_)) => result = writer.commit(&items),
                _ => break,
            }
        }
        let Some(batch) = committed_batch(result, items.len(), replies, started) else {
            continue;
        };
        let flushing = std::time::Instant::now();
        match writer.flush() {
            Ok(()) => {
                // With "batch committed" above, this tells a slow disk from a long wait for
                // the write lock (which the commit's time includes).
                tracing::debug!(
                    events = items.len(),
                    micros = u64::try_from(flushing.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "batch flushed"
                );
                answer(batch);
                committed();
            }
            Err(err) => {
                // Committed but not known to be on disk: the senders are told it failed and
                // send again, which deduplication turns into repeats of the same alerts.
                tracing::error!(error = %err, "flushing committed alert events to disk failed");
                fail(batch.replies, &err.to_string());
            }
        }
    }
}

/// A committed batch and what to answer its requests.
struct Committed {
    replies: Vec<Reply>,
    outcomes: Vec<IngestOutcome>,
}

type Reply = oneshot::Sender<Result<IngestOutcome, SubmitError>>;

/// Takes what else is waiting, up to the batch limit, without waiting for more.
fn fill(batch: &mut Vec<Job>, jobs: &mut mpsc::Receiver<Job>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

fn answer(batch: Committed) {
    for (reply, outcome) in batch.replies.into_iter().zip(batch.outcomes) {
        let _ = reply.send(Ok(outcome));
    }
}

fn fail(replies: Vec<Reply>, why: &str) {
    for reply in replies {
        let _ = reply.send(Err(SubmitError::Failed(why.to_string())));
    }
}

/// The committed batch, or `None` when the commit failed (its requests are then told so).
fn committed_batch(
    result: Result<Vec<IngestOutcome>, StoreError>,
    events: usize,
    replies: Vec<Reply>,
    started: std::time::Instant,
) -> Option<Committed> {
    match result {
        Ok(outcomes) => {
            tracing::debug!(
                events,
                micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "batch committed"
            );
            Some(Committed { replies, outcomes })
        }
        Err(err) => {
            tracing::error!(error = %err, events, "committing alert events failed");
            fail(replies, &err.to_string());
            None
        }
    }
}

/// Runs the writers as tasks that commit durably and answer themselves: PostgreSQL (several
/// batches at once; it flushes concurrent commits together by itself) and a SQLite database
/// in memory (one).
fn start_tasks(
    store: Arc<dyn Store>,
    jobs: mpsc::Receiver<Job>,
    committed: Arc<dyn Fn() + Send + Sync>,
) {
    let writers = match store.backend() {
        Backend::Postgres => POSTGRES_WRITERS,
        Backend::Sqlite => 1,
    };
    let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
    for _ in 0..writers {
        tokio::spawn(write_batches(
            store.clone(),
            jobs.clone(),
            committed.clone(),
        ));
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    committed: Arc<dyn Fn() + Send + Sync>,
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
            fill(&mut batch, &mut jobs);
        }
        let (items, replies): (Vec<IngestItem>, Vec<_>) =
            batch.drain(..).map(|j| (j.item, j.reply)).unzip();
        // A monotonic timer for the log only; it decides nothing.
        let started = std::time::Instant::now();
        let mut result = store.ingest(&items).await;
        for _ in 0..CONFLICT_RETRIES {
            match &result {
                Err(StoreError::Conflict(_)) => result = store.ingest(&items).await,
                _ => break,
            }
        }
        if let Some(batch) = committed_batch(result, items.len(), replies, started) {
            answer(batch);
            committed();
        }
    }
}

#[cfg(test)]
mod tests {
    use warroom_store::testing::trigger_item as item;

    use super::*;

    #[tokio::test]
    async fn a_full_queue_is_busy_and_a_stopped_writer_is_a_failure() {
        let (queue, jobs) = mpsc::channel(2);
        let ingestor = Ingestor {
            queue,
            counters: Arc::default(),
        };
        // One event waits in the queue (nobody takes it), so two more do not fit.
        let waiting = tokio::spawn({
            let ingestor = ingestor.clone();
            async move { ingestor.submit(vec![item(1)]).await }
        });
        while ingestor.free() == 2 {
            tokio::task::yield_now().await;
        }
        let full = ingestor.submit(vec![item(2), item(3)]).await;
        assert!(matches!(full, Err(SubmitError::Busy)), "{full:?}");
        // The writer is gone: the waiting request fails, and so does the next one, which a
        // sender must not take for a reason to wait and retry.
        drop(jobs);
        let stranded = waiting.await.expect("the task ran");
        assert!(
            matches!(stranded, Err(SubmitError::Failed(_))),
            "{stranded:?}"
        );
        let refused = ingestor.submit(vec![item(4)]).await;
        assert!(
            matches!(refused, Err(SubmitError::Failed(_))),
            "{refused:?}"
        );
    }
}
