//! `warroom evidence add|list|show|get|verify|transfer`: files attached to an incident by
//! their SHA-256. Uploads stream from disk and downloads to disk, so size is never limited by
//! memory; both ends check the hash.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Out;
use crate::args::EvidenceCommand;
use crate::client::{Api, seg};
use crate::input::incident_id;
use crate::output::{self, field, table, time_field};

pub async fn run(api: &Api, out: Out, cmd: EvidenceCommand) -> Result<()> {
    let id = incident_id(cmd.incident())?;
    let base = format!("/api/v1/incidents/{}/evidence", seg(id.as_str()));
    match cmd {
        EvidenceCommand::Add {
            file,
            media_type,
            description,
            collected_from,
            name,
            ..
        } => {
            add(
                api,
                out,
                &base,
                &file,
                media_type,
                description,
                collected_from,
                name,
            )
            .await
        }
        EvidenceCommand::List { .. } => {
            let answer = api.get(&base, &[]).await?;
            out.print(&answer, |v| {
                let items = v["evidence"].as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    return Ok(format!("{id} has no evidence"));
                }
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|e| {
                        vec![
                            field(e, "sha256"),
                            field(e, "size"),
                            field(e, "file_name"),
                            field(e, "collected_by"),
                            time_field(e, "collected_at"),
                            field(e, "collected_from"),
                        ]
                    })
                    .collect();
                Ok(table(
                    &["SHA-256", "BYTES", "FILE", "BY", "AT", "FROM"],
                    &rows,
                ))
            })
        }
        EvidenceCommand::Show { sha256, .. } => {
            let answer = api.get(&format!("{base}/{}", seg(&sha256)), &[]).await?;
            out.print(&answer, |v| Ok(describe_custody(v)))
        }
        EvidenceCommand::Get { sha256, output, .. } => get(api, &base, &sha256, output).await,
        EvidenceCommand::Verify { .. } => {
            let answer = api.post(&format!("{base}/verify"), &json!({})).await?;
            let ok = answer["ok"]
                .as_bool()
                .context("the server's answer has no `ok`")?;
            out.print(&answer, |v| {
                let items = v["items"].as_array().cloned().unwrap_or_default();
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        vec![
                            field(i, "status"),
                            field(i, "sha256"),
                            field(i, "file_name"),
                        ]
                    })
                    .collect();
                Ok(format!(
                    "{}\n{} item(s) checked",
                    table(&["STATUS", "SHA-256", "FILE"], &rows),
                    items.len()
                ))
            })?;
            if !ok {
                let bad: Vec<String> = answer["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|i| i["status"] != "ok")
                    .map(|i| {
                        format!(
                            "{} ({}, {})",
                            field(i, "sha256"),
                            field(i, "file_name"),
                            field(i, "status")
                        )
                    })
                    .collect();
                bail!("evidence of {id} does not verify: {}", bad.join(", "));
            }
            Ok(())
        }
        EvidenceCommand::Transfer {
            sha256, to, reason, ..
        } => {
            let mut body = json!({ "to": to });
            if let Some(r) = reason {
                body["reason"] = json!(r);
            }
            let answer = api
                .post(&format!("{base}/{}/transfers", seg(&sha256)), &body)
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "{id} {} transferred to {} (event {})",
                    field(&v["evidence"], "sha256"),
                    field(&v["event"]["data"], "to"),
                    field(&v["event"], "seq")
                ))
            })
        }
    }
}

/// A media type for common evidence files, by extension; the server's default otherwise.
fn guess_media_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "pcap" => "application/vnd.tcpdump.pcap",
        "eml" => "message/rfc822",
        _ => return None,
    })
}

async fn sha256_of_file(path: &Path) -> Result<(String, u64)> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

#[allow(clippy::too_many_arguments)]
async fn add(
    api: &Api,
    out: Out,
    base: &str,
    file: &Path,
    media_type: Option<String>,
    description: Option<String>,
    collected_from: Option<String>,
    name: Option<String>,
) -> Result<()> {
    // Hashed here first, so an upload that arrives different from the file is caught.
    let (local, size) = sha256_of_file(file).await?;
    let file_name = match name {
        Some(n) => n,
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{} has no usable file name: pass --name", file.display()))?,
    };
    let media_type = media_type
        .or_else(|| guess_media_type(file).map(str::to_string))
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let mut query = vec![("file_name", file_name)];
    if let Some(d) = description {
        query.push(("description", d));
    }
    if let Some(c) = collected_from {
        query.push(("collected_from", c));
    }
    // Asked first, so a file over the server's limit gets its clear refusal instead of the
    // connection closing under the upload.
    let mut check = query.clone();
    check.push(("check_size", size.to_string()));
    api.post_empty(base, &check).await?;
    let handle = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    let answer = api
        .post_file(base, &query, &media_type, handle, size)
        .await?;
    let stored = answer["evidence"]["sha256"].as_str().unwrap_or_default();
    if stored != local {
        bail!(
            "the server stored SHA-256 {stored}, but {} hashes to {local}: the file changed during the upload; add it again",
            file.display()
        );
    }
    out.print(&answer, |v| {
        let e = &v["evidence"];
        let note = if v["duplicate"] == true {
            " (the incident already held this content; nothing new recorded)"
        } else {
            ""
        };
        Ok(format!(
            "{}  {} ({} bytes){note}",
            field(e, "sha256"),
            field(e, "file_name"),
            field(e, "size")
        ))
    })
}

