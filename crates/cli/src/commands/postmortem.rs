//! `warroom postmortem ID [--set S=T] [--set-file S=PATH] [--key-moment SEQ] [--publish | --published N]`.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Out;
use crate::args::PostmortemArgs;
use crate::client::{Api, seg};
use crate::output;

/// `SECTION=VALUE`, with the option's name in the error.
fn split<'a>(option: &str, pair: &'a str) -> Result<(&'a str, &'a str)> {
    match pair.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => bail!("{option}: expected SECTION=..., got {pair:?}"),
    }
}

pub async fn run(api: &Api, out: Out, args: PostmortemArgs) -> Result<()> {
    let base = format!("/api/v1/incidents/{}/postmortem", seg(&args.id));
    // Read every file first, so a missing one changes nothing.
    let mut sections: Vec<(String, String)> = Vec::new();
    for pair in &args.set {
        let (section, text) = split("--set", pair)?;
        sections.push((section.to_string(), text.to_string()));
    }
    for pair in &args.set_file {
        let (section, path) = split("--set-file", pair)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--set-file: cannot read {path}"))?;
        sections.push((section.to_string(), text));
    }
    for (section, text) in sections {
        api.post(
            &format!("{base}/sections/{}", seg(&section)),
            &json!({ "text": text }),
        )
        .await?;
    }
    for (seqs, marked) in [(&args.key_moment, true), (&args.unmark, false)] {
        for seq in seqs {
            api.post(
                &format!("{base}/key-moments"),
                &json!({ "seq": seq, "marked": marked }),
            )
            .await?;
        }
    }
    if args.publish {
        let answer = api.post(&format!("{base}/publish"), &json!({})).await?;
        return out.print(&answer, |v| {
            Ok(format!(
                "Published version {} of the review of {} (sha256 {}).",
                output::field(v, "version"),
                output::field(v, "incident_id"),
                output::field(v, "sha256")
            ))
        });
    }
    let query: Vec<(&str, String)> = args
        .published
        .map(|v| vec![("version", v.to_string())])
        .unwrap_or_default();
    let answer = api.get(&base, &query).await?;
    out.print(&answer, |v: &Value| Ok(output::field(v, "markdown")))
}
