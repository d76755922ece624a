//! Finds the line and column of a key path (`severities[2].id`) in block-style YAML text.
//!
//! Serde forgets positions once a value is parsed, but checks that span several values (a
//! duplicate id, an unknown reference) still need to point at a line. This scanner understands
//! the block style people write config in; for anything else it falls back to the nearest
//! ancestor it could find, which is still the right neighbourhood.

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence position, 0-based.
    Index(usize),
}

struct Entry<'t> {
    line: usize,
    indent: usize,
    content: &'t str,
}

/// Splits lines into entries, turning `- key: v` into a dash entry and a `key: v` entry two
/// columns in, so sequence items and mappings are handled alike.
fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut rest = trimmed;
        loop {
            if rest == "-" {
                out.push(Entry {
                    line: i + 1,
                    indent,
                    content: "-",
                });
                break;
            }
            if let Some(after) = rest.strip_prefix("- ") {
                out.push(Entry {
                    line: i + 1,
                    indent,
                    content: "-",
                });
                let inner = after.trim_start();
                indent += rest.len() - inner.len();
                rest = inner;
                continue;
            }
            out.push(Entry {
                line: i + 1,
                indent,
                content: rest,
            });
            break;
        }
    }
    out
}

fn is_key(content: &str, key: &str) -> bool {
    [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|k| {
            content
                .strip_prefix(k.as_str())
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
}

/// 1-based (line, column) of the deepest part of `path` found in `text`.
pub fn locate(text: &str, path: &[Seg<'_>]) -> (usize, usize) {
    let all = entries(text);
    let (mut start, mut end) = (0, all.len());
    let mut found = (1, 1);
    for seg in path {
        let Some(first) = all.get(start..end).and_then(|r| r.first()) else {
            break;
        };
        let level = first.indent;
        let mut at = None;
        let mut seen = 0;
        for (offset, e) in all[start..end].iter().enumerate() {
            if e.indent != level {
                continue;
            }
            let hit = match seg {
                Seg::Key(k) => is_key(e.content, k),
                Seg::Index(n) => {
                    e.content == "-" && {
                        seen += 1;
                        seen == n + 1
                    }
                }
            };
            if hit {
                at = Some(start + offset);
                break;
            }
        }
        let Some(idx) = at else { break };
        found = (all[idx].line, all[idx].indent + 1);
        // A key's sequence value may sit at the key's own indentation (`roles:\n- id: x`).
        let belongs = |e: &Entry<'_>| {
            e.indent > level
                || (matches!(seg, Seg::Key(_)) && e.indent == level && e.content == "-")
        };
        let child_end = all[idx + 1..end]
            .iter()
            .position(|e| !belongs(e))
            .map_or(end, |p| idx + 1 + p);
        start = idx + 1;
        end = child_end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# severities
severities:
  - id: P0
    name: Critical
  - id: P1
    name: High
    examples:
      - one
      - two
roles:
- id: scribe
  name: Scribe
";

    #[test]
    fn finds_nested_keys_and_items() {
        assert_eq!(locate(DOC, &[Seg::Key("severities")]), (2, 1));
        assert_eq!(
            locate(
                DOC,
                &[Seg::Key("severities"), Seg::Index(1), Seg::Key("id")]
            ),
            (5, 5)
        );
        assert_eq!(
            locate(
                DOC,
                &[Seg::Key("severities"), Seg::Index(1), Seg::Key("name")]
            ),
            (6, 5)
        );
        assert_eq!(
            locate(
                DOC,
                &[
                    Seg::Key("severities"),
                    Seg::Index(1),
                    Seg::Key("examples"),
                    Seg::Index(1)
                ]
            ),
            (9, 7)
        );
        assert_eq!(
            locate(DOC, &[Seg::Key("roles"), Seg::Index(0), Seg::Key("name")]),
            (12, 3)
        );
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        assert_eq!(
            locate(DOC, &[Seg::Key("severities"), Seg::Index(7)]),
            (2, 1)
        );
        assert_eq!(locate(DOC, &[Seg::Key("nope")]), (1, 1));
    }
}