fn describe_custody(v: &Value) -> String {
    let e = &v["evidence"];
    let mut lines = vec![
        format!("SHA-256:        {}", field(e, "sha256")),
        format!(
            "File:           {} ({}, {} bytes)",
            field(e, "file_name"),
            field(e, "media_type"),
            field(e, "size")
        ),
        format!(
            "Collected by:   {} at {}",
            field(e, "collected_by"),
            time_field(e, "collected_at")
        ),
        format!(
            "Collected from: {} (uploaded from {})",
            field(e, "collected_from"),
            field(e, "source")
        ),
    ];
    if let Some(d) = e["description"].as_str() {
        lines.push(format!("Description:    {d}"));
    }
    lines.push(String::new());
    lines.push("Chain of custody:".into());
    for c in v["custody"].as_array().into_iter().flatten() {
        let what = match c["kind"].as_str().unwrap_or_default() {
            "evidence_added" => "added".to_string(),
            "evidence_viewed" => "viewed".to_string(),
            "evidence_downloaded" => "downloaded".to_string(),
            "evidence_transferred" => format!("transferred to {}", field(&c["data"], "to")),
            other => other.to_string(),
        };
        lines.push(format!(
            "  #{:<4} {}  {:<12} {what}",
            field(c, "seq"),
            time_field(c, "at"),
            field(c, "actor")
        ));
    }
    lines.join("\n")
}

/// Where a download goes when no `-o` was given: the recorded name, in the current directory.
fn default_output(file_name: &str) -> Result<PathBuf> {
    let name = Path::new(file_name).file_name().ok_or_else(|| {
        anyhow!("the recorded file name {file_name:?} is not usable here: pass -o PATH")
    })?;
    let path = PathBuf::from(name);
    if path.exists() {
        bail!("{} already exists: pass -o PATH", path.display());
    }
    Ok(path)
}

async fn get(api: &Api, base: &str, sha256: &str, output: Option<PathBuf>) -> Result<()> {
    let expected = sha256.trim().to_ascii_lowercase();
    let output = match output {
        Some(p) => p,
        None => {
            let listed = api.get(base, &[]).await?;
            let item = listed["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["sha256"] == expected.as_str())
                .ok_or_else(|| anyhow!("no evidence {expected} on this incident"))?;
            default_output(item["file_name"].as_str().unwrap_or_default())?
        }
    };
    let mut response = api
        .get_stream(&format!("{base}/{}/content", seg(&expected)))
        .await?;
    let to_stdout = output.as_os_str() == "-";
    // Written beside the target and renamed only once the hash checks out, so a bad download
    // never takes the file's name.
    let part = {
        let mut p = output.clone().into_os_string();
        p.push(".part");
        PathBuf::from(p)
    };
    let mut sink: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = if to_stdout {
        Box::new(tokio::io::stdout())
    } else {
        Box::new(
            tokio::fs::File::create(&part)
                .await
                .with_context(|| format!("cannot write {}", part.display()))?,
        )
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let copied: Result<()> = async {
        while let Some(chunk) = api.chunk(&mut response).await? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            sink.write_all(&chunk)
                .await
                .context("cannot write the download")?;
        }
        sink.flush().await.context("cannot write the download")?;
        Ok(())
    }
    .await;
    drop(sink);
    let actual = hex::encode(hasher.finalize());
    if let Err(err) = copied {
        if !to_stdout {
            let _ = tokio::fs::remove_file(&part).await;
        }
        return Err(err);
    }
    if actual != expected {
        if !to_stdout {
            let _ = tokio::fs::remove_file(&part).await;
        }
        bail!(
            "the download hashes to {actual}, not {expected}: it was altered on the server or on the way; nothing was kept"
        );
    }
    if to_stdout {
        return Ok(());
    }
    tokio::fs::rename(&part, &output)
        .await
        .with_context(|| format!("cannot write {}", output.display()))?;
    output::emit(&format!(
        "{expected}  {} ({size} bytes, SHA-256 verified)",
        output.display()
    ))
}
