//! `warroom docs export`: the response plan rendered from the config, written to a directory.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::json;

use crate::args::DocsCommand;
use crate::config_files::load_config;
use crate::output::{emit, emit_json};

/// The file `docs export --format md` writes.
const PLAN_FILE: &str = "response-plan.md";

pub fn run(cmd: DocsCommand, json: bool) -> Result<()> {
    let DocsCommand::Export {
        format,
        config,
        dir,
    } = cmd;
    check_format(&format)?;
    let config = load_config(config.as_deref())?;
    let path = write_plan(&dir, &warroom_core::plan::render(&config))?;
    if json {
        emit_json(&json!({ "written": path.display().to_string() }))
    } else {
        emit(&path.display().to_string())
    }
}

fn check_format(format: &str) -> Result<()> {
    match format.trim().to_ascii_lowercase().as_str() {
        "md" | "markdown" => Ok(()),
        _ => bail!("unsupported --format {format:?}: only md (Markdown) is supported"),
    }
}

/// Writes `text` as DIR/response-plan.md, creating DIR; an older plan there is replaced.
fn write_plan(dir: &Path, text: &str) -> Result<PathBuf> {
    fs::create_dir_all(dir)
        .map_err(|e| anyhow!("cannot create directory {}: {e}", dir.display()))?;
    let path = dir.join(PLAN_FILE);
    fs::write(&path, text).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_markdown_is_supported() {
        assert!(check_format("md").is_ok());
        assert!(check_format("MD").is_ok());
        let err = check_format("pdf").expect_err("pdf");
        assert_eq!(
            err.to_string(),
            "unsupported --format \"pdf\": only md (Markdown) is supported"
        );
    }

    #[test]
    fn the_plan_is_written_into_a_new_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("out/docs");
        let path = write_plan(&dir, "# Plan\n").expect("writes");
        assert_eq!(path, dir.join("response-plan.md"));
        assert_eq!(fs::read_to_string(&path).expect("read"), "# Plan\n");
    }
}
