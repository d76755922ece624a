//! The one body of SQL both backends run.
//!
//! SQLite and PostgreSQL differ here only in how a write transaction starts, how a row is
//! locked, and how migrations are serialised; everything else is the same statements with
//! `$N` parameters (which sqlx's SQLite driver also accepts). A macro stamps the body out for
//! each backend's concrete types, which keeps one copy of the SQL without generic sqlx bounds.

use jiff::Timestamp;
use warroom_core::Role;

use crate::StoreError;

/// Rows per multi-row insert of an incident write's side rows: at most 8 parameters a row,
/// well inside both databases' limits.
pub(crate) const ROWS_PER_INSERT: usize = 200;

pub(crate) fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v)
        .map_err(|_| StoreError::Corrupt(format!("time {v} out of range")))
}

pub(crate) fn parse_role(text: &str) -> Result<Role, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

/// `LIKE` pattern matching `text` anywhere, with wildcards in it taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Unique-key violations mean someone else won a race: the caller may retry.
pub(crate) fn conflict_or(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_string())
        }
        _ => StoreError::Database(err),
    }
}

/// A transaction PostgreSQL aborted to break a deadlock or a serialisation conflict did
/// nothing: the caller may retry it like a lost race.
pub(crate) fn conflict_if_aborted(err: StoreError) -> StoreError {
    match &err {
        StoreError::Database(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
        {
            StoreError::Conflict(db.message().to_string())
        }
        _ => err,
    }
}

macro_rules! store_impl {
    ($store:ident, $db:ty, $backend:ident, $migrations:expr, $lock:literal, $skip_locked:literal) => {
        use async_trait::async_trait;
        use jiff::Timestamp;
        use sqlx::{QueryBuilder, Row};
        use warroom_core::event::{GENESIS_HASH, StoredEvent, verify_chain, ChainBreak};
        use warroom_core::{Event, EventKind, Incident, IncidentId, NewEvent, Principal};

        use crate::backend::{conflict_or, contains_pattern, from_micros, micros, parse_role};
        use crate::filter::{Cursor, IncidentFilter, Page, StatusFilter};
        use crate::types::{ActionFilter, ActionRecord, NewOverride, NewSession, NewToken, NewUser, OperationalStats, TokenRecord, UserRecord, VerifyReport};
        use warroom_core::Override;
        use crate::{Backend, Claimed, FireTimer, FiredTimer, Notifier, Store, TimerPlan};
        use warroom_core::outbox::{Channel, Delivery, OutgoingMessage, Outcome};
        use warroom_core::timer::TimerSpec;

        type Tx<'c> = sqlx::Transaction<'c, $db>;

        impl $store {
            async fn migrate(&self) -> Result<(), StoreError> {
                sqlx::query(crate::migrate::CREATE_TABLE).execute(&self.pool).await?;
                for m in $migrations {
                    let mut tx = self.begin().await?;
                    Self::migration_lock(&mut tx).await?;
                    let done: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                            .bind(m.version)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if done.is_some() {
                        tx.rollback().await?;
                        continue;
                    }
                    sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(|source| StoreError::Migration {
                        version: m.version,
                        name: m.name,
                        source,
                    })?;
                    sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                        .bind(m.version)
                        .bind(m.name)
                        .execute(&mut *tx)
                        .await?;
                    self.commit(tx).await?;
                    tracing::info!(version = m.version, name = m.name, "applied database migration");
                }
                Ok(())
            }

            /// Numbers and writes a new incident from `events` inside `tx` (see
            /// [`Store::create_incident`]).
            async fn create_in_tx(
                tx: &mut Tx<'_>,
                first_at: Timestamp,
                events: Vec<NewEvent>,
                timers: &TimerPlan<'_>,
                notifier: Option<&Notifier>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                let day = warroom_core::id::day_key(first_at);
                // The upsert takes a row lock (PostgreSQL) or runs under the write lock (SQLite),
                // so concurrent declarations get distinct numbers.
                let n: i64 = sqlx::query_scalar(
                    "INSERT INTO incident_counters (day, last) VALUES ($1, 1)
                     ON CONFLICT (day) DO UPDATE SET last = incident_counters.last + 1
                     RETURNING last",
                )
                .bind(&day)
                .fetch_one(&mut **tx)
                .await?;
                let n = u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("counter for {day} overflowed")))?;
                let id = IncidentId::new(first_at, n);
                let mut state: Option<Incident> = None;
                let mut prev = GENESIS_HASH.to_string();
                let mut sealed = Vec::with_capacity(events.len());
                for (i, e) in events.into_iter().enumerate() {
                    let event = Event::seal(id.clone(), i as u64 + 1, e, &prev);
                    prev = event.hash.clone();
                    state = Some(Incident::apply(state, &event).map_err(|e| StoreError::Corrupt(e.to_string()))?);
                    sealed.push(event);
                }
                let incident = state.ok_or_else(|| StoreError::Corrupt("an incident needs a declaration".into()))?;
                Self::insert_events(tx, &sealed).await?;
                Self::write_projection(tx, &incident, &prev, None).await?;
                Self::write_actions(tx, &incident, &sealed).await?;
                Self::schedule_timers(tx, &incident, timers).await?;
                Self::notify(tx, &incident, &sealed, notifier).await?;
                Ok((incident, sealed))
            }

            // Side rows are written with one multi-row statement per table: every statement is
            // a round trip to the database (on SQLite, to its connection's thread), taken while
            // the transaction holds the write lock.
            async fn insert_events(tx: &mut Tx<'_>, events: &[Event]) -> Result<(), StoreError> {
                for chunk in events.chunks(crate::backend::ROWS_PER_INSERT) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for e in chunk {
                        let (kind, data) = e.kind.to_parts();
                        let seq = i64::try_from(e.seq).map_err(|_| StoreError::Corrupt("sequence overflow".into()))?;
                        rows.push((e, seq, kind, data.to_string()));
                    }
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO events (incident_id, seq, at, actor, kind, payload, prev_hash, hash) ",
                    );
                    qb.push_values(rows, |mut b, (e, seq, kind, data)| {
                        b.push_bind(e.incident_id.as_str().to_string())
                            .push_bind(seq)
                            .push_bind(micros(e.at))
                            .push_bind(e.actor.clone())
                            .push_bind(kind)
                            .push_bind(data)
                            .push_bind(e.prev_hash.clone())
                            .push_bind(e.hash.clone());
                    });
                    qb.build().execute(&mut **tx).await.map_err(conflict_or)?;
                }
                Ok(())
            }

            /// Writes the projection row and its lookup tables; `expected` is the version the
            /// row must still have (`None` for a new incident).
            async fn write_projection(
                tx: &mut Tx<'_>,
                inc: &Incident,
                last_hash: &str,
                expected: Option<u64>,
            ) -> Result<(), StoreError> {
                let state = serde_json::to_string(inc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let version = i64::try_from(inc.version).map_err(|_| StoreError::Corrupt("version overflow".into()))?;
                match expected {
                    None => {
                        sqlx::query(
                            "INSERT INTO incidents (id, version, title, incident_type, severity, status, restricted,
                               declared_at, updated_at, search_text, last_hash, state)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        )
                        .bind(inc.id.as_str())
                        .bind(version)
                        .bind(&inc.title)
                        .bind(&inc.incident_type)
                        .bind(&inc.severity)
                        .bind(inc.status.as_str())
                        .bind(inc.restricted)
                        .bind(micros(inc.declared_at))
                        .bind(micros(inc.updated_at))
                        .bind(inc.search_text())
                        .bind(last_hash)
                        .bind(&state)
                        .execute(&mut **tx)
                        .await
                        .map_err(conflict_or)?;
                    }
                    Some(expected) => {
                        let expected = i64::try_from(expected).map_err(|_| StoreError::Corrupt("version overflow".into()))?;
                        let done = sqlx::query(
                            "UPDATE incidents SET version = $1, title = $2, incident_type = $3, severity = $4,
                               status = $5, restricted = $6, updated_at = $7, search_text = $8, last_hash = $9,
                               state = $10
                             WHERE id = $11 AND version = $12",
                        )
                        .bind(version)
                        .bind(&inc.title)
                        .bind(&inc.incident_type)
                        .bind(&inc.severity)
                        .bind(inc.status.as_str())
                        .bind(inc.restricted)
                        .bind(micros(inc.updated_at))
                        .bind(inc.search_text())
                        .bind(last_hash)
                        .bind(&state)
                        .bind(inc.id.as_str())
                        .bind(expected)
                        .execute(&mut **tx)
                        .await?;
                        if done.rows_affected() != 1 {
                            return Err(StoreError::Conflict(format!("{} changed concurrently", inc.id)));
                        }
                    }
                }
                let id = inc.id.as_str();
                sqlx::query("DELETE FROM incident_services WHERE incident_id = $1").bind(id).execute(&mut **tx).await?;
                for chunk in inc.services.chunks(crate::backend::ROWS_PER_INSERT) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO incident_services (incident_id, service) ");
                    qb.push_values(chunk, |mut b, s| {
                        b.push_bind(id.to_string()).push_bind(s.to_string());
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                sqlx::query("DELETE FROM incident_labels WHERE incident_id = $1").bind(id).execute(&mut **tx).await?;
                for chunk in inc.labels.iter().collect::<Vec<_>>().chunks(crate::backend::ROWS_PER_INSERT) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO incident_labels (incident_id, key, value) ");
                    qb.push_values(chunk, |mut b, (k, v)| {
                        b.push_bind(id.to_string()).push_bind(k.to_string()).push_bind(v.to_string());
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                // Participation only grows, so inserting the missing ones is enough.
                for chunk in inc.participants.iter().collect::<Vec<_>>().chunks(crate::backend::ROWS_PER_INSERT) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO incident_participants (incident_id, person) ");
                    qb.push_values(chunk, |mut b, p| {
                        b.push_bind(id.to_string()).push_bind(p.to_string());
                    });
                    qb.push(" ON CONFLICT (incident_id, person) DO NOTHING");
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Seals `events` after `incident`'s log and writes them, the projection and the
            /// timers the new state needs, inside `tx`.
            async fn seal_and_write(
                tx: &mut Tx<'_>,
                mut incident: Incident,
                mut prev: String,
                events: Vec<NewEvent>,
                timers: &TimerPlan<'_>,
                notifier: Option<&Notifier>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                if events.is_empty() {
                    return Ok((incident, Vec::new()));
                }
                let expected_version = incident.version;
                let was_open = incident.status.is_open();
                let mut sealed = Vec::with_capacity(events.len());
                for (i, e) in events.into_iter().enumerate() {
                    let event = Event::seal(incident.id.clone(), expected_version + 1 + i as u64, e, &prev);
                    prev = event.hash.clone();
                    incident = Incident::apply(Some(incident), &event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sealed.push(event);
                }
                Self::insert_events(tx, &sealed).await?;
                Self::write_projection(tx, &incident, &prev, Some(expected_version)).await?;
                if was_open && !incident.status.is_open() {
                    // In the same transaction: no trigger can land on an alert of a finished
                    // incident in between.
                    if let Some(last) = sealed.last() {
                        Self::resolve_alerts_of_incident(&mut **tx, incident.id.as_str(), last.at).await?;
                    }
                }
                Self::write_actions(tx, &incident, &sealed).await?;
                Self::schedule_timers(tx, &incident, timers).await?;
                Self::notify(tx, &incident, &sealed, notifier).await?;
                Ok((incident, sealed))
            }

            /// Writes the notifications `notifier` derives from `sealed`, due at the last
            /// event's time.
            async fn notify(tx: &mut Tx<'_>, incident: &Incident, sealed: &[Event], notifier: Option<&Notifier>) -> Result<(), StoreError> {
                if let (Some(notifier), Some(last)) = (notifier, sealed.last()) {
                    let messages = notifier(incident, sealed);
                    Self::insert_messages(tx, &messages, last.at).await?;
                }
                Ok(())
            }

            /// [`Self::seal_and_write`], then commit (or roll back when there was nothing to write).
            async fn seal_and_commit(
                &self,
                mut tx: Tx<'static>,
                incident: Incident,
                prev: String,
                events: Vec<NewEvent>,
                timers: &TimerPlan<'_>,
                notifier: Option<&Notifier>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                let written = Self::seal_and_write(&mut tx, incident, prev, events, timers, notifier).await?;
                if written.1.is_empty() {
                    tx.rollback().await?;
                } else {
                    self.commit(tx).await?;
                }
                Ok(written)
            }

            /// Rewrites the projection rows of the action items `sealed` touched.
            async fn write_actions(tx: &mut Tx<'_>, incident: &Incident, sealed: &[Event]) -> Result<(), StoreError> {
                for e in sealed {
                    let action = match &e.kind {
                        EventKind::ActionItemCreated { action, .. } | EventKind::ActionItemUpdated { action, .. } => action,
                        _ => continue,
                    };
                    let Some(item) = incident.actions.iter().find(|a| &a.id == action) else { continue };
                    sqlx::query(
                        "INSERT INTO action_items (incident_id, action_id, title, owner, due, due_at, priority, status,
                           ticket, created_by, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                         ON CONFLICT (incident_id, action_id) DO UPDATE SET title = $3, owner = $4, due = $5,
                           due_at = $6, priority = $7, status = $8, ticket = $9, updated_at = $12",
                    )
                    .bind(incident.id.as_str())
                    .bind(&item.id)
                    .bind(&item.title)
                    .bind(&item.owner)
                    .bind(item.due.to_string())
                    .bind(micros(item.due_at))
                    .bind(item.priority.as_str())
                    .bind(item.status.as_str())
                    .bind(&item.ticket)
                    .bind(&item.created_by)
                    .bind(micros(item.created_at))
                    .bind(micros(item.updated_at))
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            fn action_from_row(row: &<$db as sqlx::Database>::Row) -> Result<ActionRecord, StoreError> {
                let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("action item {what}: {e}"));
                let text = |col: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(col)?) };
                Ok(ActionRecord {
                    incident_id: text("incident_id")?,
                    item: warroom_core::action::ActionItem {
                        id: text("action_id")?,
                        title: text("title")?,
                        owner: text("owner")?,
                        due: text("due")?.parse().map_err(|e: jiff::Error| corrupt("due", e.to_string()))?,
                        due_at: from_micros(row.try_get("due_at")?)?,
                        priority: text("priority")?.parse().map_err(|e| corrupt("priority", e))?,
                        status: text("status")?.parse().map_err(|e| corrupt("status", e))?,
                        ticket: row.try_get("ticket")?,
                        created_by: text("created_by")?,
                        created_at: from_micros(row.try_get("created_at")?)?,
                        updated_at: from_micros(row.try_get("updated_at")?)?,
                    },
                })
            }

            /// Inserts the timers `incident` needs; existing keys are left alone, so a timer that
            /// already fired is never re-armed.
            async fn schedule_timers(tx: &mut Tx<'_>, incident: &Incident, timers: &TimerPlan<'_>) -> Result<(), StoreError> {
                let wanted = timers(incident);
                for chunk in wanted.chunks(crate::backend::ROWS_PER_INSERT) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for t in chunk {
                        let kind = serde_json::to_string(&t.kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        rows.push((t, kind));
                    }
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO timers (key, incident_id, kind, due_at, created_at) ");
                    qb.push_values(rows, |mut b, (t, kind)| {
                        b.push_bind(t.key.clone())
                            .push_bind(t.incident_id.clone())
                            .push_bind(kind)
                            .push_bind(micros(t.due_at))
                            .push_bind(micros(incident.updated_at));
                    });
                    qb.push(" ON CONFLICT (key) DO NOTHING");
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Inserts messages as `pending`, due at `now`; ids already present are left alone.
            async fn insert_messages(tx: &mut Tx<'_>, messages: &[OutgoingMessage], now: Timestamp) -> Result<u64, StoreError> {
                let mut added = 0;
                for m in messages {
                    let channel = serde_json::to_string(&m.channel).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let done = sqlx::query(
                        "INSERT INTO outbox (id, incident_id, channel, channel_kind, destination, subject, body, payload,
                           status, attempts, created_at, next_attempt_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&m.id)
                    .bind(&m.incident_id)
                    .bind(channel)
                    .bind(m.channel.kind())
                    .bind(m.channel.destination())
                    .bind(&m.subject)
                    .bind(&m.text)
                    .bind(m.payload.to_string())
                    .bind(micros(now))
                    .execute(&mut **tx)
                    .await?;
                    added += done.rows_affected();
                }
                Ok(added)
            }

            fn delivery_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Delivery, StoreError> {
                let status: String = row.try_get("status")?;
                let opt_time = |col: &str| -> Result<Option<Timestamp>, StoreError> {
                    row.try_get::<Option<i64>, _>(col)?.map(from_micros).transpose()
                };
                Ok(Delivery {
                    id: row.try_get("id")?,
                    incident_id: row.try_get("incident_id")?,
                    channel: row.try_get("channel_kind")?,
                    destination: row.try_get("destination")?,
                    subject: row.try_get("subject")?,
                    status: status.parse().map_err(StoreError::Corrupt)?,
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    created_at: from_micros(row.try_get("created_at")?)?,
                    next_attempt_at: match status.as_str() {
                        "delivered" | "dead" => None,
                        _ => opt_time("next_attempt_at")?,
                    },
                    last_attempt_at: opt_time("last_attempt_at")?,
                    delivered_at: opt_time("delivered_at")?,
                    last_error: row.try_get("last_error")?,
                })
            }

            fn message_from_row(row: &<$db as sqlx::Database>::Row) -> Result<OutgoingMessage, StoreError> {
                let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("outbox row: {e}"));
                let channel: Channel = serde_json::from_str(&row.try_get::<String, _>("channel")?).map_err(corrupt)?;
                Ok(OutgoingMessage {
                    id: row.try_get("id")?,
                    incident_id: row.try_get("incident_id")?,
                    channel,
                    subject: row.try_get("subject")?,
                    text: row.try_get("body")?,
                    payload: serde_json::from_str(&row.try_get::<String, _>("payload")?).map_err(corrupt)?,
                })
            }

            fn timer_from_row(row: &<$db as sqlx::Database>::Row) -> Result<FiredTimer, StoreError> {
                let kind: String = row.try_get("kind")?;
                Ok(FiredTimer {
                    timer: TimerSpec {
                        key: row.try_get("key")?,
                        incident_id: row.try_get("incident_id")?,
                        due_at: from_micros(row.try_get("due_at")?)?,
                        kind: serde_json::from_str(&kind).map_err(|e| StoreError::Corrupt(format!("timer kind: {e}")))?,
                    },
                    fired_at: row.try_get::<Option<i64>, _>("fired_at")?.map(from_micros).transpose()?,
                    events: 0,
                })
            }

            fn push_visibility(qb: &mut QueryBuilder<$db>, viewer: &Principal) {
                if !viewer.sees_all_restricted() {
                    qb.push(
                        " AND (i.restricted = FALSE OR EXISTS (SELECT 1 FROM incident_participants p
                           WHERE p.incident_id = i.id AND p.person = ",
                    );
                    qb.push_bind(viewer.name.clone());
                    qb.push("))");
                }
            }

            fn push_in(qb: &mut QueryBuilder<$db>, column: &str, values: &[String]) {
                qb.push(format!(" AND {column} IN ("));
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        qb.push(", ");
                    }
                    qb.push_bind(v.clone());
                }
                qb.push(")");
            }

            fn push_filters(qb: &mut QueryBuilder<$db>, viewer: &Principal, f: &IncidentFilter) {
                Self::push_visibility(qb, viewer);
                if let StatusFilter::In(statuses) = &f.status {
                    let names: Vec<String> = statuses.iter().map(|s| s.as_str().to_string()).collect();
                    if names.is_empty() {
                        qb.push(" AND 1 = 0");
                    } else {
                        Self::push_in(qb, "i.status", &names);
                    }
                }
                if !f.severities.is_empty() {
                    Self::push_in(qb, "i.severity", &f.severities);
                }
                if !f.types.is_empty() {
                    Self::push_in(qb, "i.incident_type", &f.types);
                }
                if !f.services.is_empty() {
                    qb.push(" AND EXISTS (SELECT 1 FROM incident_services s WHERE s.incident_id = i.id");
                    Self::push_in(qb, "s.service", &f.services);
                    qb.push(")");
                }
                for (k, v) in &f.labels {
                    qb.push(" AND EXISTS (SELECT 1 FROM incident_labels l WHERE l.incident_id = i.id AND l.key = ");
                    qb.push_bind(k.clone());
                    qb.push(" AND l.value = ");
                    qb.push_bind(v.clone());
                    qb.push(")");
                }
                if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
                    qb.push(" AND i.search_text LIKE ");
                    qb.push_bind(contains_pattern(text.trim()));
                    qb.push(" ESCAPE '\\'");
                }
                if let Some(since) = f.since {
                    qb.push(" AND i.declared_at >= ");
                    qb.push_bind(micros(since));
                }
                if let Some(until) = f.until {
                    qb.push(" AND i.declared_at < ");
                    qb.push_bind(micros(until));
                }
            }

            fn parse_state(state: &str) -> Result<Incident, StoreError> {
                serde_json::from_str(state).map_err(|e| StoreError::Corrupt(format!("incident row: {e}")))
            }

            fn override_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Override, StoreError> {
                Ok(Override {
                    id: row.try_get("id")?,
                    schedule: row.try_get("schedule")?,
                    person: row.try_get("person")?,
                    start: from_micros(row.try_get("start_at")?)?,
                    end: from_micros(row.try_get("end_at")?)?,
                })
            }

            fn user_from_row(row: &<$db as sqlx::Database>::Row) -> Result<UserRecord, StoreError> {
                Ok(UserRecord {
                    name: row.try_get("name")?,
                    role: parse_role(&row.try_get::<String, _>("role")?)?,
                    security: row.try_get("security")?,
                    password_hash: row.try_get("password_hash")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    created_by: row.try_get("created_by")?,
                    disabled_at: row
                        .try_get::<Option<i64>, _>("disabled_at")?
                        .map(from_micros)
                        .transpose()?,
                    disabled_by: row.try_get("disabled_by")?,
                })
            }

            fn token_from_row(row: &<$db as sqlx::Database>::Row) -> Result<TokenRecord, StoreError> {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    role: parse_role(&row.try_get::<String, _>("role")?)?,
                    security: row.try_get("security")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    created_by: row.try_get("created_by")?,
                    revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_micros).transpose()?,
                    last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(from_micros).transpose()?,
                    scope: row
                        .try_get::<String, _>("scope")?
                        .parse()
                        .map_err(|e: String| StoreError::Corrupt(format!("api_tokens.scope: {e}")))?,
                    expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_micros).transpose()?,
                })
            }

            async fn stored_events(&self, id: &str) -> Result<Vec<StoredEvent>, StoreError> {
                let rows = sqlx::query(
                    "SELECT incident_id, seq, at, actor, kind, payload, prev_hash, hash
                     FROM events WHERE incident_id = $1 ORDER BY seq",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(StoredEvent {
                            incident_id: r.try_get("incident_id")?,
                            seq: r.try_get("seq")?,
                            at_micros: r.try_get("at")?,
                            actor: r.try_get("actor")?,
                            kind: r.try_get("kind")?,
                            payload: r.try_get("payload")?,
                            prev_hash: r.try_get("prev_hash")?,
                            hash: r.try_get("hash")?,
                        })
                    })
                    .collect()
            }
        }

        fn to_event(s: &StoredEvent) -> Result<Event, StoreError> {
            let corrupt = |what: String| StoreError::Corrupt(format!("event {} of {}: {what}", s.seq, s.incident_id));
            let data: serde_json::Value = serde_json::from_str(&s.payload).map_err(|e| corrupt(e.to_string()))?;
            Ok(Event {
                incident_id: s.incident_id.parse().map_err(|e: warroom_core::id::IdError| corrupt(e.to_string()))?,
                seq: u64::try_from(s.seq).map_err(|_| corrupt("negative sequence".into()))?,
                at: from_micros(s.at_micros)?,
                actor: s.actor.clone(),
                kind: EventKind::from_parts(&s.kind, data).map_err(|e| corrupt(e.to_string()))?,
                prev_hash: s.prev_hash.clone(),
                hash: s.hash.clone(),
            })
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                Backend::$backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_incident(
                &self,
                events: Vec<NewEvent>,
                timers: &TimerPlan<'_>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                let first_at = events
                    .first()
                    .map(|e| e.at)
                    .ok_or_else(|| StoreError::Corrupt("an incident needs a declaration".into()))?;
                let mut tx = self.begin().await?;
                let written = Self::create_in_tx(&mut tx, first_at, events, timers, self.notifier.get().as_deref()).await?;
                self.commit(tx).await?;
                Ok(written)
            }

            async fn append(
                &self,
                id: &IncidentId,
                expected_version: u64,
                events: Vec<NewEvent>,
                timers: &TimerPlan<'_>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                let mut tx = self.begin().await?;
                let row = sqlx::query(concat!("SELECT version, last_hash, state FROM incidents WHERE id = $1", $lock))
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let version: i64 = row.try_get("version")?;
                if u64::try_from(version).ok() != Some(expected_version) {
                    return Err(StoreError::Conflict(format!(
                        "{id} is at version {version}, not {expected_version}"
                    )));
                }
                let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                let last_hash: String = row.try_get("last_hash")?;
                self.seal_and_commit(tx, incident, last_hash, events, timers, self.notifier.get().as_deref()).await
            }

            async fn update(
                &self,
                viewer: &Principal,
                id: &IncidentId,
                decide: &crate::Decide<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<(Incident, Vec<Event>), StoreError> {
                let mut tx = self.begin().await?;
                let mut qb = QueryBuilder::<$db>::new("SELECT i.last_hash, i.state FROM incidents i WHERE i.id = ");
                qb.push_bind(id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                qb.push($lock);
                let row = qb.build().fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
                let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                let events = decide(&incident).map_err(StoreError::Rejected)?;
                let last_hash: String = row.try_get("last_hash")?;
                self.seal_and_commit(tx, incident, last_hash, events, timers, self.notifier.get().as_deref()).await
            }

            async fn fire_due_timers(
                &self,
                now: Timestamp,
                limit: usize,
                fire: &FireTimer<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<Vec<FiredTimer>, StoreError> {
                let mut fired = Vec::new();
                let notifier = self.notifier.get();
                while fired.len() < limit {
                    let mut tx = self.begin().await?;
                    // SKIP LOCKED (PostgreSQL): another process firing a timer makes us take the
                    // next one instead of waiting for it; SQLite has a single writer anyway.
                    let row = sqlx::query(concat!(
                        "SELECT key, incident_id, kind, due_at, fired_at FROM timers
                         WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, key LIMIT 1",
                        $skip_locked
                    ))
                    .bind(micros(now))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        tx.rollback().await?;
                        break;
                    };
                    let mut timer = Self::timer_from_row(&row)?;
                    let incident_row = sqlx::query(concat!("SELECT last_hash, state FROM incidents WHERE id = $1", $lock))
                        .bind(&timer.timer.incident_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(incident_row) = incident_row {
                        let incident = Self::parse_state(&incident_row.try_get::<String, _>("state")?)?;
                        let last_hash: String = incident_row.try_get("last_hash")?;
                        let effects = fire(&timer.timer, &incident);
                        let (_, sealed) = Self::seal_and_write(&mut tx, incident, last_hash, effects.events, timers, notifier.as_deref()).await?;
                        timer.events = sealed.len();
                        Self::insert_messages(&mut tx, &effects.messages, now).await?;
                    }
                    sqlx::query("UPDATE timers SET fired_at = $1 WHERE key = $2 AND fired_at IS NULL")
                        .bind(micros(now))
                        .bind(&timer.timer.key)
                        .execute(&mut *tx)
                        .await?;
                    self.commit(tx).await?;
                    timer.fired_at = Some(now);
                    fired.push(timer);
                }
                Ok(fired)
            }

            fn set_notifier(&self, notifier: std::sync::Arc<Notifier>) {
                self.notifier.set(notifier);
            }

            async fn enqueue_messages(&self, messages: Vec<OutgoingMessage>, now: Timestamp) -> Result<u64, StoreError> {
                let mut tx = self.begin().await?;
                let added = Self::insert_messages(&mut tx, &messages, now).await?;
                self.commit(tx).await?;
                Ok(added)
            }

            async fn claim_due_messages(
                &self,
                now: Timestamp,
                limit: usize,
                lease: jiff::SignedDuration,
            ) -> Result<Vec<Claimed>, StoreError> {
                let lease_until = now.saturating_add(lease).unwrap_or(now);
                let limit = i64::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
                let mut tx = self.begin().await?;
                // A `sending` row's next_attempt_at is its lease deadline, so one condition finds
                // due retries and lapsed claims alike. SKIP LOCKED (PostgreSQL): rows another
                // engine is claiming right now are left to it.
                let rows = sqlx::query(concat!(
                    "SELECT id, incident_id, channel, subject, body, payload, attempts, status FROM outbox
                     WHERE status IN ('pending', 'failed', 'sending') AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, id LIMIT $2",
                    $skip_locked
                ))
                .bind(micros(now))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let mut claimed = Vec::with_capacity(rows.len());
                for row in &rows {
                    let message = Self::message_from_row(row)?;
                    let mut attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
                    // A lapsed lease means an attempt whose sender stopped before recording it:
                    // it counts, so a message that crashes every sender still ends dead.
                    let lapsed = row.try_get::<String, _>("status")? == "sending";
                    if lapsed {
                        attempts = attempts.saturating_add(1);
                    }
                    sqlx::query(
                        "UPDATE outbox SET status = 'sending', next_attempt_at = $1, last_attempt_at = $2,
                           attempts = $3, last_error = CASE WHEN $4 THEN $5 ELSE last_error END
                         WHERE id = $6",
                    )
                    .bind(micros(lease_until))
                    .bind(micros(now))
                    .bind(i64::from(attempts))
                    .bind(lapsed)
                    .bind("lease expired: the sender stopped before recording the outcome")
                    .bind(&message.id)
                    .execute(&mut *tx)
                    .await?;
                    claimed.push(Claimed { message, attempts, lease_until });
                }
                self.commit(tx).await?;
                Ok(claimed)
            }

            async fn record_delivery(&self, id: &str, outcome: &Outcome, now: Timestamp) -> Result<bool, StoreError> {
                let (next, delivered, error) = match outcome {
                    Outcome::Delivered => (now, Some(micros(now)), None),
                    Outcome::Failed { error, next_attempt_at } => (*next_attempt_at, None, Some(error.as_str())),
                    Outcome::Dead { error } => (now, None, Some(error.as_str())),
                };
                let done = sqlx::query(
                    "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2,
                       delivered_at = $3, last_error = $4
                     WHERE id = $5 AND status = 'sending'",
                )
                .bind(outcome.status().as_str())
                .bind(micros(next))
                .bind(delivered)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn deliveries(&self, incident_id: &IncidentId) -> Result<Vec<Delivery>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, incident_id, channel_kind, destination, subject, status, attempts, created_at,
                       next_attempt_at, last_attempt_at, delivered_at, last_error
                     FROM outbox WHERE incident_id = $1 ORDER BY created_at, id",
                )
                .bind(incident_id.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::delivery_from_row).collect()
            }

            async fn timers(&self, incident_id: &IncidentId) -> Result<Vec<FiredTimer>, StoreError> {
                let rows = sqlx::query(
                    "SELECT key, incident_id, kind, due_at, fired_at FROM timers WHERE incident_id = $1 ORDER BY due_at, key",
                )
                .bind(incident_id.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::timer_from_row).collect()
            }

            async fn incident(&self, viewer: &Principal, id: &IncidentId) -> Result<Option<Incident>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT i.state FROM incidents i WHERE i.id = ");
                qb.push_bind(id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                let row = qb.build().fetch_optional(&self.pool).await?;
                row.map(|r| Self::parse_state(&r.try_get::<String, _>("state")?)).transpose()
            }

            async fn events(&self, viewer: &Principal, id: &IncidentId) -> Result<Option<Vec<Event>>, StoreError> {
                if self.incident(viewer, id).await?.is_none() {
                    return Ok(None);
                }
                let stored = self.stored_events(id.as_str()).await?;
                stored.iter().map(to_event).collect::<Result<Vec<_>, _>>().map(Some)
            }

            async fn list_actions(&self, viewer: &Principal, f: &ActionFilter) -> Result<Vec<ActionRecord>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT a.* FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE 1 = 1",
                );
                Self::push_visibility(&mut qb, viewer);
                if let Some(owner) = &f.owner {
                    qb.push(" AND a.owner = ");
                    qb.push_bind(owner.clone());
                }
                if f.open_only || f.overdue_at.is_some() {
                    qb.push(" AND a.status IN ('open', 'in_progress')");
                }
                if let Some(at) = f.overdue_at {
                    qb.push(" AND a.due_at <= ");
                    qb.push_bind(micros(at));
                }
                if let Some(id) = &f.incident {
                    qb.push(" AND a.incident_id = ");
                    qb.push_bind(id.clone());
                }
                qb.push(" ORDER BY a.due_at, a.incident_id, a.action_id LIMIT ");
                qb.push_bind(i64::from(f.limit.clamp(1, 1000)));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::action_from_row).collect()
            }

            async fn operational_stats(&self, now: Timestamp) -> Result<OperationalStats, StoreError> {
                let count = |n: i64| u64::try_from(n).unwrap_or(0);
                let rows = sqlx::query(
                    "SELECT severity, status, COUNT(*) AS n FROM incidents
                     WHERE status NOT IN ('resolved', 'closed') GROUP BY severity, status ORDER BY severity, status",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut open_incidents = Vec::with_capacity(rows.len());
                for r in &rows {
                    open_incidents.push((r.try_get("severity")?, r.try_get("status")?, count(r.try_get("n")?)));
                }
                let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
                    .fetch_all(&self.pool)
                    .await?;
                let mut outbox = Vec::with_capacity(rows.len());
                for r in &rows {
                    outbox.push((r.try_get("status")?, count(r.try_get("n")?)));
                }
                let oldest: Option<i64> =
                    sqlx::query_scalar("SELECT MIN(due_at) FROM timers WHERE fired_at IS NULL AND due_at <= $1")
                        .bind(micros(now))
                        .fetch_one(&self.pool)
                        .await?;
                Ok(OperationalStats { open_incidents, outbox, oldest_due_timer: oldest.map(from_micros).transpose()? })
            }

            async fn list(&self, viewer: &Principal, f: &IncidentFilter) -> Result<Page, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT i.id, i.declared_at, i.state FROM incidents i WHERE 1 = 1");
                Self::push_filters(&mut qb, viewer, f);
                if let Some(c) = &f.cursor {
                    qb.push(" AND (i.declared_at < ");
                    qb.push_bind(c.declared_at);
                    qb.push(" OR (i.declared_at = ");
                    qb.push_bind(c.declared_at);
                    qb.push(" AND i.id < ");
                    qb.push_bind(c.id.clone());
                    qb.push("))");
                }
                let limit = f.limit.clamp(1, 500);
                qb.push(" ORDER BY i.declared_at DESC, i.id DESC LIMIT ");
                qb.push_bind(i64::from(limit) + 1);
                let rows = qb.build().fetch_all(&self.pool).await?;
                let more = rows.len() > limit as usize;
                let mut incidents = Vec::with_capacity(rows.len().min(limit as usize));
                let mut next_cursor = None;
                for row in rows.iter().take(limit as usize) {
                    incidents.push(Self::parse_state(&row.try_get::<String, _>("state")?)?);
                    if more {
                        next_cursor = Some(Cursor { declared_at: row.try_get("declared_at")?, id: row.try_get("id")? });
                    }
                }
                Ok(Page { incidents, next_cursor })
            }

            async fn count(&self, viewer: &Principal, f: &IncidentFilter) -> Result<u64, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM incidents i WHERE 1 = 1");
                Self::push_filters(&mut qb, viewer, f);
                let n: i64 = qb.build().fetch_one(&self.pool).await?.try_get("n")?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn verify(&self) -> Result<VerifyReport, StoreError> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT incident_id FROM events UNION SELECT id FROM incidents ORDER BY 1",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut report = VerifyReport { incidents_checked: 0, events_checked: 0, ok: true, broken: Vec::new() };
                for id in ids {
                    report.incidents_checked += 1;
                    let stored = self.stored_events(&id).await?;
                    report.events_checked += stored.len() as u64;
                    if let Err(b) = verify_chain(&stored) {
                        report.broken.push(b);
                        continue;
                    }
                    let projection: Option<String> = sqlx::query_scalar("SELECT state FROM incidents WHERE id = $1")
                        .bind(&id)
                        .fetch_optional(&self.pool)
                        .await?;
                    let folded = stored
                        .iter()
                        .map(to_event)
                        .collect::<Result<Vec<_>, _>>()
                        .ok()
                        .and_then(|events| Incident::fold(&events).ok().flatten());
                    let matches = match (&projection, &folded) {
                        (Some(p), Some(f)) => Self::parse_state(p).map(|p| &p == f).unwrap_or(false),
                        _ => false,
                    };
                    if !matches {
                        report.broken.push(ChainBreak {
                            incident_id: id.clone(),
                            seq: stored.len() as i64,
                            reason: match projection {
                                None => "events exist but the incident row is missing".into(),
                                Some(_) => "the incident row does not match its event log".into(),
                            },
                        });
                    }
                }
                report.ok = report.broken.is_empty();
                Ok(report)
            }

            async fn create_token(&self, t: NewToken, audit: Option<NewAuditEntry>) -> Result<TokenRecord, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, role, security, token_hash, created_at, created_by, scope, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&t.id)
                .bind(&t.name)
                .bind(t.role.as_str())
                .bind(t.security)
                .bind(&t.token_hash)
                .bind(micros(t.created_at))
                .bind(&t.created_by)
                .bind(t.scope.as_str())
                .bind(t.expires_at.map(micros))
                .execute(&mut *tx)
                .await
                .map_err(conflict_or)?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Ok(TokenRecord {
                    id: t.id,
                    name: t.name,
                    role: t.role,
                    security: t.security,
                    created_at: t.created_at,
                    created_by: t.created_by,
                    revoked_at: None,
                    last_used_at: None,
                    scope: t.scope,
                    expires_at: t.expires_at,
                })
            }

            async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
                let row = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::token_from_row).transpose()
            }

            async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
                let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY created_at, id").fetch_all(&self.pool).await?;
                rows.iter().map(Self::token_from_row).collect()
            }

            async fn revoke_token(&self, id: &str, at: Timestamp, audit: Option<NewAuditEntry>) -> Result<Option<TokenRecord>, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(micros(at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query("SELECT * FROM api_tokens WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Self::token_from_row(&row).map(Some)
            }

            async fn touch_token(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(micros(at))
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_override(&self, o: NewOverride) -> Result<Override, StoreError> {
                sqlx::query(
                    "INSERT INTO schedule_overrides (id, schedule, person, start_at, end_at, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&o.id)
                .bind(&o.schedule)
                .bind(&o.person)
                .bind(micros(o.start))
                .bind(micros(o.end))
                .bind(&o.created_by)
                .bind(micros(o.created_at))
                .execute(&self.pool)
                .await
                .map_err(conflict_or)?;
                Ok(Override { id: o.id, schedule: o.schedule, person: o.person, start: o.start, end: o.end })
            }

            async fn remove_override(
                &self,
                schedule: &str,
                id: &str,
                actor: &str,
                at: Timestamp,
                reason: Option<&str>,
            ) -> Result<Override, StoreError> {
                let done = sqlx::query(
                    "UPDATE schedule_overrides SET removed_by = $1, removed_at = $2, removed_reason = $3
                     WHERE id = $4 AND schedule = $5 AND removed_at IS NULL",
                )
                .bind(actor)
                .bind(micros(at))
                .bind(reason)
                .bind(id)
                .bind(schedule)
                .execute(&self.pool)
                .await?;
                let row = sqlx::query("SELECT * FROM schedule_overrides WHERE id = $1 AND schedule = $2")
                    .bind(id)
                    .bind(schedule)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Err(StoreError::NotFound) };
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(format!("override {id} was already removed")));
                }
                Self::override_from_row(&row)
            }

            async fn overrides(
                &self,
                schedule: Option<&str>,
                from: Timestamp,
                to: Timestamp,
            ) -> Result<Vec<Override>, StoreError> {
                let rows = sqlx::query(
                    "SELECT * FROM schedule_overrides
                     WHERE removed_at IS NULL AND ($1 IS NULL OR schedule = $1)
                       AND start_at < $2 AND end_at > $3
                     ORDER BY start_at, id",
                )
                .bind(schedule)
                .bind(micros(to))
                .bind(micros(from))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::override_from_row).collect()
            }

            async fn create_user(&self, u: NewUser, audit: Option<NewAuditEntry>) -> Result<UserRecord, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO users (name, role, security, password_hash, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&u.name)
                .bind(u.role.as_str())
                .bind(u.security)
                .bind(&u.password_hash)
                .bind(micros(u.created_at))
                .bind(&u.created_by)
                .execute(&mut *tx)
                .await
                .map_err(conflict_or)?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Ok(UserRecord {
                    name: u.name,
                    role: u.role,
                    security: u.security,
                    password_hash: u.password_hash,
                    created_at: u.created_at,
                    created_by: u.created_by,
                    disabled_at: None,
                    disabled_by: None,
                })
            }

            async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
                let row = sqlx::query("SELECT * FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::user_from_row).transpose()
            }

            async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
                let rows = sqlx::query("SELECT * FROM users ORDER BY name").fetch_all(&self.pool).await?;
                rows.iter().map(Self::user_from_row).collect()
            }

            async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                // Expired sessions are useless; clearing them on login keeps the table small
                // without a sweeper.
                sqlx::query("DELETE FROM user_sessions WHERE expires_at <= $1")
                    .bind(micros(s.created_at))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO user_sessions (token_hash, user_name, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&s.token_hash)
                .bind(&s.user_name)
                .bind(micros(s.created_at))
                .bind(micros(s.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(conflict_or)?;
                self.commit(tx).await?;
                Ok(())
            }

            async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError> {
                let row = sqlx::query(
                    "SELECT u.* FROM user_sessions s JOIN users u ON u.name = s.user_name
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                )
                .bind(token_hash)
                .bind(micros(now))
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::user_from_row).transpose()
            }

            async fn set_user_disabled(
                &self,
                name: &str,
                disabled: Option<(Timestamp, &str)>,
                audit: Option<NewAuditEntry>,
            ) -> Result<UserRecord, StoreError> {
                let mut tx = self.begin().await?;
                let (at, by) = match disabled {
                    Some((at, by)) => (Some(micros(at)), Some(by)),
                    None => (None, None),
                };
                // Disabling twice keeps the first time and who did it.
                let done = sqlx::query(
                    "UPDATE users SET disabled_at = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE(disabled_at, $2) END,
                                      disabled_by = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE(disabled_by, $3) END
                     WHERE name = $1",
                )
                .bind(name)
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                if disabled.is_some() {
                    sqlx::query("DELETE FROM user_sessions WHERE user_name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
                let row = sqlx::query("SELECT * FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Self::user_from_row(&row)
            }

            async fn set_password(
                &self,
                name: &str,
                password_hash: &str,
                keep_session: Option<&str>,
                audit: Option<NewAuditEntry>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE name = $1")
                    .bind(name)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("DELETE FROM user_sessions WHERE user_name = $1 AND ($2 IS NULL OR token_hash <> $2)")
                    .bind(name)
                    .bind(keep_session)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM user_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn change_marker(&self) -> Result<i64, StoreError> {
                // CAST keeps the type BIGINT on PostgreSQL, where SUM(bigint) is numeric.
                let n: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM incidents")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn live_token_count(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    };
}

pub(crate) use store_impl;
