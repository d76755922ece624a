//! The Warroom domain, as pure functions over plain data.
//!
//! This crate owns what an incident *is* and which changes are allowed: the incident model and
//! its id, the event log and its hash chain, the lifecycle state machine, the command rules that
//! turn a request into events, access rules, the configuration model with its validation, the
//! incident-log exports, and on-call schedules with their calendar feed. It does no I/O and never
//! reads the system clock except through [`clock::SystemClock`]; time always enters as a value.

pub mod access;
pub mod action;
pub mod alert;
pub mod alert_incident;
pub mod audit;
pub mod calendar;
pub mod clock;
pub mod command;
pub mod comms;
pub mod config;
pub mod duration;
pub mod escalation;
pub mod event;
pub mod evidence;
pub mod export;
pub mod ical;
pub mod id;
pub mod incident;
pub mod indicator;
pub mod lifecycle;
pub mod metrics;
pub mod outbox;
pub mod people;
pub mod plan;
pub mod playbook;
pub mod postmortem;
pub mod report;
pub mod schedule;
pub mod statuspage;
pub mod timer;
pub mod triage;

pub use access::{Principal, Role, TokenScope};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Declaration, DomainError, IncidentPatch};
pub use config::Config;
pub use event::{Event, EventKind, NewEvent};
pub use id::IncidentId;
pub use incident::{Impact, Incident, Links};
pub use lifecycle::Status;
pub use people::{Person, Team};
pub use schedule::{OnCall, Override, Schedule, Shift, shifts, who_is_on_call};
