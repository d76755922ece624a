//! Talking to the Warroom API: where the server is, which token to send, and turning every
//! failure (unreachable server, API error body, garbage answer) into one readable message.

use std::io;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::args::Global;

const TIMEOUT: Duration = Duration::from_secs(30);
/// Uploads and downloads of evidence: hours, for multi-gigabyte dumps on slow links.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// A configured connection to one server with one token.
pub struct Api {
    http: reqwest::Client,
    /// As the user wrote it (minus a trailing slash), for messages.
    shown: String,
    base: Url,
    token: String,
}

impl Api {
    /// Resolves the server URL and the token from the global options.
    pub fn from_global(global: &Global) -> Result<Api> {
        let base = parse_server(&global.server)?;
        let token = resolve_token(global.token.as_deref(), &base, &global.data_dir, |p| {
            std::fs::read_to_string(p)
        })?;
        Api::new(&global.server, base, token)
    }

    fn new(shown: &str, base: Url, token: String) -> Result<Api> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("warroom-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Api {
            http,
            shown: shown.trim_end_matches('/').to_string(),
            base,
            token,
        })
    }

    /// `path` starts with `/`; the base may carry a path prefix (a server behind a proxy).
    fn url(&self, path: &str) -> Result<Url> {
        let text = format!("{}{path}", self.base.as_str().trim_end_matches('/'));
        Url::parse(&text).with_context(|| format!("invalid request URL {text}"))
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        Ok(self
            .http
            .request(method, self.url(path)?)
            .bearer_auth(&self.token))
    }

    async fn send(&self, request: RequestBuilder) -> Result<Response> {
        let response = request
            .send()
            .await
            .map_err(|err| transport_error(&self.shown, &err))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(anyhow!(api_error_message(status, &body)))
    }

    async fn json(&self, request: RequestBuilder) -> Result<Value> {
        let response = self.send(request).await?;
        let text = response
            .text()
            .await
            .map_err(|err| transport_error(&self.shown, &err))?;
        serde_json::from_str(&text).context("the server's answer is not JSON")
    }

    /// GET a JSON document.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.json(self.request(Method::GET, path)?.query(query))
            .await
    }

    /// GET every page of a listing: the `key` items of the page from `cursor` (the first
    /// without one) and of each page its `next_cursor` leads to.
    pub async fn get_all_pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        key: &str,
        mut cursor: Option<String>,
    ) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            let mut q = query.to_vec();
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page = self.get(path, &q).await?;
            items.extend(
                page.get(key)
                    .and_then(Value::as_array)
                    .with_context(|| format!("the server's answer has no {key} list"))?
                    .iter()
                    .cloned(),
            );
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    // A server handing back the same cursor would keep us here forever.
                    if cursor.as_deref() == Some(next) {
                        bail!("the server returned the same page cursor twice");
                    }
                    cursor = Some(next.to_string());
                }
                _ => return Ok(items),
            }
        }
    }

    /// GET a document as text, untouched.
    pub async fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String> {
        let response = self
            .send(self.request(Method::GET, path)?.query(query))
            .await?;
        response
            .text()
            .await
            .map_err(|err| transport_error(&self.shown, &err))
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.json(self.request(Method::POST, path)?.json(body))
            .await
    }

    /// PATCH a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        self.json(self.request(Method::PATCH, path)?.json(body))
            .await
    }

    /// POST a file's content as the raw body, streamed from disk (never read whole), with
    /// `query`; no overall time limit, since a large file takes as long as it takes.
    pub async fn post_file(
        &self,
        path: &str,
        query: &[(&str, String)],
        content_type: &str,
        file: tokio::fs::File,
        len: u64,
    ) -> Result<Value> {
        let request = self
            .request(Method::POST, path)?
            .query(query)
            .timeout(TRANSFER_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(reqwest::Body::from(file));
        self.json(request).await
    }

    /// POST with query parameters and no body, for an answer without one (204).
    pub async fn post_empty(&self, path: &str, query: &[(&str, String)]) -> Result<()> {
        let request = self.request(Method::POST, path)?.query(query);
        self.send(request).await.map(|_| ())
    }

    /// GET a download as a response to read in chunks (no overall time limit).
    pub async fn get_stream(&self, path: &str) -> Result<Response> {
        self.send(self.request(Method::GET, path)?.timeout(TRANSFER_TIMEOUT))
            .await
    }

    /// Reads the next chunk of a download, with errors in the usual words.
    pub async fn chunk(&self, response: &mut Response) -> Result<Option<bytes::Bytes>> {
        response
            .chunk()
            .await
            .map_err(|err| transport_error(&self.shown, &err))
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        self.json(self.request(Method::DELETE, path)?).await
    }
}

/// A path segment for ids and role names, which the user typed.
pub fn seg(text: &str) -> String {
    urlencoding::encode(text).into_owned()
}

fn parse_server(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|e| anyhow!("invalid server URL {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("invalid server URL {text:?}: expected http://HOST:PORT or https://HOST");
    }
    Ok(url)
}

