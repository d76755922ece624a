//! Linking committed alerts to incidents, off the ingestion path.
//!
//! Ingestion only commits alerts (marked `open` when they need an incident); this step, run by
//! the engine every tick and right after each ingested batch, groups the waiting alerts by
//! service and, per service in one transaction under the service's lock, attaches them to the
//! service's open incident or declares one (paging as a declaration does). It also settles
//! incidents whose alerts resolved: when none is open any more, that is recorded and, by the
//! alert policy, the incident moves to `recovering`. A crash between ingestion and linking
//! leaves the alerts `open` for the next pass; nothing is linked twice.

use warroom_core::alert::policy::AllResolved;
use warroom_core::alert_incident::{RoutedAlert, link_events, settle_events};
use warroom_core::command::page_for_declaration;
use warroom_core::timer::desired_timers;
use warroom_core::{DomainError, EventKind, Incident, NewEvent};
use warroom_store::{AlertWork, StoreError};

use crate::{ACTOR, Engine};

/// Alerts linked per transaction.
const LINK_CHUNK: usize = 128;

/// Alerts looked at per pass; a storm drains over several passes.
const WORK_BATCH: u32 = 2_000;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertReport {
    /// Services whose waiting alerts were linked.
    pub linked: usize,
    /// Incidents whose alerts were settled.
    pub settled: usize,
}

impl Engine {
    /// Links waiting alerts to incidents and settles incidents whose alerts resolved.
    pub async fn process_alerts(&self) -> Result<AlertReport, StoreError> {
        let mut report = AlertReport::default();
        let work = self.store.alert_work(WORK_BATCH).await?;
        if work.is_empty() {
            return Ok(report);
        }
        let now = self.clock.now();
        let overrides = self.store.overrides_at(now).await?;
        let config = self.config.clone();
        let timers = move |inc: &Incident| desired_timers(inc, &config);
        for item in work {
            match item {
                AlertWork::Link { service, alerts } => {
                    let config = self.config.clone();
                    let overrides = overrides.clone();
                    let svc = service.clone();
                    let plan = move |current: Option<&Incident>,
                                     routed: &[RoutedAlert]|
                          -> Result<Vec<NewEvent>, DomainError> {
                        let page = |declared: &EventKind| {
                            page_for_declaration(declared, &config, &overrides, now)
                        };
                        let kinds = link_events(current, &svc, routed, &config, &page, now)?;
                        Ok(stamp(kinds, now))
                    };
                    // Short transactions: ingestion shares the single SQLite writer, and a
                    // storm's alerts linked in one go would hold it for tens of milliseconds.
                    for chunk in alerts.chunks(LINK_CHUNK) {
                        // A monotonic timer for the log only; it decides nothing.
                        let started = std::time::Instant::now();
                        match self
                            .store
                            .link_alerts(&service, chunk, &plan, &timers)
                            .await
                        {
                            Ok(Some(incident)) => {
                                let micros = u64::try_from(started.elapsed().as_micros())
                                    .unwrap_or(u64::MAX);
                                tracing::info!(%service, incident_id = %incident, alerts = chunk.len(), micros, "alerts linked");
                                report.linked += 1;
                            }
                            Ok(None) => {}
                            // Another process took the same incident number: the next pass
                            // retries.
                            Err(StoreError::Conflict(why)) => {
                                tracing::debug!(%service, %why, "linking alerts raced; retrying next pass");
                                break;
                            }
                            Err(err) => return Err(err),
                        }
                    }
                }
                AlertWork::Settle { incident_id } => {
                    let config = self.config.clone();
                    let to_recovering = config.alerts.on_all_resolved == AllResolved::Recovering;
                    let plan = move |inc: &Incident, count: u64| {
                        stamp(settle_events(inc, count, to_recovering, &config), now)
                    };
                    self.store
                        .settle_alerts(&incident_id, &plan, &timers)
                        .await?;
                    report.settled += 1;
                }
            }
        }
        Ok(report)
    }
}

fn stamp(kinds: Vec<EventKind>, at: jiff::Timestamp) -> Vec<NewEvent> {
    kinds
        .into_iter()
        .map(|kind| NewEvent {
            at,
            actor: ACTOR.to_string(),
            kind,
        })
        .collect()
}
