//! `warroom-loadgen`: a bounded HTTP load generator for a Warroom server on this machine.
//!
//! It sends exactly `--requests` requests of one scenario with `--concurrency` workers over
//! keep-alive connections, times each request from send to the last byte of the answer, and
//! reports throughput, latency percentiles (from every sample) and errors (any answer that is
//! not 2xx, and transport failures). Set-up requests (declaring the hot incident, seeding
//! incidents for `list`) are not timed.
//!
//! It only talks to loopback addresses: it is a benchmark tool, not a way to load someone
//! else's server.

mod stats;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, ValueEnum};
use reqwest::{Client, Method, StatusCode, Url};
use serde_json::{Value, json};

use crate::stats::{Latencies, ms};

/// Load generator for a Warroom server on this machine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Base URL of the server; loopback only (127.0.0.1, localhost, [::1]).
    #[arg(long, value_name = "URL")]
    url: String,
    /// Bearer token (responder or above).
    #[arg(
        long,
        env = "WARROOM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: String,
    /// What to send.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Timed requests to send (in total, across all workers).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    requests: u64,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    /// `list`: open incidents that must exist before the run (declared if missing).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    list_incidents: u64,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Print one JSON object instead of the human line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// POST /api/v1/incidents: a P2 incident with a unique title per request.
    Declare,
    /// POST /api/v1/incidents/{id}/notes onto one hot incident declared before the run.
    Note,
    /// GET /api/v1/incidents/{id} of one incident declared before the run.
    Read,
    /// GET /api/v1/incidents?status=open&limit=50 with `--list-incidents` open incidents.
    List,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Declare => "declare",
            Scenario::Note => "note",
            Scenario::Read => "read",
            Scenario::List => "list",
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // reqwest is built without a TLS provider of its own; an Err means one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// How `check_loopback` treats a URL's host.
#[derive(Debug, PartialEq, Eq)]
enum HostKind {
    /// A loopback address literal: accepted.
    Loopback,
    /// `localhost`: accepted if every address it resolves to is loopback.
    Localhost,
    /// Anything else: refused.
    Other,
}

/// `host` as `Url::host_str` gives it (IPv6 in brackets, already normalised by the parser).
fn classify_host(host: &str) -> HostKind {
    match host {
        "127.0.0.1" | "[::1]" => HostKind::Loopback,
        "localhost" => HostKind::Localhost,
        _ => HostKind::Other,
    }
}

/// Refuses any URL whose host is not 127.0.0.1, [::1], or a `localhost` resolving to loopback.
async fn check_loopback(url: &Url) -> Result<()> {
    ensure!(
        matches!(url.scheme(), "http" | "https"),
        "--url must be http:// or https://, not {}://",
        url.scheme()
    );
    let host = url.host_str().context("--url has no host")?;
    match classify_host(host) {
        HostKind::Loopback => Ok(()),
        HostKind::Localhost => {
            let port = url.port_or_known_default().unwrap_or(80);
            let addrs: Vec<_> = tokio::net::lookup_host(("localhost", port))
                .await
                .context("resolving localhost")?
                .collect();
            ensure!(!addrs.is_empty(), "localhost resolves to nothing");
            for a in &addrs {
                ensure!(
                    a.ip().is_loopback(),
                    "localhost resolves to {}, which is not loopback; refusing",
                    a.ip()
                );
            }
            Ok(())
        }
        HostKind::Other => bail!(
            "refusing to load {host}: only 127.0.0.1, localhost and [::1] are allowed \
             (this tool is for benchmarking a server on this machine)"
        ),
    }
}

/// What one worker saw.
#[derive(Default)]
struct WorkerResult {
    samples: Vec<Duration>,
    statuses: BTreeMap<String, u64>,
    first_error: Option<String>,
}

/// The fixed part of every timed request.
struct Target {
    method: Method,
    url: Url,
    /// Body builder: request index to JSON body (None: no body).
    body: fn(&str, u64) -> Option<Value>,
}

fn declare_body(tag: &str, i: u64) -> Option<Value> {
    Some(json!({"title": format!("loadgen {tag} #{i}"), "severity": "P2"}))
}

fn note_body(tag: &str, i: u64) -> Option<Value> {
    Some(json!({"text": format!("loadgen {tag} note #{i}")}))
}

fn no_body(_: &str, _: u64) -> Option<Value> {
    None
}

struct Api {
    client: Client,
    base: Url,
    token: String,
}

impl Api {
    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .with_context(|| format!("joining {path} to the base URL"))
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(StatusCode, String)> {
        let mut req = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        Ok((status, text))
    }

