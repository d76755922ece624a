//! A JSON body extractor whose every rejection is an [`ApiError`] naming the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Request bodies are small: incidents, notes, commands.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body, strictly parsed.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (is_json, bytes) = read_body(req, state).await?;
        if !is_json {
            return Err(not_json());
        }
        parse(&bytes).map(JsonBody)
    }
}

/// An optional body: an empty one is `None`, anything else must be JSON as for [`JsonBody`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let (is_json, bytes) = read_body(req, state).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !is_json {
            return Err(not_json());
        }
        parse(&bytes).map(|v| Some(JsonBody(v)))
    }
}

/// The body, and whether it was declared JSON.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<(bool, Bytes), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request body is larger than {BODY_LIMIT} bytes"),
            )
        } else {
            ApiError::bad_request(format!("cannot read request body: {rejection}"))
        }
    })?;
    Ok((is_json, bytes))
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with Content-Type: application/json",
    )
}

/// Parses JSON, telling syntax errors (400) from values the schema refuses (422).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = parsed.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("malformed JSON: {inner}"),
            );
        }
        let message = inner.to_string();
        // Make sure an unknown field is named even when the path stops at its parent.
        let field = match unknown_field(&message) {
            Some(name) if path == "." => name,
            Some(name) if !path.ends_with(&name) => format!("{path}.{name}"),
            _ => path,
        };
        let message = match message.find(" at line ") {
            Some(cut) => message[..cut].to_string(),
            None => message,
        };
        ApiError::invalid(field.clone(), format!("{field}: {message}"))
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("malformed JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(name, _)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse::<Body>(br#"{"title": 5}"#).expect_err("type error");
        assert_eq!(
            (err.status, err.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("title"))
        );
        let err = parse::<Body>(br#"{"title": "x", "colour": 1}"#).expect_err("unknown");
        assert_eq!(err.field.as_deref(), Some("colour"));
        let err = parse::<Body>(br#"{"title": "x", "inner": {"n": -1}}"#).expect_err("range");
        assert_eq!(err.field.as_deref(), Some("inner.n"));
        let err =
            parse::<Body>(br#"{"title": "x", "inner": {"m": 1}}"#).expect_err("unknown nested");
        assert_eq!(err.field.as_deref(), Some("inner.m"));
        let err = parse::<Body>(br#"{}"#).expect_err("missing");
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            err.message.contains("missing field `title`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [&b"{"[..], b"nope", b"{\"title\": \"x\"} trailing", b""] {
            let err = parse::<Body>(body).expect_err("syntax");
            assert_eq!(
                (err.status, err.code),
                (StatusCode::BAD_REQUEST, "malformed_json"),
                "{body:?}"
            );
        }
    }
}

/// Path parameters whose rejection (e.g. a percent-encoding that is not UTF-8) is an
/// [`ApiError`] like every other.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for PathParams<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| PathParams(v))
            .map_err(|rejection| {
                ApiError::bad_request(format!("bad path: {}", rejection.body_text()))
            })
    }
}
