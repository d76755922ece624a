//! A minimal HTTP/1.1 client for the timed requests: one kept-alive connection per worker,
//! the request written in one buffer, the answer parsed just enough (status, `Retry-After`,
//! `Content-Length` or chunked body).
//!
//! The load generator shares the machine's two cores with the server it measures, so its own
//! cost per request is taken from the server: reqwest's connection pool, header maps and
//! body plumbing cost several times what this does. Set-up calls still use reqwest.

use anyhow::{Context, Result, bail};
use reqwest::{Method, StatusCode, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Answer;

/// Largest answer head (status line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;

/// One connection to the server, opened on first use and again after the server closes it.
pub struct RawConn {
    addr: String,
    host: String,
    path: String,
    /// `Authorization` header line, if any, with its CRLF.
    auth: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    request: Vec<u8>,
}

impl RawConn {
    /// A connection for `url` (http only), sending `token` as a bearer token when given.
    pub fn new(url: &Url, token: Option<&str>) -> Result<Self> {
        if url.scheme() != "http" {
            bail!("the raw client speaks plain http only");
        }
        let host = url.host_str().context("the URL has no host")?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Self {
            addr: format!("{host}:{port}"),
            host: format!("{host}:{port}"),
            path,
            auth: token
                .map(|t| format!("Authorization: Bearer {t}\r\n"))
                .unwrap_or_default(),
            stream: None,
            buf: Vec::with_capacity(4096),
            request: Vec::with_capacity(1024),
        })
    }

    /// Sends one request and reads its whole answer.
    pub async fn send(&mut self, method: &Method, body: Option<&[u8]>) -> Result<Answer> {
        self.request.clear();
        self.request.extend_from_slice(
            format!(
                "{method} {} HTTP/1.1\r\nHost: {}\r\n{}",
                self.path, self.host, self.auth
            )
            .as_bytes(),
        );
        if let Some(b) = body {
            self.request.extend_from_slice(
                format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                )
                .as_bytes(),
            );
            self.request.extend_from_slice(b);
        } else {
            self.request.extend_from_slice(b"\r\n");
        }
        // A kept-alive connection the server closed meanwhile fails on first use: open a new
        // one and send once more (nothing was answered, so nothing was done twice).
        let reused = self.stream.is_some();
        match self.exchange().await {
            Err(_) if reused => self.exchange().await,
            other => other,
        }
    }

    async fn exchange(&mut self) -> Result<Answer> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(&self.addr)
                    .await
                    .with_context(|| format!("connecting to {}", self.addr))?;
                s.set_nodelay(true)?;
                self.stream.insert(s)
            }
        };
        self.buf.clear();
        let result = read_answer(stream, &self.request, &mut self.buf).await;
        match result {
            Ok((answer, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Ok(answer)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

/// Writes `request`, reads one answer into `buf`; also says whether the connection stays open.
async fn read_answer(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(Answer, bool)> {
    stream.write_all(request).await?;
    let head_end = loop {
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            bail!("the answer's head is larger than {MAX_HEAD} bytes");
        }
        read_more(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("the answer's head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let status = StatusCode::from_u16(code)?;
    let (mut length, mut chunked, mut keep) = (None, false, true);
    let mut retry_after = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            keep = !value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = Some(value.to_string());
        }
    }
    let body = if chunked {
        read_chunked(stream, buf, head_end).await?
    } else {
        let length = length.unwrap_or(0);
        while buf.len() < head_end + length {
            read_more(stream, buf).await?;
        }
        buf[head_end..head_end + length].to_vec()
    };
    Ok((
        Answer {
            status,
            retry_after,
            text: String::from_utf8_lossy(&body).into_owned(),
        },
        keep,
    ))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>, mut at: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(pos) = find(&buf[at..], b"\r\n") {
                break at + pos;
            }
            read_more(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[at..line_end]).context("bad chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .context("bad chunk size")?;
        at = line_end + 2;
        // The chunk and its CRLF (the last, empty chunk: just the final CRLF, no trailers).
        while buf.len() < at + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size + 2;
        if size == 0 {
            return Ok(body);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot server that answers each request with the given bytes.
    async fn serve(answers: Vec<&'static [u8]>) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("test server");
        let addr = listener.local_addr().expect("test set-up");
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("test server");
            for answer in answers {
                let mut got = Vec::new();
                let mut chunk = [0u8; 4096];
                // Requests in these tests are small and carry a body of "{}".
                while !got.ends_with(b"{}") {
                    let n = s.read(&mut chunk).await.expect("test server");
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&chunk[..n]);
                }
                s.write_all(answer).await.expect("test server");
            }
        });
        Url::parse(&format!("http://{addr}/v2/enqueue")).expect("test set-up")
    }

    #[tokio::test]
    async fn reads_sized_and_chunked_answers_on_one_connection() {
        let url = serve(vec![
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\ntransfer-encoding: chunked\r\n\r\n4\r\nbusy\r\n1\r\n!\r\n0\r\n\r\n",
        ])
        .await;
        let mut conn = RawConn::new(&url, Some("t")).expect("test set-up");
        let a = conn
            .send(&Method::POST, Some(b"{}"))
            .await
            .expect("test server");
        assert_eq!((a.status.as_u16(), a.text.as_str()), (202, "ok"));
        let b = conn
            .send(&Method::POST, Some(b"{}"))
            .await
            .expect("test server");
        assert_eq!(b.status.as_u16(), 429);
        assert_eq!(b.retry_after.as_deref(), Some("3"));
        assert_eq!(b.text, "busy!");
    }
}
