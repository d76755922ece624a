//! The ingestion queue under a stalled database: once it is full, new events are refused at
//! once (the sender gets 429 and retries) and every event already admitted is committed when the
//! database frees up.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use sqlx::Connection;
use warroom_server::ingest::{Ingestor, SubmitError};
use warroom_store::testing::trigger_item as item;
use warroom_store::{AlertFilter, IngestOutcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_new_events_and_loses_none_it_admitted() {
    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = warroom_store::open(&url).await.expect("store");
    // Another process holds the write lock: the writer's first batch waits on it.
    let mut blocker = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let commits = Arc::new(AtomicUsize::new(0));
    let counted = commits.clone();
    let ingest = Ingestor::with_capacity(
        store.clone(),
        Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        }),
        4,
    );
    // Admit single events until the queue refuses one. Admission happens on the first poll of
    // `submit`, so each is polled once here and then left to a task to await its commit.
    let mut waiting = Vec::new();
    let mut refused = false;
    // The first event goes alone, and the writer takes it and stalls on the lock before the
    // queue is filled (otherwise it could take queued events away while the test fills it).
    let ing = ingest.clone();
    let mut first = Box::pin(async move { ing.submit(vec![item(0)]).await });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    waiting.push(tokio::spawn(first));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while ingest.free() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never took the first event"
        );
        tokio::task::yield_now().await;
    }
    for n in 1..64 {
        let ing = ingest.clone();
        let mut submit = Box::pin(async move { ing.submit(vec![item(n)]).await });
        let mut cx = Context::from_waker(Waker::noop());
        match submit.as_mut().poll(&mut cx) {
            Poll::Pending => waiting.push(tokio::spawn(submit)),
            Poll::Ready(Err(SubmitError::Busy)) => {
                refused = true;
                // At the same moment, a request of several events is admitted whole or not at
                // all: refused too, with nothing of it queued.
                let ing = ingest.clone();
                let mut several =
                    Box::pin(async move { ing.submit((100..103).map(item).collect()).await });
                assert!(
                    matches!(
                        several.as_mut().poll(&mut cx),
                        Poll::Ready(Err(SubmitError::Busy))
                    ),
                    "a full queue admitted a request of three events"
                );
                break;
            }
            Poll::Ready(other) => {
                panic!("event {n} answered before the database was free: {other:?}")
            }
        }
    }
    assert!(refused, "the queue never filled");
    assert_eq!(
        ingest.free(),
        0,
        "nothing left the full queue while the database was locked"
    );
    let admitted = waiting.len();
    // Four queued, plus what the stalled writer already took (one to four).
    assert!((5..=8).contains(&admitted), "{admitted}");
    assert_eq!(commits.load(Ordering::SeqCst), 0);
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("unlock");
    for (n, task) in waiting.into_iter().enumerate() {
        let outcome = task.await.expect("task").expect("committed");
        assert_eq!(outcome, [IngestOutcome::Opened(format!("alr_{n}"))]);
    }
    let stored = store
        .alerts(&AlertFilter {
            limit: 100,
            ..AlertFilter::default()
        })
        .await
        .expect("alerts");
    assert_eq!(
        stored.len(),
        admitted,
        "every admitted event, and only those"
    );
    assert!(commits.load(Ordering::SeqCst) >= 1);
}
