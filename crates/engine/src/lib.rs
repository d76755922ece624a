//! Warroom's background work: the engine that fires durable timers.
//!
//! Every due thing (an acknowledgement deadline, the end of a playbook phase) is a row in the
//! store, written in the same transaction as the events that made it necessary. The engine
//! wakes every second, asks the store for due timers, and fires each one in its own
//! transaction: re-read the incident, let `warroom_core::timer::fire` decide what to record
//! (nothing, if later events made the timer stale), append it, schedule whatever the new state
//! needs, mark the timer fired. So:
//!
//! - a crash before the commit leaves the timer unfired, and it fires after the restart;
//! - a crash after the commit leaves it fired, and it never fires again;
//! - several engines on one PostgreSQL database skip each other's locked timers, so each timer
//!   fires in exactly one of them;
//! - the clock jumping backwards or forwards cannot re-fire anything: "fired" is a column.
//!
//! "Exactly once" means exactly one committed firing per timer. Outgoing notifications
//! (issue 4's outbox) will be delivered at least once, deduplicated by an idempotency key.

use std::sync::Arc;
use std::time::Duration;

use warroom_core::timer::{TimerSpec, desired_timers, fire};
use warroom_core::{Clock, Config, Incident, NewEvent};
use warroom_store::{FiredTimer, Store, StoreError};

/// The name events caused by the engine carry as their actor.
pub const ACTOR: &str = "warroom";

/// How many timers one tick fires at most, so a backlog after downtime drains in bounded steps.
const BATCH: usize = 200;

/// The timer engine.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
}

impl Engine {
    /// An engine over a store, with the config that decides deadlines.
    pub fn new(store: Arc<dyn Store>, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Self { store, config, clock }
    }

    /// Fires every timer due now; returns what fired.
    pub async fn tick(&self) -> Result<Vec<FiredTimer>, StoreError> {
        let now = self.clock.now();
        let config = self.config.clone();
        let fire_timer = move |timer: &TimerSpec, inc: &Incident| {
            fire(timer, inc, &config, now)
                .into_iter()
                .map(|kind| NewEvent { at: now, actor: ACTOR.to_string(), kind })
                .collect()
        };
        let config = self.config.clone();
        let plan = move |inc: &Incident| desired_timers(inc, &config);
        let mut all = Vec::new();
        loop {
            let fired = self.store.fire_due_timers(now, BATCH, &fire_timer, &plan).await?;
            let done = fired.len() < BATCH;
            for f in &fired {
                if f.events > 0 {
                    tracing::info!(timer = %f.timer.key, incident_id = %f.timer.incident_id, "timer fired");
                }
            }
            all.extend(fired);
            if done {
                return Ok(all);
            }
        }
    }

    /// Ticks every `every` until `shutdown` resolves. Errors are logged and retried on the next
    /// tick: a database blip must not stop the engine.
    pub async fn run(self, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = interval.tick() => {
                    if let Err(err) = self.tick().await {
                        tracing::warn!(error = %err, "engine tick failed; retrying on the next tick");
                    }
                }
            }
        }
    }
}
