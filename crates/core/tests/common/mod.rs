//! Helpers shared by the integration tests: an incident log driven through the public API the
//! way a store drives it (decide, seal, apply).

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use jiff::Timestamp;
use warroom_core::command::{self, Command, Declaration, DomainError};
use warroom_core::event::{Event, EventKind, GENESIS_HASH, NewEvent, StoredEvent};
use warroom_core::{Config, Incident, IncidentId};

/// An incident and the events that made it, kept in step.
#[derive(Debug, Clone)]
pub struct Log {
    /// The incident as applied event by event.
    pub incident: Incident,
    /// Every sealed event, in order.
    pub events: Vec<Event>,
}

/// Parses an RFC 3339 timestamp written in a test.
pub fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|err| panic!("bad test time {text:?}: {err}"))
}

impl Log {
    /// Declares an incident (counter 1 on the day of `at`) and applies the first event.
    pub fn declare(
        decl: &Declaration,
        config: &Config,
        at: Timestamp,
        actor: &str,
    ) -> Result<Log, DomainError> {
        let kind = command::declare(decl, config)?;
        let event = Event::seal(
            IncidentId::new(at, 1),
            1,
            NewEvent {
                at,
                actor: actor.to_string(),
                kind,
            },
            GENESIS_HASH,
        );
        let incident = Incident::apply(None, &event).expect("a declaration starts a log");
        Ok(Log {
            incident,
            events: vec![event],
        })
    }

    /// Declares the way a store does: the declaration, then the playbooks its triggers attach
    /// (all at `at`, by `actor`).
    pub fn declare_all(
        decl: &Declaration,
        config: &Config,
        at: Timestamp,
        actor: &str,
    ) -> Result<Log, DomainError> {
        let mut kinds = command::declaration_events(decl, config)?.into_iter();
        let first = kinds
            .next()
            .expect("a declaration records at least one event");
        let event = Event::seal(
            IncidentId::new(at, 1),
            1,
            NewEvent {
                at,
                actor: actor.to_string(),
                kind: first,
            },
            GENESIS_HASH,
        );
        let incident = Incident::apply(None, &event).expect("a declaration starts a log");
        let mut log = Log {
            incident,
            events: vec![event],
        };
        for kind in kinds {
            log.append(kind, at, actor);
        }
        Ok(log)
    }

    /// Seals `kind` after the last event and applies it.
    pub fn append(&mut self, kind: EventKind, at: Timestamp, actor: &str) {
        let prev = self
            .events
            .last()
            .map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
        let event = Event::seal(
            self.incident.id.clone(),
            self.incident.version + 1,
            NewEvent {
                at,
                actor: actor.to_string(),
                kind,
            },
            &prev,
        );
        self.incident = Incident::apply(Some(self.incident.clone()), &event)
            .unwrap_or_else(|err| panic!("decided event does not apply: {err}"));
        self.events.push(event);
    }

    /// Decides `cmd`; when accepted, seals and applies its events. Returns how many were added.
    pub fn run(
        &mut self,
        cmd: &Command,
        config: &Config,
        at: Timestamp,
        actor: &str,
    ) -> Result<usize, DomainError> {
        let kinds = command::decide(&self.incident, cmd, config)?;
        let count = kinds.len();
        for kind in kinds {
            self.append(kind, at, actor);
        }
        Ok(count)
    }

    /// Like [`Log::run`] for a command the test expects to be accepted.
    pub fn must(&mut self, cmd: &Command, config: &Config, at: &str, actor: &str) {
        if let Err(err) = self.run(cmd, config, ts(at), actor) {
            panic!("{cmd:?} refused: {err}");
        }
    }

    /// The log as a database holds it.
    pub fn stored(&self) -> Vec<StoredEvent> {
        self.events.iter().map(stored).collect()
    }
}

/// One event in its stored form, built the way a store builds it.
pub fn stored(e: &Event) -> StoredEvent {
    let (kind, data) = e.kind.to_parts();
    StoredEvent {
        incident_id: e.incident_id.to_string(),
        seq: i64::try_from(e.seq).expect("sequence fits i64"),
        at_micros: e.at.as_microsecond(),
        actor: e.actor.clone(),
        kind: kind.to_string(),
        payload: data.to_string(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}
