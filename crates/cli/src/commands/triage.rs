//! `warroom triage`: yes/no questions in, a suggested severity out; `--declare` declares the
//! incident at that severity.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal as _, Write};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::json;

use super::{Out, incident};
use crate::args::{DeclareArgs, TriageArgs};
use crate::client::Api;
use crate::output::emit;

/// One question of `GET /api/v1/triage`.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub key: String,
    pub question: String,
    #[serde(default)]
    pub help: String,
}

/// The answer to `POST /api/v1/triage`.
#[derive(Debug, Clone, Deserialize)]
pub struct Suggestion {
    pub severity: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub unanswered: Vec<String>,
}

pub async fn run(api: &Api, out: Out, args: TriageArgs) -> Result<()> {
    let given = parse_answers(&args.answers)?;
    let answer = api.get("/api/v1/triage", &[]).await?;
    let list = answer
        .get("questions")
        .context("the server's answer has no question list")?;
    let questions =
        Vec::<Question>::deserialize(list).context("the server's question list is unreadable")?;
    check_keys(&given, &questions)?;
    let answers = if std::io::stdin().is_terminal() {
        let stdin = std::io::stdin();
        ask(&questions, given, &mut stdin.lock(), &mut std::io::stderr())?
    } else {
        given
    };
    let suggestion_json = api
        .post("/api/v1/triage", &json!({ "answers": answers }))
        .await?;
    let suggestion = Suggestion::deserialize(&suggestion_json)
        .context("the server's answer is not a triage suggestion")?;
    let Some(title) = args.title.filter(|_| args.declare) else {
        return out.print(&suggestion_json, |_| Ok(describe(&suggestion)));
    };
    // With --json the one document on stdout is the declared incident, as `declare --json`.
    if !out.json {
        emit(&describe(&suggestion))?;
    }
    let declare = DeclareArgs {
        title,
        severity: suggestion.severity,
        incident_type: args.incident_type,
        services: args.services,
        labels: args.labels,
        restricted: args.restricted,
        description: args.description,
    };
    incident::declare(api, out, declare).await
}

/// `KEY=yes|no` (also y/n, true/false, any case).
pub fn parse_answer(text: &str) -> Result<(String, bool)> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("invalid --answer {text:?}: expected KEY=yes or KEY=no"))?;
    let key = key.trim();
    if key.is_empty() {
        bail!("invalid --answer {text:?}: the key is empty");
    }
    let yes = yes_no(value)
        .ok_or_else(|| anyhow!("invalid --answer {text:?}: the answer must be yes or no"))?;
    Ok((key.to_string(), yes))
}

fn yes_no(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" => Some(true),
        "n" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// Every `--answer`; the same key twice is fine if the answers agree.
pub fn parse_answers(texts: &[String]) -> Result<BTreeMap<String, bool>> {
    let mut answers = BTreeMap::new();
    for text in texts {
        let (key, yes) = parse_answer(text)?;
        if answers
            .insert(key.clone(), yes)
            .is_some_and(|before| before != yes)
        {
            bail!("--answer {key} is given both yes and no");
        }
    }
    Ok(answers)
}

/// Unknown keys are refused here, with the known ones listed, before anything is asked.
pub fn check_keys(answers: &BTreeMap<String, bool>, questions: &[Question]) -> Result<()> {
    let unknown: Vec<String> = answers
        .keys()
        .filter(|k| !questions.iter().any(|q| &q.key == *k))
        .map(|k| format!("{k:?}"))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = questions.iter().map(|q| q.key.as_str()).collect();
    bail!(
        "unknown triage question{} {} in --answer; the questions are: {}",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.join(", "),
        known.join(", ")
    )
}

/// Asks every question not in `given` on `prompt`, reading `y`/`n` lines from `input`; anything
/// else asks again. End of input leaves the remaining questions unanswered.
pub fn ask(
    questions: &[Question],
    mut given: BTreeMap<String, bool>,
    input: &mut impl BufRead,
    prompt: &mut impl Write,
) -> Result<BTreeMap<String, bool>> {
    'questions: for q in questions {
        if given.contains_key(&q.key) {
            continue;
        }
        if !q.help.trim().is_empty() {
            writeln!(prompt, "  ({})", q.help.trim())?;
        }
        loop {
            write!(prompt, "{} [y/n] ", q.question.trim())?;
            prompt.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(prompt)?;
                break 'questions;
            }
            if let Some(yes) = yes_no(&line) {
                given.insert(q.key.clone(), yes);
                break;
            }
            writeln!(prompt, "Please answer y or n.")?;
        }
    }
    Ok(given)
}

