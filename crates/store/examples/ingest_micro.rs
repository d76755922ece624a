//! Times the store's ingestion alone (no HTTP): `cargo run --release -p warroom-store --example
//! ingest_micro -- BATCH BATCHES [blocking]` on a fresh SQLite file in a temporary directory;
//! `blocking` commits and flushes through the blocking writer on a thread of its own, as the
//! server does, instead of `AlertStore::ingest`.
//! Prints wall time and process CPU per event, so the database's share of an ingested event
//! can be told apart from the HTTP path's.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use warroom_core::alert::{Action, AlertEvent, SourceKind};
use warroom_store::{Disposition, IngestItem};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let batch: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let batches: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let blocking = args.get(3).is_some_and(|a| a == "blocking");
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let store = warroom_store::open(&url).await?;
    // A fixed start: the benchmark times the store, not the clock.
    let t0: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let mut n = 0u64;
    let make = |n: u64| {
        let mut event = AlertEvent::new(
            SourceKind::Pagerduty,
            Action::Trigger,
            format!("Disk almost full on host-{n}"),
        );
        event.dedup_key = Some(format!("loadgen-{n}"));
        IngestItem {
            event,
            integration_id: "int_x".into(),
            dedup_key: format!("loadgen-{n}"),
            received_at: t0 + SignedDuration::from_micros(n as i64),
            new_alert_id: format!("alr_{:014x}", n),
            service: Some("api".into()),
            incident_severity: "P2".into(),
            playbooks: Vec::new(),
            disposition: Disposition::Open,
            threshold: None,
            open_incidents: true,
        }
    };
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    for _ in 0..batches {
        let items: Vec<IngestItem> = (0..batch)
            .map(|_| {
                n += 1;
                make(n)
            })
            .collect();
        match store.blocking_ingest().filter(|_| blocking) {
            Some(writer) => {
                tokio::task::spawn_blocking(move || {
                    writer.commit(&items)?;
                    writer.flush()
                })
                .await??;
            }
            None => {
                store.ingest(&items).await?;
            }
        }
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let events = (batch * batches) as f64;
    println!(
        "batch {batch} x {batches} {}: {:.0} events/s, wall {:.1} us/event, cpu {:.1} us/event, {:.0} us/batch",
        if blocking {
            "blocking writer"
        } else {
            "ingest"
        },
        events / wall,
        wall * 1e6 / events,
        cpu * 1e6 / events,
        wall * 1e6 / batches as f64
    );
    Ok(())
}
