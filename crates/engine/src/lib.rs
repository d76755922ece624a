//! Warroom's background work: the engine that fires durable timers and delivers the
//! notification outbox.
//!
//! Every due thing (an acknowledgement deadline, the end of a playbook phase) is a row in the
//! store, written in the same transaction as the events that made it necessary. The engine
//! wakes every second, asks the store for due timers, and fires each one in its own
//! transaction: re-read the incident, let `warroom_core::timer::fire` decide what to record
//! (nothing, if later events made the timer stale), append it together with the notifications
//! it causes, schedule whatever the new state needs, mark the timer fired. So:
//!
//! - a crash before the commit leaves the timer unfired, and it fires after the restart;
//! - a crash after the commit leaves it fired, and it never fires again;
//! - several engines on one PostgreSQL database skip each other's locked timers, so each timer
//!   fires in exactly one of them;
//! - the clock jumping backwards or forwards cannot re-fire anything: "fired" is a column.
//!
//! "Exactly once" means exactly one committed firing per timer. Outgoing notifications are
//! delivered at least once: [`Engine::deliver`] claims due outbox messages under a lease, sends
//! each through its channel ([`channels`]), and records the outcome; a failure is retried with
//! capped exponential backoff and full jitter until the message is dead; a message whose
//! sender crashed is claimed again when the lease runs out, with the same idempotency key.

mod alerts;
pub mod channels;

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use warroom_core::outbox::{Channel, Outcome, OutgoingMessage, RetryPolicy, notifications};
use warroom_core::timer::{TimerSpec, desired_timers, fire};
use warroom_core::{Clock, Config, EventKind, Incident, IncidentId, NewEvent, Principal, Role};
use warroom_store::{Claimed, FiredTimer, Store, StoreError, TimerEffects};

pub use alerts::AlertReport;
pub use channels::{ChannelError, Channels, SmtpSettings};

/// The name events caused by the engine carry as their actor.
pub const ACTOR: &str = "warroom";

/// Shortest time between two passes linking alerts to incidents: new alerts join their incident
/// within about this long, and ingestion keeps the database to itself in between.
const ALERT_PASS_GAP: Duration = Duration::from_millis(200);

/// How many timers one tick fires at most, so a backlog after downtime drains in bounded steps.
const BATCH: usize = 200;

/// How notifications are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Retry schedule and dead-letter threshold.
    pub retry: RetryPolicy,
    /// How long a claim holds a message; must exceed `timeout` comfortably, since a message
    /// whose lease ran out is sent again by whoever claims it next.
    pub lease: SignedDuration,
    /// Timeout of each attempt.
    pub timeout: Duration,
    /// Messages claimed per round.
    pub batch: usize,
    /// Where timer notifications (missed acknowledgement targets, passed phase deadlines) go
    /// until escalation policies choose the recipients.
    pub notify: Vec<Channel>,
    /// The SMTP server for email; email messages are dead-lettered without one.
    pub smtp: Option<SmtpSettings>,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lease: SignedDuration::from_mins(2),
            timeout: Duration::from_secs(10),
            batch: 50,
            notify: Vec::new(),
            smtp: None,
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages claimed and attempted.
    pub attempted: usize,
    /// Delivered now.
    pub delivered: usize,
    /// Failed, to be retried.
    pub failed: usize,
    /// Given up on.
    pub dead: usize,
}

/// A source of uniform random numbers in `[0, 1)` for backoff jitter (tests pin it).
pub type Random = dyn Fn() -> f64 + Send + Sync;

/// The timer and delivery engine.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    delivery: Arc<DeliveryOptions>,
    channels: Channels,
    random: Arc<Random>,
    /// Woken after alerts are committed, so they join incidents without waiting for a tick.
    alert_nudge: Arc<tokio::sync::Notify>,
}

impl Engine {
    /// An engine over a store, with the config that decides deadlines, and default delivery
    /// options (no notification recipients, no SMTP).
    pub fn new(store: Arc<dyn Store>, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Self::with_delivery(store, config, clock, DeliveryOptions::default())
            .unwrap_or_else(|e| unreachable!("default delivery options are valid: {e}"))
    }