/// The suggestion for people: the severity, why, and what was left unanswered.
pub fn describe(s: &Suggestion) -> String {
    let mut lines = vec![format!("Suggested severity: {}", s.severity)];
    lines.extend(s.reasons.iter().map(|r| format!("  - {r}")));
    if !s.unanswered.is_empty() {
        lines.push(format!(
            "Not answered: {} (answer with --answer KEY=yes|no)",
            s.unanswered.join(", ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use serde_json::Value;

    use super::*;

    fn questions() -> Vec<Question> {
        let v: Value = json!([
            {"key": "service-down", "question": "Is the service completely down?", "help": "Customers cannot use it.", "if_yes": {"rank": 1}},
            {"key": "workaround", "question": "Does a workaround exist?", "if_yes": {"adjust": 1}}
        ]);
        Vec::<Question>::deserialize(&v).expect("questions")
    }

    fn map(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn answers_are_key_equals_yes_or_no() {
        assert_eq!(
            parse_answer("service-down=yes").expect("ok"),
            ("service-down".into(), true)
        );
        assert_eq!(
            parse_answer(" workaround = No ").expect("ok"),
            ("workaround".into(), false)
        );
        assert_eq!(parse_answer("x=y").expect("ok"), ("x".into(), true));
        for bad in [
            "service-down",
            "service-down=maybe",
            "=yes",
            "service-down=",
        ] {
            let err = parse_answer(bad).expect_err(bad).to_string();
            assert!(err.starts_with("invalid --answer "), "{err}");
        }
    }

    #[test]
    fn repeated_answers_must_agree() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_answers(&texts(&["a=yes", "b=no", "a=y"])).expect("ok"),
            map(&[("a", true), ("b", false)])
        );
        let err = parse_answers(&texts(&["a=yes", "a=no"])).expect_err("conflict");
        assert_eq!(err.to_string(), "--answer a is given both yes and no");
    }

    #[test]
    fn unknown_keys_are_one_clear_error() {
        assert!(check_keys(&map(&[("workaround", true)]), &questions()).is_ok());
        let err = check_keys(&map(&[("is-it-bad", true)]), &questions()).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown triage question \"is-it-bad\" in --answer; the questions are: service-down, workaround"
        );
    }

    #[test]
    fn questions_not_given_are_asked_until_answered() {
        let mut input = Cursor::new("maybe\n\nY\n");
        let mut prompt = Vec::new();
        let got = ask(
            &questions(),
            map(&[("workaround", false)]),
            &mut input,
            &mut prompt,
        )
        .expect("asks");
        assert_eq!(got, map(&[("service-down", true), ("workaround", false)]));
        let shown = String::from_utf8(prompt).expect("utf-8");
        assert_eq!(
            shown,
            "  (Customers cannot use it.)\n\
             Is the service completely down? [y/n] Please answer y or n.\n\
             Is the service completely down? [y/n] Please answer y or n.\n\
             Is the service completely down? [y/n] "
        );
    }

    #[test]
    fn end_of_input_leaves_the_rest_unanswered() {
        let mut input = Cursor::new("n\n");
        let got = ask(&questions(), BTreeMap::new(), &mut input, &mut Vec::new()).expect("asks");
        assert_eq!(got, map(&[("service-down", false)]));
    }

    #[test]
    fn the_suggestion_reads_as_severity_reasons_and_gaps() {
        let s = Suggestion {
            severity: "P2".into(),
            reasons: vec![
                "Is the service completely down? yes: at least P1".into(),
                "Does a workaround exist? yes: 1 level less severe".into(),
            ],
            unanswered: vec!["security-breach".into()],
        };
        assert_eq!(
            describe(&s),
            "Suggested severity: P2\n\
             \x20 - Is the service completely down? yes: at least P1\n\
             \x20 - Does a workaround exist? yes: 1 level less severe\n\
             Not answered: security-breach (answer with --answer KEY=yes|no)"
        );
    }
}
