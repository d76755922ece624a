//! Turning what people type into what the API expects: labels, service lists, times, ids.

use anyhow::{Context, Result, anyhow, bail};
use jiff::{Span, SpanRelativeTo, Timestamp, civil::Date, tz::TimeZone};
use warroom_core::IncidentId;

/// `KEY=VALUE`; an empty value (`KEY=`) comes back as `None`, which `update` sends as a removal.
pub fn parse_label(text: &str) -> Result<(String, Option<String>)> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("invalid label {text:?}: expected KEY=VALUE"))?;
    let key = key.trim();
    if key.is_empty() {
        bail!("invalid label {text:?}: the key is empty");
    }
    let value = value.trim();
    Ok((
        key.to_string(),
        (!value.is_empty()).then(|| value.to_string()),
    ))
}

/// Labels where every one needs a value (declare, list).
pub fn parse_labels_with_values(texts: &[String]) -> Result<Vec<(String, String)>> {
    texts
        .iter()
        .map(|text| match parse_label(text)? {
            (key, Some(value)) => Ok((key, value)),
            (key, None) => Err(anyhow!("label {key:?} needs a value: use {key}=VALUE")),
        })
        .collect()
}

/// Repeated and comma-separated values as one list, without blanks or repeats.
pub fn split_list(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in values.iter().flat_map(|v| v.split(',')) {
        let item = item.trim();
        if !item.is_empty() && !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// Checked here so a typo fails at once with the expected shape instead of as a 404.
pub fn incident_id(text: &str) -> Result<IncidentId> {
    text.trim().parse::<IncidentId>().map_err(|e| anyhow!(e))
}

/// A time filter as RFC 3339: accepts a timestamp, a date (midnight UTC) or an age such as `24h`
/// or `7d` counted back from `now`.
pub fn time_filter(flag: &str, text: &str, now: Timestamp) -> Result<String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.to_string());
    }
    if let Ok(date) = text.parse::<Date>() {
        let ts = date
            .to_zoned_datetime(TimeZone::UTC)
            .with_context(|| format!("invalid {flag} {text:?}"))?
            .timestamp();
        return Ok(ts.to_string());
    }
    let invalid = || {
        anyhow!(
            "invalid {flag} {text:?}: use a time (2026-11-22T10:00:00Z), a date (2026-11-22) or an age (90m, 24h, 7d)"
        )
    };
    let span: Span = text.parse().map_err(|_| invalid())?;
    let age = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| invalid())?;
    let at = now.checked_sub(age.abs()).map_err(|_| invalid())?;
    Ok(at.to_string())
}

/// A point in time: RFC 3339, `now`, or an offset from `now` such as `+2h`, `-30m` or `+1d`.
pub fn point_in_time(flag: &str, text: &str, now: Timestamp) -> Result<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if text == "now" {
        return Ok(now);
    }
    let invalid = || {
        anyhow!(
            "invalid {flag} {text:?}: use a time (2026-11-22T10:00:00Z), `now`, or an offset (+2h, -30m, +1d)"
        )
    };
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => return Err(invalid()),
    };
    let span: Span = rest.parse().map_err(|_| invalid())?;
    let offset = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| invalid())?
        .abs();
    let at = if sign > 0 {
        now.checked_add(offset)
    } else {
        now.checked_sub(offset)
    };
    at.map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_in_time_are_absolute_now_or_offsets() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
        let at = |t: &str| point_in_time("--start", t, now).map(|t| t.to_string());
        assert_eq!(at("now").expect("ok"), "2026-11-22T10:00:00Z");
        assert_eq!(at("+2h").expect("ok"), "2026-11-22T12:00:00Z");
        assert_eq!(at("-30m").expect("ok"), "2026-11-22T09:30:00Z");
        assert_eq!(at("+1d").expect("ok"), "2026-11-23T10:00:00Z");
        assert_eq!(
            at("2026-12-01T08:00:00Z").expect("ok"),
            "2026-12-01T08:00:00Z"
        );
        assert!(at("2h").is_err());
        assert!(at("tomorrow").is_err());
    }

    #[test]
    fn labels_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_label("region=eu").expect("ok"),
            ("region".into(), Some("eu".into()))
        );
        assert_eq!(
            parse_label("q=a=b").expect("ok"),
            ("q".into(), Some("a=b".into()))
        );
        assert_eq!(parse_label("region=").expect("ok"), ("region".into(), None));
        assert!(parse_label("region").is_err());
        assert!(parse_label("=eu").is_err());
    }

    #[test]
    fn declare_labels_need_values() {
        let ok = parse_labels_with_values(&["a=1".into(), "b=2".into()]).expect("ok");
        assert_eq!(ok, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        let err = parse_labels_with_values(&["a=".into()]).expect_err("empty value");
        assert!(err.to_string().contains("needs a value"), "{err}");
    }

    #[test]
    fn lists_accept_repeats_and_commas() {
        let got = split_list(&["auth, api".into(), "web".into(), "auth".into(), ",".into()]);
        assert_eq!(got, ["auth", "api", "web"]);
        assert!(split_list(&["".into()]).is_empty());
    }

    #[test]
    fn ids_are_checked_locally() {
        assert_eq!(
            incident_id(" INC-20261122-001 ").expect("ok").as_str(),
            "INC-20261122-001"
        );
        let err = incident_id("nope").expect_err("bad");
        assert!(err.to_string().contains("INC-YYYYMMDD-NNN"), "{err}");
    }

    #[test]
    fn time_filters_take_times_dates_and_ages() {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().expect("ts");
        assert_eq!(
            time_filter("--since", "2026-11-20T08:30:00Z", now).expect("ok"),
            "2026-11-20T08:30:00Z"
        );
        assert_eq!(
            time_filter("--since", "2026-11-20", now).expect("ok"),
            "2026-11-20T00:00:00Z"
        );
        assert_eq!(
            time_filter("--since", "24h", now).expect("ok"),
            "2026-11-21T12:00:00Z"
        );
        assert_eq!(
            time_filter("--since", "7d", now).expect("ok"),
            "2026-11-15T12:00:00Z"
        );
        let err = time_filter("--until", "yesterday", now).expect_err("bad");
        assert!(err.to_string().starts_with("invalid --until"), "{err}");
    }
}
