//! Writing to the terminal: JSON, aligned tables, times and ages.

use std::io::{IsTerminal as _, Write as _};

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
    format!("{} ago", span(secs))
}

/// `then` relative to `now`: `in 12m` when ahead, `12m ago` when behind.
pub fn relative(now: Timestamp, then: Timestamp) -> String {
    let secs = then.duration_since(now).as_secs();
    if secs > 0 {
        format!("in {}", span(secs))
    } else {
        age(now, then)
    }
}

/// A non-negative number of seconds as `45s`, `12m`, `3h12m`, `2d4h`.
fn span(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// The words of `text` (whitespace collapsed) in lines of at most `width` characters; a word
/// longer than that gets a line of its own.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// ANSI colours, used only when stdout is a terminal and `NO_COLOR` is not set. Colour never
/// carries meaning alone: whatever it highlights is also written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(bool);

impl Colour {
    /// Colour when stdout is a terminal.
    pub fn for_stdout() -> Colour {
        let wanted = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Colour(wanted && std::io::stdout().is_terminal())
    }

    /// Plain text.
    #[cfg(test)]
    pub fn off() -> Colour {
        Colour(false)
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold red: something is late.
    pub fn alarm(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Green: done.
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Dim: set aside.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Bold: a heading.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// A string field of a JSON object, or `-`.
/// The time in `value[key]` as `YYYY-MM-DD HH:MM:SS`; text that is not a time as it is; `-`
/// when absent.
pub fn time_field(value: &Value, key: &str) -> String {
    match value.get(key).and_then(Value::as_str) {
        Some(t) => t.parse::<Timestamp>().map_or_else(|_| t.to_string(), time),
        None => "-".to_string(),
    }
}

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
    fn relative_times_point_both_ways() {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().expect("ts");
        let rel = |s: &str| relative(now, s.parse().expect("ts"));
        assert_eq!(rel("2026-11-22T12:12:00Z"), "in 12m");
        assert_eq!(rel("2026-11-22T11:48:00Z"), "12m ago");
        assert_eq!(rel("2026-11-22T12:00:00Z"), "0s ago");
    }

    #[test]
    fn text_wraps_at_word_boundaries() {
        assert_eq!(
            wrap("one two  three\nfour", 9),
            ["one two", "three", "four"]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
        assert!(wrap("  ", 10).is_empty());
    }

    #[test]
    fn colour_is_off_unless_asked() {
        assert_eq!(Colour::off().alarm("OVERDUE"), "OVERDUE");
        assert_eq!(Colour(true).alarm("OVERDUE"), "\x1b[1;31mOVERDUE\x1b[0m");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
