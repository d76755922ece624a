//! Writing to the terminal: JSON, aligned tables, times and ages.

use std::io::Write as _;

use anyhow::Result;
use comfy_table::{CellAlignment, Table, presets::NOTHING};
use jiff::Timestamp;
use serde_json::Value;

/// Writes `text` to stdout with a final newline. Goes through `write_all` rather than `println!`
/// so a closed pipe (`warroom list | head`) is an error main can ignore, not a panic.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Pretty-printed JSON, for `--json`.
pub fn emit_json(value: &Value) -> Result<()> {
    emit(&serde_json::to_string_pretty(value)?)
}

/// Columns aligned with two spaces between them and no borders, so the output reads well and
/// still splits with `awk`.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table.load_style(NOTHING).set_header(headers.to_vec());
    for row in rows {
        table.add_row(row.iter().map(|c| one_line(c)).collect::<Vec<_>>());
    }
    let last = headers.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == last { 0 } else { 2 }));
        column.set_cell_alignment(CellAlignment::Left);
    }
    table.trim_fmt()
}

/// Table cells must stay on one line or the columns fall apart.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A time for tables, in UTC like the exports.
pub fn time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// How long ago `then` was: `45s ago`, `12m ago`, `3h12m ago`, `2d4h ago`.
pub fn age(now: Timestamp, then: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs();
    if secs < 0 {
        // Clocks of client and server disagree a little.
        return "just now".to_string();
    }
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s ago"),
        (0, 0, m) => format!("{m}m ago"),
        (0, h, m) => format!("{h}h{m}m ago"),
        (d, h, _) => format!("{d}d{h}h ago"),
    }
}

/// A string field of a JSON object, or `-`.
pub fn field(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_without_borders() {
        let got = table(
            &["ID", "SEV", "TITLE"],
            &[
                vec![
                    "INC-20261122-001".into(),
                    "P0".into(),
                    "Login\nfailures".into(),
                ],
                vec!["INC-20261122-002".into(), "P10".into(), "Disk".into()],
            ],
        );
        assert_eq!(
            got,
            "ID                SEV  TITLE\n\
             INC-20261122-001  P0   Login failures\n\
             INC-20261122-002  P10  Disk"
        );
    }

    #[test]
    fn a_table_without_rows_is_just_the_header() {
        assert_eq!(table(&["A", "B"], &[]), "A  B");
    }

    #[test]
    fn ages_read_naturally() {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().expect("ts");
        let ago = |s: &str| age(now, s.parse().expect("ts"));
        assert_eq!(ago("2026-11-22T11:59:15Z"), "45s ago");
        assert_eq!(ago("2026-11-22T11:48:00Z"), "12m ago");
        assert_eq!(ago("2026-11-22T08:48:00Z"), "3h12m ago");
        assert_eq!(ago("2026-11-20T08:00:00Z"), "2d4h ago");
        assert_eq!(ago("2026-11-22T12:00:05Z"), "just now");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
