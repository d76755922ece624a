//! The access audit log: who read what, who failed to authenticate, which tokens were used.
//!
//! One log for the whole installation (not per incident), hash-chained like an incident's
//! timeline: each entry's hash is SHA-256 over the canonical JSON of `{seq, at, actor, action,
//! target, source, outcome, prev_hash}`, the first entry's `prev_hash` being 64 zeros. The
//! store appends under a lock so the chain stays linear with several writers, and refuses
//! updates and deletes; [`verify`] names the first entry that does not check out.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::{GENESIS_HASH, canonical_json};

/// What was done. Stored and shown by [`AuditAction::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A restricted incident (or its timeline, export, review...) was read.
    RestrictedRead,
    /// A piece of evidence's record was viewed.
    EvidenceView,
    /// A piece of evidence was downloaded.
    EvidenceDownload,
    /// Evidence was handed over to someone.
    EvidenceTransfer,
    /// An API token was used (at most one entry per token per coalescing window).
    TokenUse,
    /// An API token, routing key or web sign-in was refused.
    AuthFailure,
    /// A credential was issued, rotated or revoked (API token, integration routing key).
    CredentialChange,
}

impl AuditAction {
    /// Every action, for help texts and parsing.
    pub const ALL: [AuditAction; 7] = [
        AuditAction::RestrictedRead,
        AuditAction::EvidenceView,
        AuditAction::EvidenceDownload,
        AuditAction::EvidenceTransfer,
        AuditAction::TokenUse,
        AuditAction::AuthFailure,
        AuditAction::CredentialChange,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RestrictedRead => "restricted_read",
            AuditAction::EvidenceView => "evidence_view",
            AuditAction::EvidenceDownload => "evidence_download",
            AuditAction::EvidenceTransfer => "evidence_transfer",
            AuditAction::TokenUse => "token_use",
            AuditAction::AuthFailure => "auth_failure",
            AuditAction::CredentialChange => "credential_change",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                format!("unknown action {s:?}: expected one of {}", names.join(", "))
            })
    }
}

/// An entry before it is numbered and chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who (token or account name; `-` when nobody authenticated).
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// On what (an incident id, `INC/sha256`, a token id, a route).
    pub target: String,
    /// The client's address as the server saw it.
    pub source: String,
    /// `ok`, or why it was refused.
    pub outcome: String,
}

/// A stored, chained entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log: 1, 2, 3...
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What, as stored (kept as text so an entry from a newer version still verifies).
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub source: String,
    /// How it ended.
    pub outcome: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash of an entry's fields and its predecessor's hash.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: u64,
    at: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    source: &str,
    outcome: &str,
    prev_hash: &str,
) -> String {
    let body = serde_json::json!({
        "seq": seq,
        "at": at.to_string(),
        "actor": actor,
        "action": action,
        "target": target,
        "source": source,
        "outcome": outcome,
        "prev_hash": prev_hash,
    });
    hex::encode(Sha256::digest(canonical_json(&body).as_bytes()))
}

impl AuditEntry {
    /// Numbers `new` as entry `seq` after the entry whose hash is `prev_hash`.
    pub fn seal(seq: u64, new: NewAuditEntry, prev_hash: &str) -> Self {
        let action = new.action.as_str().to_string();
        let hash = entry_hash(
            seq,
            new.at,
            &new.actor,
            &action,
            &new.target,
            &new.source,
            &new.outcome,
            prev_hash,
        );
        Self {
            seq,
            at: new.at,
            actor: new.actor,
            action,
            target: new.target,
            source: new.source,
            outcome: new.outcome,
            prev_hash: prev_hash.to_string(),
            hash,
        }
    }

    /// This entry's hash recomputed from its fields.
    pub fn recomputed_hash(&self) -> String {
        entry_hash(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.source,
            &self.outcome,
            &self.prev_hash,
        )
    }
}

/// The first entry that does not check out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBreak {
    /// Its sequence number.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Checks the whole log, oldest first: numbering without gaps, links, hashes.
pub fn verify(entries: &[AuditEntry]) -> Result<(), AuditBreak> {
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = i as u64 + 1;
        let broken = |reason: String| AuditBreak { seq: e.seq, reason };
        if e.seq != expected {
            return Err(broken(format!(
                "sequence number {} where {expected} was expected (an entry is missing)",
                e.seq
            )));
        }
        if e.prev_hash != prev {
            return Err(broken(
                "previous-hash link does not match the entry before it".into(),
            ));
        }
        if e.recomputed_hash() != e.hash {
            return Err(broken(
                "content does not match its hash (the entry was altered)".into(),
            ));
        }
        prev = e.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry::seal(
                    seq,
                    NewAuditEntry {
                        at: Timestamp::from_second(1_700_000_000 + seq as i64).expect("time"),
                        actor: format!("user{seq}"),
                        action: AuditAction::RestrictedRead,
                        target: "INC-1".into(),
                        source: "127.0.0.1".into(),
                        outcome: "ok".into(),
                    },
                    &prev,
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_log_verifies_and_any_edit_is_named() {
        let entries = log(5);
        assert_eq!(verify(&entries), Ok(()));
        let mut edited = entries.clone();
        edited[2].actor = "someone else".into();
        assert_eq!(verify(&edited).expect_err("edited").seq, 3);
        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(verify(&removed).expect_err("removed").seq, 3);
        let mut relinked = entries;
        relinked[4].prev_hash = GENESIS_HASH.into();
        assert_eq!(verify(&relinked).expect_err("relinked").seq, 5);
    }

    #[test]
    fn actions_round_trip_by_name() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
        }
        assert!("nope".parse::<AuditAction>().is_err());
    }
}