    /// An untimed set-up call that must succeed; returns the JSON answer.
    async fn setup(&self, method: Method, url: Url, body: Option<Value>) -> Result<Value> {
        let what = format!("set-up {method} {}", url.path());
        let (status, text) = self
            .send(method, url, body.as_ref())
            .await
            .with_context(|| what.clone())?;
        ensure!(status.is_success(), "{what}: {status}: {}", text.trim());
        serde_json::from_str(&text).with_context(|| format!("{what}: not JSON"))
    }

    async fn declare(&self, title: &str) -> Result<String> {
        let inc = self
            .setup(
                Method::POST,
                self.url("/api/v1/incidents")?,
                Some(json!({"title": title, "severity": "P2"})),
            )
            .await?;
        inc.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .context("the declared incident has no id")
    }

    /// Counts open incidents visible to the token, stopping once `enough` are seen.
    async fn count_open(&self, enough: u64) -> Result<u64> {
        let mut seen = 0u64;
        let mut cursor: Option<String> = None;
        loop {
            let mut url = self.url("/api/v1/incidents?status=open&limit=500")?;
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair("cursor", c);
            }
            let page = self.setup(Method::GET, url, None).await?;
            let n = page
                .get("incidents")
                .and_then(Value::as_array)
                .context("list answer has no incidents")?
                .len();
            seen += n as u64;
            let next = page
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if seen >= enough || n == 0 || next.is_none() || next == cursor {
                return Ok(seen);
            }
            cursor = next;
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let base = Url::parse(&args.url).with_context(|| format!("--url {:?}", args.url))?;
    check_loopback(&base).await?;
    let concurrency = usize::try_from(args.concurrency).context("--concurrency")?;
    let client = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(args.timeout))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let api = Arc::new(Api {
        client,
        base,
        token: args.token.clone(),
    });
    #[allow(clippy::disallowed_methods)] // a benchmark report, not domain time
    let started_at = jiff::Timestamp::now();
    // Unique per run, so titles never repeat across runs against the same server.
    let tag = format!(
        "{}-{}",
        started_at.strftime("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id()
    );

    // Untimed set-up.
    let (target, setup_note) = match args.scenario {
        Scenario::Declare => (
            Target {
                method: Method::POST,
                url: api.url("/api/v1/incidents")?,
                body: declare_body,
            },
            String::new(),
        ),
        Scenario::Note => {
            let id = api.declare(&format!("loadgen {tag} hot incident")).await?;
            (
                Target {
                    method: Method::POST,
                    url: api.url(&format!("/api/v1/incidents/{id}/notes"))?,
                    body: note_body,
                },
                format!("hot incident {id}"),
            )
        }
        Scenario::Read => {
            let id = api.declare(&format!("loadgen {tag} read target")).await?;
            (
                Target {
                    method: Method::GET,
                    url: api.url(&format!("/api/v1/incidents/{id}"))?,
                    body: no_body,
                },
                format!("incident {id}"),
            )
        }
        Scenario::List => {
            let have = api.count_open(args.list_incidents).await?;
            let missing = args.list_incidents.saturating_sub(have);
            seed(&api, &tag, missing, concurrency).await?;
            let now = api.count_open(u64::MAX).await?;
            (
                Target {
                    method: Method::GET,
                    url: api.url("/api/v1/incidents?status=open&limit=50")?,
                    body: no_body,
                },
                format!("{now} open incidents ({missing} seeded)"),
            )
        }
    };

    // Timed run: workers take request numbers from a shared counter until N are sent.
    let target = Arc::new(target);
    let tag = Arc::new(tag);
    let next = Arc::new(AtomicU64::new(0));
    let total = args.requests;
    let cpu_before = own_cpu_seconds();
    let begin = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (api, target, tag, next) = (api.clone(), target.clone(), tag.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut out = WorkerResult::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return out;
                }
                let body = (target.body)(&tag, i);
                let t0 = Instant::now();
                let res = api
                    .send(target.method.clone(), target.url.clone(), body.as_ref())
                    .await;
                out.samples.push(t0.elapsed());
                let (key, err) = match res {
                    Ok((s, _)) if s.is_success() => (s.as_u16().to_string(), None),
                    Ok((s, text)) => (
                        s.as_u16().to_string(),
                        Some(format!("{s}: {}", text.trim())),
                    ),
                    Err(e) => ("transport".to_string(), Some(format!("{e:#}"))),
                };
                *out.statuses.entry(key).or_default() += 1;
                if out.first_error.is_none() {
                    out.first_error = err;
                }
            }
        }));
    }
    let mut samples = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_error = None;
    for w in workers {
        let r = w.await.context("a worker panicked")?;
        samples.extend(r.samples);
        for (k, v) in r.statuses {
            *statuses.entry(k).or_default() += v;
        }
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    let elapsed = begin.elapsed();
    let cpu = own_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let errors: u64 = statuses
        .iter()
        .filter(|(k, _)| !k.starts_with('2'))
        .map(|(_, v)| v)
        .sum();
    let lat = Latencies::from_samples(samples).context("no samples")?;
    let rps = total as f64 / elapsed.as_secs_f64();

    if args.json {
        let report = json!({
            "scenario": args.scenario.name(),
            "url": api.base.as_str(),
            "started_at": started_at.to_string(),
            "setup": setup_note,
            "requests": total,
            "concurrency": args.concurrency,
            "seconds": elapsed.as_secs_f64(),
            "rps": rps,
            "errors": errors,
            "statuses": statuses,
            "first_error": first_error,
            "client_cpu_seconds": cpu,
            "latency_ms": {
                "p50": ms(lat.p50),
                "p90": ms(lat.p90),
                "p99": ms(lat.p99),
                "max": ms(lat.max),
                "mean": ms(lat.mean),
            },
        });
        println!("{report}");
    } else {
        println!(
            "{} c={} n={}: {:.1} req/s in {:.2} s, latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}{}{}",
            args.scenario.name(),
            args.concurrency,
            total,
            rps,
            elapsed.as_secs_f64(),
            ms(lat.p50),
            ms(lat.p90),
            ms(lat.p99),
            ms(lat.max),
            errors,
            if errors > 0 {
                format!(" {statuses:?}")
            } else {
                String::new()
            },
            if setup_note.is_empty() {
                String::new()
            } else {
                format!(" [{setup_note}]")
            }
        );
    }
    if let Some(e) = first_error {
        eprintln!("warning: {errors} of {total} requests failed; first: {e}");
    }
    Ok(())
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (Linux; `None`
/// elsewhere). Ticks are taken as 1/100 s, the `USER_HZ` of every mainstream Linux build.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat).map(|ticks| ticks as f64 / 100.0)
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field 2)
/// is in parentheses and may contain spaces, so fields are counted after its closing `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // field 3 is the first after ')'
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Declares `count` incidents (untimed) with `concurrency` in flight.
async fn seed(api: &Arc<Api>, tag: &str, count: u64, concurrency: usize) -> Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(usize::try_from(count).unwrap_or(usize::MAX)) {
        let (api, next, tag) = (api.clone(), next.clone(), tag.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                api.declare(&format!("loadgen {tag} seed #{i}")).await?;
            }
        }));
    }
    for t in tasks {
        t.await.context("a seeding task panicked")??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_accepted() {
        assert_eq!(classify_host("127.0.0.1"), HostKind::Loopback);
        assert_eq!(classify_host("[::1]"), HostKind::Loopback);
        assert_eq!(classify_host("localhost"), HostKind::Localhost);
        for bad in [
            "10.0.0.1",
            "example.com",
            "127.0.0.2",
            "0.0.0.0",
            "[::]",
            "localhost.example",
        ] {
            assert_eq!(classify_host(bad), HostKind::Other, "{bad}");
        }
    }

    #[test]
    fn the_url_parser_normalises_loopback_spellings() {
        // What users may type ends up as a host string classify_host knows.
        for (typed, host) in [
            ("http://[0:0:0:0:0:0:0:1]:80/", "[::1]"),
            ("http://LOCALHOST:8080/", "localhost"),
            ("http://127.0.0.1:8080/", "127.0.0.1"),
        ] {
            let url = Url::parse(typed).expect("valid URL");
            assert_eq!(url.host_str(), Some(host), "{typed}");
        }
    }

    #[tokio::test]
    async fn remote_urls_are_refused() {
        for bad in [
            "http://example.com:8080",
            "http://10.1.2.3:80",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "ftp://127.0.0.1/",
            "http://localhost.example.com/",
        ] {
            let url = Url::parse(bad).expect("valid URL");
            assert!(check_loopback(&url).await.is_err(), "{bad} was accepted");
        }
        for ok in [
            "http://127.0.0.1:8080",
            "http://[::1]:8080/",
            "https://127.0.0.1/",
        ] {
            let url = Url::parse(ok).expect("valid URL");
            assert!(check_loopback(&url).await.is_ok(), "{ok} was refused");
        }
    }

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let line = "4242 (warroom loadgen) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 75 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";
        assert_eq!(parse_cpu_ticks(line), Some(325));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        assert!(own_cpu_seconds().is_none_or(|s| s >= 0.0));
    }

    #[test]
    fn bodies_are_unique_per_request() {
        assert_ne!(declare_body("t", 1), declare_body("t", 2));
        assert_ne!(declare_body("a", 1), declare_body("b", 1));
        assert_eq!(no_body("t", 1), None);
        let b = declare_body("t", 1).expect("body");
        assert_eq!(b["severity"], "P2");
    }
}