/// The server runs on this machine, so its data directory (and admin token) is likely ours.
fn is_local(url: &Url) -> bool {
    // The url crate lowercases hosts and writes IPv6 compressed and in brackets.
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// Flag or env first; else, only for a local server, the admin token the server wrote.
pub fn resolve_token(
    given: Option<&str>,
    server: &Url,
    data_dir: &Path,
    read: impl FnOnce(&Path) -> io::Result<String>,
) -> Result<String> {
    const NO_TOKEN: &str = "no token: pass --token or set WARROOM_TOKEN";
    let token = match given.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => token.to_string(),
        None if is_local(server) => {
            let path = data_dir.join("admin.token");
            let text = read(&path).map_err(|e| anyhow!("{NO_TOKEN} ({}: {e})", path.display()))?;
            let token = text.trim();
            if token.is_empty() {
                bail!("{NO_TOKEN} ({} is empty)", path.display());
            }
            token.to_string()
        }
        None => bail!(NO_TOKEN),
    };
    // Checked here because reqwest would only say "builder error" at send time.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("the token contains spaces or characters that cannot be sent in an HTTP header");
    }
    Ok(token)
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
    #[serde(default)]
    field: Option<String>,
}

/// The message of an API error body, or a short description of an answer that is not one
/// (a proxy's HTML page, say).
pub fn api_error_message(status: reqwest::StatusCode, body: &str) -> String {
    if let Ok(ErrorBody { error }) = serde_json::from_str::<ErrorBody>(body) {
        return match error.field {
            Some(field) if !field.is_empty() => format!("{} (field: {field})", error.message),
            _ => error.message,
        };
    }
    let snippet: String = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    if snippet.is_empty() {
        format!("the server answered {status}")
    } else {
        format!("the server answered {status}: {snippet}")
    }
}

fn transport_error(server: &str, err: &reqwest::Error) -> anyhow::Error {
    if err.is_timeout() {
        return anyhow!(
            "the Warroom server at {server} did not answer within {} s",
            TIMEOUT.as_secs()
        );
    }
    let mut root: &dyn std::error::Error = err;
    let mut refused = false;
    while let Some(next) = root.source() {
        if let Some(io) = next.downcast_ref::<io::Error>() {
            refused |= io.kind() == io::ErrorKind::ConnectionRefused;
        }
        root = next;
    }
    if refused {
        anyhow!("cannot reach the Warroom server at {server}: is `warroom serve` running?")
    } else if err.is_connect() {
        anyhow!("cannot reach the Warroom server at {server}: {root}")
    } else {
        anyhow!("request to the Warroom server at {server} failed: {root}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn url(text: &str) -> Url {
        parse_server(text).expect("valid url")
    }

    fn never_read(_: &Path) -> io::Result<String> {
        panic!("must not read the token file")
    }

    #[test]
    fn a_given_token_wins() {
        let got = resolve_token(
            Some(" abc "),
            &url("http://127.0.0.1:8080"),
            Path::new("d"),
            never_read,
        );
        assert_eq!(got.expect("token"), "abc");
    }

    #[test]
    fn local_servers_fall_back_to_the_admin_token_file() {
        for server in [
            "http://127.0.0.1:8080",
            "http://localhost:9000/",
            "http://LOCALHOST",
            "http://[::1]:8080",
        ] {
            let mut asked = PathBuf::new();
            let got = resolve_token(Some(""), &url(server), Path::new("data"), |p| {
                asked = p.to_path_buf();
                Ok("secret\n".into())
            });
            assert_eq!(got.expect("token"), "secret", "{server}");
            assert_eq!(asked, Path::new("data").join("admin.token"));
        }
    }

    #[test]
    fn remote_servers_need_an_explicit_token() {
        for server in ["https://warroom.example.com", "http://10.0.0.5:8080"] {
            let err = resolve_token(None, &url(server), Path::new("d"), never_read)
                .expect_err("no token");
            assert_eq!(
                err.to_string(),
                "no token: pass --token or set WARROOM_TOKEN"
            );
        }
    }

    #[test]
    fn a_missing_or_empty_token_file_is_explained() {
        let err = resolve_token(None, &url("http://localhost"), Path::new("d"), |_| {
            Err(io::Error::from(io::ErrorKind::NotFound))
        })
        .expect_err("missing");
        assert!(err.to_string().starts_with("no token: "), "{err}");
        assert!(err.to_string().contains("admin.token"), "{err}");
        let err = resolve_token(None, &url("http://localhost"), Path::new("d"), |_| {
            Ok(" \n".into())
        })
        .expect_err("empty");
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[test]
    fn tokens_must_fit_in_a_header() {
        let err = resolve_token(Some("a b"), &url("http://x"), Path::new("d"), never_read);
        assert!(err.is_err());
    }

    #[test]
    fn server_urls_are_checked() {
        assert!(parse_server("127.0.0.1:8080").is_err());
        assert!(parse_server("ftp://host").is_err());
        assert!(parse_server("https://host/warroom/").is_ok());
    }

    #[test]
    fn api_errors_show_message_and_field() {
        let body = r#"{"error":{"code":"invalid_field","message":"severity: unknown","field":"severity"}}"#;
        assert_eq!(
            api_error_message(reqwest::StatusCode::UNPROCESSABLE_ENTITY, body),
            "severity: unknown (field: severity)"
        );
        let body = r#"{"error":{"code":"not_found","message":"no incident INC-1"}}"#;
        assert_eq!(
            api_error_message(reqwest::StatusCode::NOT_FOUND, body),
            "no incident INC-1"
        );
        assert_eq!(
            api_error_message(reqwest::StatusCode::BAD_GATEWAY, "<h1>Bad\ngateway</h1>"),
            "the server answered 502 Bad Gateway: <h1>Bad gateway</h1>"
        );
        assert_eq!(
            api_error_message(reqwest::StatusCode::SERVICE_UNAVAILABLE, ""),
            "the server answered 503 Service Unavailable"
        );
    }
}
