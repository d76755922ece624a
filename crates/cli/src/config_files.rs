//! Reading a config directory from disk into the pure loader of `warroom_core::config`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use warroom_core::Config;
use warroom_core::config::{SourceFile, load};

/// Every `*.yaml` / `*.yml` file in `dir` and in its direct subdirectories (`dir/playbooks/`),
/// sorted by path, so problems come out in a stable order. Deeper levels are not read; dot
/// files and dot directories (editor locks, `.git`) are skipped.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>> {
    let (mut paths, subdirs) = scan(dir)?;
    for sub in subdirs {
        paths.extend(scan(&sub)?.0);
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path)
                .map_err(|e| anyhow!("cannot read config file {}: {e}", path.display()))?;
            Ok(SourceFile::new(path.display().to_string(), text))
        })
        .collect()
}

/// The YAML files and the subdirectories directly in `dir`.
fn scan(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let cannot = |e: std::io::Error| anyhow!("cannot read config directory {}: {e}", dir.display());
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        // Dot files are editor locks and backups (`.#roles.yaml`), not config.
        if text.starts_with('.') {
            continue;
        }
        // `metadata` follows symlinks: a linked file or directory counts as what it points to.
        let Ok(meta) = fs::metadata(entry.path()) else {
            continue;
        };
        let is_yaml = Path::new(text)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if meta.is_dir() {
            dirs.push(entry.path());
        } else if meta.is_file() && is_yaml {
            files.push(entry.path());
        }
    }
    Ok((files, dirs))
}

/// The effective config: `dir`'s files over the built-in defaults, or the defaults alone.
/// An invalid config comes back as the `ConfigError` itself so main can print every problem.
pub fn load_config(dir: Option<&Path>) -> Result<Config> {
    let files = match dir {
        Some(dir) => {
            let files = read_dir(dir)?;
            if files.is_empty() {
                eprintln!(
                    "note: no *.yaml files in {} or its subdirectories; using the built-in defaults",
                    dir.display()
                );
            }
            files
        }
        None => Vec::new(),
    };
    let config = load(&files)?;
    // Not problems: the config loads. Said once, here, for check, show, serve and docs alike.
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

/// `config OK: ...` line of `warroom config check`.
pub fn summary(config: &Config) -> String {
    format!(
        "config OK: {} severities, {} roles, {} incident types, {} services, {} playbooks, {} triage questions, {} people, {} schedules, {} escalation policies, {} routing rules, {} message templates, {} channels, {} notification deadlines",
        config.severities.len(),
        config.roles.len(),
        config.incident_types.len(),
        config.services.len(),
        config.playbooks.len(),
        config.triage_questions.len(),
        config.people.len(),
        config.schedules.len(),
        config.escalation_policies.len(),
        config.routing_rules.len(),
        config.message_templates.len(),
        config.comms.channels.len(),
        config.comms.deadlines.len()
    )
}

/// `warroom config show`: YAML, or JSON with `--json`.
pub fn render(config: &Config, json: bool) -> Result<String> {
    if json {
        serde_json::to_string_pretty(config).context("cannot render the config as JSON")
    } else {
        Ok(config.to_yaml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_files_in_name_order_and_skips_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| fs::write(dir.path().join(name), text).expect("write");
        write("b.yml", "# b\n");
        write("a.yaml", "# a\n");
        write("notes.txt", "not config");
        write(".#a.yaml", "lock");
        fs::create_dir(dir.path().join("sub.yaml")).expect("mkdir");
        let files = read_dir(dir.path()).expect("reads");
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        assert_eq!(
            names,
            [
                dir.path().join("a.yaml").display().to_string(),
                dir.path().join("b.yml").display().to_string()
            ]
        );
    }

    #[test]
    fn direct_subdirectories_are_read_too_sorted_by_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for sub in ["playbooks", "playbooks/deeper", ".git", "extra"] {
            fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        for file in [
            "roles.yaml",
            "playbooks/b.yaml",
            "playbooks/a.yml",
            "playbooks/.#a.yml",
            "playbooks/readme.md",
            "playbooks/deeper/too-deep.yaml",
            ".git/config.yaml",
            "extra/z.yaml",
            "a.yaml",
        ] {
            fs::write(root.join(file), "# x\n").expect("write");
        }
        let names: Vec<String> = read_dir(root)
            .expect("reads")
            .into_iter()
            .map(|f| f.name)
            .collect();
        let expected: Vec<String> = [
            "a.yaml",
            "extra/z.yaml",
            "playbooks/a.yml",
            "playbooks/b.yaml",
            "roles.yaml",
        ]
        .iter()
        .map(|f| root.join(f).display().to_string())
        .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn a_missing_directory_is_one_clear_error() {
        let err = read_dir(Path::new("/definitely/not/here")).expect_err("missing");
        let text = format!("{err:#}");
        assert!(
            text.starts_with("cannot read config directory /definitely/not/here: "),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn problems_keep_their_file_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(
            dir.path().join("roles.yaml"),
            "roles:\n  - id: ic\n    name: IC\n    colour: red\n",
        )
        .expect("write");
        let err = load_config(Some(dir.path())).expect_err("invalid");
        let config_err = err
            .downcast_ref::<warroom_core::config::ConfigError>()
            .expect("a ConfigError");
        let expected = format!("{}:4:5: ", dir.path().join("roles.yaml").display());
        assert!(
            config_err.to_string().starts_with(&expected),
            "{config_err}"
        );
    }

    #[test]
    fn the_builtin_config_summarises() {
        let config = load_config(None).expect("built-in");
        assert!(summary(&config).starts_with("config OK: 4 severities, 7 roles, "));
        assert!(
            render(&config, false)
                .expect("yaml")
                .contains("severities:")
        );
    }
}