    /// An engine with the given delivery options.
    pub fn with_delivery(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        clock: Arc<dyn Clock>,
        delivery: DeliveryOptions,
    ) -> Result<Self, ChannelError> {
        let channels = Channels::new(delivery.timeout, delivery.smtp.clone())?;
        Ok(Self {
            store,
            config,
            clock,
            delivery: Arc::new(delivery),
            channels,
            random: Arc::new(rand::random::<f64>),
            alert_nudge: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Asks the running engine to link newly committed alerts now rather than at its next
    /// tick.
    pub fn nudge_alerts(&self) {
        self.alert_nudge.notify_one();
    }

    /// Replaces the jitter source (tests use a constant).
    pub fn with_random(mut self, random: Arc<Random>) -> Self {
        self.random = random;
        self
    }

    /// Fires due timers, then delivers due messages (what `run` does each second, in one
    /// step: tests call it after moving the clock).
    pub async fn tick(&self) -> Result<Vec<FiredTimer>, StoreError> {
        self.process_alerts().await?;
        let fired = self.fire_timers().await?;
        self.deliver().await?;
        Ok(fired)
    }

    /// Fires every timer due now, enqueuing the notifications each causes in the same
    /// transaction; returns what fired.
    pub async fn fire_timers(&self) -> Result<Vec<FiredTimer>, StoreError> {
        let now = self.clock.now();
        let config = self.config.clone();
        let delivery = self.delivery.clone();
        // Whoever an override puts on call now is who an escalation step pages.
        let overrides = self.store.overrides_at(now).await?;
        let fire_timer = move |timer: &TimerSpec, inc: &Incident| {
            let kinds = fire(timer, inc, &config, &overrides, now);
            TimerEffects {
                messages: notifications(&timer.key, &config, inc, &kinds, &delivery.notify),
                events: kinds
                    .into_iter()
                    .map(|kind| NewEvent {
                        at: now,
                        actor: ACTOR.to_string(),
                        kind,
                    })
                    .collect(),
            }
        };
        let config = self.config.clone();
        let plan = move |inc: &Incident| desired_timers(inc, &config);
        let mut all = Vec::new();
        loop {
            let fired = self
                .store
                .fire_due_timers(now, BATCH, &fire_timer, &plan)
                .await?;
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

    /// One delivery round: claims the messages due now (under a lease), sends them
    /// concurrently, and records each attempt's outcome.
    pub async fn deliver(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_due_messages(now, self.delivery.batch, self.delivery.lease)
            .await?;
        let mut report = DeliveryReport {
            attempted: claimed.len(),
            ..DeliveryReport::default()
        };
        let mut sends = tokio::task::JoinSet::new();
        for claim in claimed {
            let engine = self.clone();
            sends.spawn(async move { engine.attempt(claim).await });
        }
        let mut first_error = None;
        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok(Ok(Outcome::Delivered)) => report.delivered += 1,
                Ok(Ok(Outcome::Failed { .. })) => report.failed += 1,
                Ok(Ok(Outcome::Dead { .. })) => report.dead += 1,
                // The outcome could not be recorded: the lease runs out and the message is sent
                // again, which at-least-once allows.
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(join) => tracing::error!(error = %join, "delivery task failed"),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn attempt(&self, claim: Claimed) -> Result<Outcome, StoreError> {
        let message = &claim.message;
        if claim.attempts >= self.delivery.retry.max_attempts {
            // Only lapsed leases get here: the attempts that crashed their senders used up
            // the budget. Sending once more could crash this engine too.
            let outcome = Outcome::Dead {
                error: format!(
                    "{} attempts, the last ones never reported back",
                    claim.attempts
                ),
            };
            tracing::error!(message = %message.id, incident_id = %message.incident_id, "notification dead: its senders kept stopping mid-attempt");
            self.store
                .record_delivery(&message.id, &outcome, self.clock.now())
                .await?;
            return Ok(outcome);
        }
        let result = self.channels.send(message, self.clock.now()).await;
        let now = self.clock.now();
        let outcome =
            self.delivery
                .retry
                .after_attempt(claim.attempts, result, now, (self.random)());
        match &outcome {
            Outcome::Delivered => {
                tracing::info!(message = %message.id, incident_id = %message.incident_id, channel = message.channel.kind(), "notification delivered");
            }
            Outcome::Failed {
                error,
                next_attempt_at,
            } => {
                tracing::warn!(message = %message.id, channel = message.channel.kind(), %error, %next_attempt_at, "notification failed; will retry");
            }
            Outcome::Dead { error } => {
                tracing::error!(message = %message.id, incident_id = %message.incident_id, channel = message.channel.kind(), %error, "notification dead after {} attempts", claim.attempts + 1);
            }
        }
        self.store
            .record_delivery(&message.id, &outcome, now)
            .await?;
        self.record_on_timeline(message, &outcome, claim.attempts + 1, now)
            .await;
        Ok(outcome)
    }

    /// Puts a final outcome (delivered, or given up) on the incident's timeline. Retries in
    /// between stay in the outbox (`warroom deliveries`), so a flapping receiver does not bury
    /// the timeline. Failing to write the event only costs the timeline entry: the outbox row
    /// already holds the outcome.
    async fn record_on_timeline(
        &self,
        message: &OutgoingMessage,
        outcome: &Outcome,
        attempts: u32,
        now: Timestamp,
    ) {
        let kind = match outcome {
            Outcome::Delivered => EventKind::NotificationDelivered {
                message: message.id.clone(),
                channel: message.channel.kind().to_string(),
                destination: message.channel.destination(),
                attempts,
            },
            Outcome::Dead { error } => EventKind::NotificationDead {
                message: message.id.clone(),
                channel: message.channel.kind().to_string(),
                destination: message.channel.destination(),
                attempts,
                error: error.clone(),
            },
            Outcome::Failed { .. } => return,
        };
        let Ok(id) = message.incident_id.parse::<IncidentId>() else {
            return;
        };
        let system = Principal {
            name: ACTOR.to_string(),
            role: Role::Admin,
            security: true,
        };
        let decide = move |_: &Incident| {
            Ok(vec![NewEvent {
                at: now,
                actor: ACTOR.to_string(),
                kind: kind.clone(),
            }])
        };
        let config = self.config.clone();
        let plan = move |inc: &Incident| desired_timers(inc, &config);
        if let Err(err) = self.store.update(&system, &id, &decide, &plan).await {
            tracing::warn!(error = %err, message = %message.id, "could not put the delivery outcome on the timeline");
        }
    }

    /// Runs until `shutdown` resolves: fires timers every `every`, and delivers messages every
    /// `every` in a loop of its own, so a slow receiver never delays a timer. Errors are logged
    /// and retried on the next tick: a database blip must not stop the engine.
    pub async fn run(self, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stop_rx_alerts = stop_rx.clone();
        let timers = {
            let engine = self.clone();
            let stop = stop_rx.clone();
            Self::every(every, stop, move || {
                let engine = engine.clone();
                async move {
                    if let Err(err) = engine.fire_timers().await {
                        tracing::warn!(error = %err, "firing timers failed; retrying on the next tick");
                    }
                }
            })
        };
        let deliveries = {
            let engine = self.clone();
            Self::every(every, stop_rx, move || {
                let engine = engine.clone();
                async move {
                    if let Err(err) = engine.deliver().await {
                        tracing::warn!(error = %err, "delivering notifications failed; retrying on the next tick");
                    }
                }
            })
        };
        let alerts = {
            let engine = self.clone();
            let mut stop = stop_rx_alerts;
            async move {
                let mut interval = tokio::time::interval(every);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = interval.tick() => {}
                        _ = engine.alert_nudge.notified() => {}
                    }
                    if let Err(err) = engine.process_alerts().await {
                        tracing::warn!(error = %err, "linking alerts failed; retrying on the next tick");
                    }
                    // Let a storm's alerts gather for the next pass instead of taking the
                    // database's single writer after every committed batch.
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(ALERT_PASS_GAP) => {}
                    }
                }
            }
        };
        let stopper = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        tokio::join!(timers, deliveries, alerts, stopper);
    }

    async fn every<F, Fut>(
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
        mut step: F,
    ) where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = interval.tick() => step().await,
            }
        }
    }
}
