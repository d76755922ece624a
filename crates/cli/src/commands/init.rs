//! `warroom init DIR`: the built-in configuration written out as files to edit.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::json;
use warroom_core::config::BUILTIN_FILES;

use crate::output::{emit, emit_json};

pub fn run(dir: &Path, force: bool, json: bool) -> Result<()> {
    let written = write_files(dir, BUILTIN_FILES, force)?;
    if json {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        return emit_json(&json!({ "dir": dir.display().to_string(), "written": files }));
    }
    let mut lines: Vec<String> = written
        .iter()
        .map(|p| format!("wrote {}", p.display()))
        .collect();
    let shown = shell_word(&dir.display().to_string());
    lines.push(String::new());
    lines.push(format!(
        "Edit the files, then check them: warroom config check {shown}"
    ));
    lines.push(format!(
        "Run the server with them:       warroom serve --config {shown}"
    ));
    emit(&lines.join("\n"))
}

/// `dir` as typed, quoted when a shell would split or expand it.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Writes every `(relative path, text)` under `dir`, creating directories. Nothing is written if
/// any target exists and `force` is off, so a refused run leaves no half-initialised directory.
pub fn write_files(dir: &Path, files: &[(&str, &str)], force: bool) -> Result<Vec<PathBuf>> {
    let mut targets = Vec::with_capacity(files.len());
    for (relative, text) in files {
        let rel = Path::new(relative);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            bail!("built-in file {relative:?} is not a plain relative path");
        }
        targets.push((dir.join(rel), *text));
    }
    if !force {
        let existing: Vec<&PathBuf> = targets
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.symlink_metadata().is_ok())
            .collect();
        if let Some(first) = existing.first() {
            let more = match existing.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            bail!(
                "{} already exists{more}; pass --force to overwrite",
                first.display()
            );
        }
    }
    let mut written = Vec::with_capacity(targets.len());
    for (path, text) in targets {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| anyhow!("cannot create directory {}: {e}", parent.display()))?;
        }
        fs::write(&path, text).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[(&str, &str)] = &[("a.yaml", "a: 1\n"), ("playbooks/b.yaml", "b: 2\n")];

    #[test]
    fn files_land_under_the_directory_with_their_subdirectories() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("new");
        let written = write_files(&dir, FILES, false).expect("writes");
        assert_eq!(written, [dir.join("a.yaml"), dir.join("playbooks/b.yaml")]);
        assert_eq!(
            fs::read_to_string(dir.join("playbooks/b.yaml")).expect("read"),
            "b: 2\n"
        );
    }

    #[test]
    fn existing_files_are_kept_unless_forced() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path();
        fs::create_dir(dir.join("playbooks")).expect("mkdir");
        fs::write(dir.join("playbooks/b.yaml"), "mine\n").expect("write");
        let err = write_files(dir, FILES, false).expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "{} already exists; pass --force to overwrite",
                dir.join("playbooks/b.yaml").display()
            )
        );
        assert!(!dir.join("a.yaml").exists(), "nothing written when refused");
        write_files(dir, FILES, true).expect("forced");
        assert_eq!(
            fs::read_to_string(dir.join("playbooks/b.yaml")).expect("read"),
            "b: 2\n"
        );
    }

    #[test]
    fn paths_must_stay_inside_the_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        for bad in ["../x.yaml", "/etc/x.yaml", "a/../../x.yaml"] {
            assert!(
                write_files(root.path(), &[(bad, "")], true).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_built_in_files_are_plain_relative_yaml_paths() {
        assert!(!BUILTIN_FILES.is_empty());
        for (path, _) in BUILTIN_FILES {
            assert!(path.ends_with(".yaml") || path.ends_with(".yml"), "{path}");
        }
    }

    #[test]
    fn directories_are_quoted_for_the_hint_only_when_needed() {
        assert_eq!(shell_word("my-config"), "my-config");
        assert_eq!(shell_word("my config"), "'my config'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
