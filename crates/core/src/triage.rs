//! Triage: yes/no answers in, a suggested severity with its reasons out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::DomainError;
use crate::config::Config;

/// The suggestion and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Suggested severity id.
    pub severity: String,
    /// One line per answer that moved the suggestion, in question order.
    pub reasons: Vec<String>,
    /// Keys of questions not answered.
    pub unanswered: Vec<String>,
}

/// Suggests a severity: the most severe level any "yes" asks for (the least severe level when
/// none does), then moved by every "yes" that adjusts, kept within the scheme.
pub fn suggest(
    config: &Config,
    answers: &BTreeMap<String, bool>,
) -> Result<Suggestion, DomainError> {
    for key in answers.keys() {
        if !config.triage_questions.iter().any(|q| &q.key == key) {
            let known: Vec<&str> = config
                .triage_questions
                .iter()
                .map(|q| q.key.as_str())
                .collect();
            return Err(DomainError::Invalid {
                field: "answers".into(),
                message: format!(
                    "unknown triage question {key:?}; expected one of {}",
                    known.join(", ")
                ),
            });
        }
    }
    let last = config.severities.len().saturating_sub(1);
    let name = |rank: usize| {
        config
            .severities
            .get(rank.min(last))
            .map(|s| s.id.clone())
            .unwrap_or_default()
    };
    let mut rank = last;
    let mut floor_reasons = Vec::new();
    let mut adjust: i64 = 0;
    let mut adjust_reasons = Vec::new();
    let mut unanswered = Vec::new();
    for q in &config.triage_questions {
        match answers.get(&q.key) {
            None => unanswered.push(q.key.clone()),
            Some(false) => {}
            Some(true) => {
                let wanted = match (&q.if_yes.severity, q.if_yes.rank) {
                    (Some(id), _) => config.severity_rank(id),
                    (None, Some(r)) => Some(r.min(last)),
                    (None, None) => None,
                };
                if let Some(w) = wanted {
                    floor_reasons.push((w, format!("{} yes: at least {}", q.question, name(w))));
                    rank = rank.min(w);
                }
                if let Some(n) = q.if_yes.adjust {
                    adjust += i64::from(n);
                    let direction = if n > 0 { "less" } else { "more" };
                    let levels = n.unsigned_abs();
                    adjust_reasons.push(format!(
                        "{} yes: {levels} level{} {direction} severe",
                        q.question,
                        if levels == 1 { "" } else { "s" }
                    ));
                }
            }
        }
    }
    let mut reasons: Vec<String> = floor_reasons.into_iter().map(|(_, r)| r).collect();
    if reasons.is_empty() {
        reasons.push(format!(
            "no answer points to a higher severity: {}",
            name(last)
        ));
    }
    reasons.extend(adjust_reasons);
    let final_rank = (rank as i64 + adjust).clamp(0, last as i64) as usize;
    Ok(Suggestion {
        severity: name(final_rank),
        reasons,
        unanswered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn built_in_questions_suggest_the_documented_levels() {
        let config = Config::builtin();
        let s = |pairs: &[(&str, bool)]| suggest(&config, &answers(pairs)).expect("valid").severity;
        assert_eq!(s(&[("security-breach", true)]), "P0");
        assert_eq!(s(&[("service-down", true)]), "P1");
        assert_eq!(
            s(&[("service-down", true), ("security-breach", true)]),
            "P0"
        );
        assert_eq!(s(&[("core-degraded", true)]), "P2");
        assert_eq!(s(&[("slow-responses", true)]), "P2");
        assert_eq!(s(&[("non-core-only", true)]), "P3");
        assert_eq!(s(&[]), "P3");
        assert_eq!(s(&[("service-down", true), ("workaround", true)]), "P2");
        // A workaround never moves past the least severe level.
        assert_eq!(s(&[("non-core-only", true), ("workaround", true)]), "P3");
    }

    #[test]
    fn reasons_and_unanswered_questions_are_reported() {
        let config = Config::builtin();
        let got = suggest(
            &config,
            &answers(&[
                ("service-down", true),
                ("workaround", true),
                ("core-degraded", false),
            ]),
        )
        .expect("valid");
        assert_eq!(got.reasons.len(), 2, "{got:?}");
        assert!(got.reasons[0].contains("at least P1"), "{got:?}");
        assert!(got.reasons[1].contains("1 level less severe"), "{got:?}");
        assert!(got.unanswered.contains(&"security-breach".to_string()));
        assert!(!got.unanswered.contains(&"core-degraded".to_string()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            suggest(&Config::builtin(), &answers(&[("is-it-bad", true)])).expect_err("unknown");
        assert!(
            matches!(err, DomainError::Invalid { ref field, .. } if field == "answers"),
            "{err:?}"
        );
    }
}
