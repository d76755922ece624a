//! The access audit log's storage: appends under one lock (so the chain stays linear with
//! several writers, several server processes included), reads by time, actor and action, and
//! the whole log for verification. The tables' triggers refuse updates and deletes.

use async_trait::async_trait;
use jiff::Timestamp;
use warroom_core::audit::{AuditEntry, NewAuditEntry};

use crate::StoreError;

/// Which entries to read; all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// At or after this time.
    pub since: Option<Timestamp>,
    /// By this actor.
    pub actor: Option<String>,
    /// This action (its stored name).
    pub action: Option<String>,
    /// At most this many, oldest first (0: no limit).
    pub limit: u32,
}

/// Audit log persistence; part of every [`crate::Store`].
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends entries, in order, to the end of the chain, in one transaction.
    async fn append_audit(
        &self,
        entries: Vec<NewAuditEntry>,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Entries matching `filter`, oldest first.
    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
}

macro_rules! audit_impl {
    ($store:ident, $db:ty, $audit_lock:literal) => {
        use crate::audit::{AuditFilter, AuditStore};
        use warroom_core::audit::{AuditEntry, NewAuditEntry};

        impl $store {
            fn audit_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AuditEntry, StoreError> {
                let seq: i64 = row.try_get("seq")?;
                Ok(AuditEntry {
                    seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("audit seq {seq}")))?,
                    at: from_micros(row.try_get("at")?)?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    source: row.try_get("source")?,
                    outcome: row.try_get("outcome")?,
                    prev_hash: row.try_get("prev_hash")?,
                    hash: row.try_get("hash")?,
                })
            }

            /// Appends `entries` to the end of the chain inside `tx`, so that they commit or
            /// roll back with whatever else `tx` changes (a credential change and its entry).
            async fn append_audit_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                entries: Vec<NewAuditEntry>,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                // Nothing to append (a change made without an entry): no lock, no head read.
                if entries.is_empty() {
                    return Ok(Vec::new());
                }
                // Every appender reads the head under this lock, so no two take the same
                // sequence number or link to the same predecessor.
                sqlx::query($audit_lock).execute(&mut **tx).await?;
                let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
                let (mut seq, mut prev) = match head {
                    Some(row) => (row.try_get::<i64, _>("seq")? as u64, row.try_get::<String, _>("hash")?),
                    None => (0, GENESIS_HASH.to_string()),
                };
                let mut sealed = Vec::with_capacity(entries.len());
                for new in entries {
                    seq += 1;
                    let e = AuditEntry::seal(seq, new, &prev);
                    sqlx::query(
                        "INSERT INTO audit_log (seq, at, actor, action, target, source, outcome, prev_hash, hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(e.seq as i64)
                    .bind(micros(e.at))
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.source)
                    .bind(&e.outcome)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(conflict_or)?;
                    prev = e.hash.clone();
                    sealed.push(e);
                }
                Ok(sealed)
            }
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>, StoreError> {
                if entries.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin().await?;
                let sealed = Self::append_audit_in(&mut tx, entries).await?;
                self.commit(tx).await?;
                Ok(sealed)
            }

            async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT seq, at, actor, action, target, source, outcome, prev_hash, hash FROM audit_log WHERE 1 = 1",
                );
                if let Some(since) = f.since {
                    qb.push(" AND at >= ").push_bind(micros(since));
                }
                if let Some(actor) = &f.actor {
                    qb.push(" AND actor = ").push_bind(actor.clone());
                }
                if let Some(action) = &f.action {
                    qb.push(" AND action = ").push_bind(action.clone());
                }
                qb.push(" ORDER BY seq");
                if f.limit > 0 {
                    qb.push(" LIMIT ").push_bind(i64::from(f.limit));
                }
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::audit_from_row).collect()
            }
        }
    };
}

pub(crate) use audit_impl;
