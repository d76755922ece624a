//! `warroom-loadgen`: a bounded HTTP load generator for a Warroom server on this machine.
//!
//! It sends exactly `--requests` requests of one scenario with `--concurrency` workers over
//! keep-alive connections, times each request from send to the last byte of the answer, and
//! reports throughput, latency percentiles (from every sample) and errors (any answer that is
//! not 2xx, and transport failures). Set-up requests (declaring the hot incident, seeding
//! incidents for `list`) are not timed.
//!
//! Alert ingestion: `pd-unique` and `pd-repeat` send one PagerDuty Events API v2 trigger per
//! request to Warroom's `POST /v2/enqueue`; `am-alerts` and `am-batch` post to Prometheus
//! Alertmanager's own `POST /api/v2/alerts` (one alert, or `--batch` alerts, per request), so
//! the same tool measures both sides. A 429 is not an error: it is counted apart
//! (`throttled`), and for the PagerDuty scenarios the event is sent again after `Retry-After`
//! (as PagerDuty's clients do), so every event is accepted in the end; such an event's latency
//! runs from its first send to the accepted answer, waits included.
//!
//! `--rate R` paces the run: request `i` is due `i / R` seconds after the start, and its latency
//! is counted from when it was due, not from when a worker got round to it, so a stalled server
//! cannot hide its stall by slowing the client down (no coordinated omission). A thread of
//! its own releases each request when it is due: tokio's timer rounds every deadline up to the
//! next millisecond, which added up to a millisecond to every latency measured that way.
//!
//! It only talks to loopback addresses: it is a benchmark tool, not a way to load someone
//! else's server.

mod raw;
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
    /// Bearer token (responder or above); needed by declare, note, read and list.
    #[arg(
        long,
        env = "WARROOM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// Integration routing key (32 hex characters) for pd-unique and pd-repeat; it travels in
    /// the body, as in PagerDuty's Events API v2.
    #[arg(
        long,
        env = "WARROOM_ROUTING_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    routing_key: Option<String>,
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
    /// `pd-repeat`: how many dedup keys the triggers cycle over.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    dedup_keys: u64,
    /// `am-batch`: alerts per request (each request counts this many events).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    batch: u64,
    /// Fixed rate, in requests per second (events per second when a request carries one
    /// event); latency counts from when each request was due. Without it, every worker sends
    /// its next request as soon as the previous one is answered.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    rate: Option<f64>,
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
    /// POST /v2/enqueue: a PagerDuty v2 trigger with a new dedup key per request.
    PdUnique,
    /// POST /v2/enqueue: PagerDuty v2 triggers cycling over `--dedup-keys` dedup keys.
    PdRepeat,
    /// Alertmanager's POST /api/v2/alerts: one new alert per request.
    AmAlerts,
    /// Alertmanager's POST /api/v2/alerts: `--batch` new alerts per request.
    AmBatch,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Declare => "declare",
            Scenario::Note => "note",
            Scenario::Read => "read",
            Scenario::List => "list",
            Scenario::PdUnique => "pd-unique",
            Scenario::PdRepeat => "pd-repeat",
            Scenario::AmAlerts => "am-alerts",
            Scenario::AmBatch => "am-batch",
        }
    }

    /// The scenarios that talk to Warroom's incident API with a bearer token.
    fn needs_token(self) -> bool {
        matches!(
            self,
            Scenario::Declare | Scenario::Note | Scenario::Read | Scenario::List
        )
    }

    /// PagerDuty senders retry a 429 after `Retry-After`; the other scenarios only count it.
    fn retries_throttled(self) -> bool {
        matches!(self, Scenario::PdUnique | Scenario::PdRepeat)
    }
}

/// `--rate`: a finite number of requests per second, above 0.
fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0 {
        Ok(rate)
    } else {
        Err(format!(
            "{text}: the rate must be above 0 and at most 10000000"
        ))
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
    /// Final answer per request (after retries): status code, or `transport`.
    statuses: BTreeMap<String, u64>,
    /// 429 answers, retried or not.
    throttled: u64,
    /// Requests sent again after a 429 (each counted once, however many retries it took).
    retried: u64,
    first_error: Option<String>,
}

/// Body builder: request index to the JSON body's bytes (None: no body).
type BodyFn = Box<dyn Fn(u64) -> Option<Vec<u8>> + Send + Sync>;

/// The fixed part of every timed request.
struct Target {
    method: Method,
    url: Url,
    body: BodyFn,
    /// Events one request carries (alerts in an Alertmanager batch; otherwise 1).
    events_per_request: u64,
    /// Send a request again after a 429 and its `Retry-After`.
    retry_throttled: bool,
}

/// A 429 is retried at most this many times for one request before it counts as an error.
const MAX_THROTTLED_RETRIES: u32 = 1000;

/// The wait after a 429 without a usable `Retry-After` (seconds form only, as PagerDuty sends).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// `Retry-After` in its delay-seconds form; the HTTP-date form and garbage give `None`.
fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: u64 = value?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(300)))
}

fn to_bytes(v: Option<Value>) -> Option<Vec<u8>> {
    v.map(|v| v.to_string().into_bytes())
}

/// A PagerDuty Events API v2 trigger, about 400 bytes, as a monitoring tool would send it.
/// `host` varies the source so summaries are not all identical.
fn pd_trigger(routing_key: &str, dedup_key: &str, host: u64, i: u64) -> Value {
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": format!("Disk almost full on host-{host}: 3% free on /var"),
            "source": format!("host-{host}.loadgen.example"),
            "severity": "error",
            "component": "disk",
            "group": "loadgen",
            "class": "disk_full",
            "custom_details": {"free_percent": 3, "mount": "/var", "event": i},
        },
        "client": "warroom-loadgen",
    })
}

/// `pd-unique`: a dedup key no other request of any run uses.
fn pd_unique_body(routing_key: &str, tag: &str, i: u64) -> Value {
    pd_trigger(routing_key, &format!("loadgen-{tag}-{i}"), i % 1000, i)
}

/// `pd-repeat`: request `i` uses key `i mod keys` of this run, so after the first `keys`
/// requests every trigger lands on an open alert.
fn pd_repeat_body(routing_key: &str, tag: &str, keys: u64, i: u64) -> Value {
    let k = i % keys.max(1);
    pd_trigger(routing_key, &format!("loadgen-{tag}-r{k}"), k, i)
}

/// One Alertmanager API v2 alert with a label set no other alert of any run has. No
/// `startsAt`/`endsAt`: Alertmanager fills in now and now + resolve_timeout.
fn am_alert(tag: &str, i: u64) -> Value {
    json!({
        "labels": {
            "alertname": "LoadgenDiskFull",
            "job": "loadgen",
            "severity": "warning",
            "instance": format!("host-{i}.loadgen.example:9100"),
            "run": tag,
        },
        "annotations": {"summary": format!("Disk almost full on host-{i}: 3% free on /var")},
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=disk_free_percent%3C5",
    })
}

/// `am-alerts` (`batch` 1) and `am-batch`: request `i` carries alerts `i*batch ..
/// (i+1)*batch`, a JSON array as `POST /api/v2/alerts` takes it.
fn am_batch_body(tag: &str, batch: u64, i: u64) -> Value {
    Value::Array(
        (i * batch..(i + 1) * batch)
            .map(|n| am_alert(tag, n))
            .collect(),
    )
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
    /// Sent as a bearer token when present.
    token: Option<String>,
}

/// One answer: status, the `Retry-After` header if any, and the body.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    text: String,
}

impl Api {
    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .with_context(|| format!("joining {path} to the base URL"))
    }

    async fn send(&self, method: Method, url: Url, body: Option<&[u8]>) -> Result<Answer> {
        let mut req = self.client.request(method, url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        let resp = req.send().await?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().await?;
        Ok(Answer {
            status,
            retry_after,
            text,
        })
    }

    /// An untimed set-up call that must succeed; returns the JSON answer.
    async fn setup(&self, method: Method, url: Url, body: Option<Value>) -> Result<Value> {
        let what = format!("set-up {method} {}", url.path());
        let bytes = to_bytes(body);
        let Answer { status, text, .. } = self
            .send(method, url, bytes.as_deref())
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
    ensure!(
        !args.scenario.needs_token() || args.token.is_some(),
        "--token (or WARROOM_TOKEN) is needed for the {} scenario",
        args.scenario.name()
    );
    let routing_key = match args.scenario {
        Scenario::PdUnique | Scenario::PdRepeat => Some(
            args.routing_key
                .clone()
                .filter(|k| !k.is_empty())
                .with_context(|| {
                    format!(
                        "--routing-key (or WARROOM_ROUTING_KEY) is needed for the {} scenario",
                        args.scenario.name()
                    )
                })?,
        ),
        _ => None,
    };
    let client = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(args.timeout))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let api = Arc::new(Api {
        client,
        base,
        // Alertmanager and PagerDuty's endpoint take no bearer token.
        token: args.token.clone().filter(|_| args.scenario.needs_token()),
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
    let simple = |method: Method, url: Url, body: fn(&str, u64) -> Option<Value>| {
        let tag = tag.clone();
        Target {
            method,
            url,
            body: Box::new(move |i| to_bytes(body(&tag, i))),
            events_per_request: 1,
            retry_throttled: false,
        }
    };
    let (target, setup_note) = match args.scenario {
        Scenario::Declare => (
            simple(Method::POST, api.url("/api/v1/incidents")?, declare_body),
            String::new(),
        ),
        Scenario::Note => {
            let id = api.declare(&format!("loadgen {tag} hot incident")).await?;
            (
                simple(
                    Method::POST,
                    api.url(&format!("/api/v1/incidents/{id}/notes"))?,
                    note_body,
                ),
                format!("hot incident {id}"),
            )
        }
        Scenario::Read => {
            let id = api.declare(&format!("loadgen {tag} read target")).await?;
            (
                simple(
                    Method::GET,
                    api.url(&format!("/api/v1/incidents/{id}"))?,
                    no_body,
                ),
                format!("incident {id}"),
            )
        }
        Scenario::List => {
            let have = api.count_open(args.list_incidents).await?;
            let missing = args.list_incidents.saturating_sub(have);
            seed(&api, &tag, missing, concurrency).await?;
            let now = api.count_open(u64::MAX).await?;
            (
                simple(
                    Method::GET,
                    api.url("/api/v1/incidents?status=open&limit=50")?,
                    no_body,
                ),
                format!("{now} open incidents ({missing} seeded)"),
            )
        }
        Scenario::PdUnique | Scenario::PdRepeat => {
            let (key, tag) = (routing_key.clone().unwrap_or_default(), tag.clone());
            let body: BodyFn = if args.scenario == Scenario::PdUnique {
                Box::new(move |i| to_bytes(Some(pd_unique_body(&key, &tag, i))))
            } else {
                let keys = args.dedup_keys;
                Box::new(move |i| to_bytes(Some(pd_repeat_body(&key, &tag, keys, i))))
            };
            (
                Target {
                    method: Method::POST,
                    url: api.url("/v2/enqueue")?,
                    body,
                    events_per_request: 1,
                    retry_throttled: args.scenario.retries_throttled(),
                },
                if args.scenario == Scenario::PdRepeat {
                    format!("{} dedup keys", args.dedup_keys)
                } else {
                    String::new()
                },
            )
        }
        Scenario::AmAlerts | Scenario::AmBatch => {
            let batch = if args.scenario == Scenario::AmBatch {
                args.batch
            } else {
                1
            };
            let tag = tag.clone();
            (
                Target {
                    method: Method::POST,
                    url: api.url("/api/v2/alerts")?,
                    body: Box::new(move |i| to_bytes(Some(am_batch_body(&tag, batch, i)))),
                    events_per_request: batch,
                    retry_throttled: false,
                },
                format!("{batch} alerts per request"),
            )
        }
    };

    // Timed run: workers take request numbers from a shared counter until N are sent.
    let target = Arc::new(target);
    let next = Arc::new(AtomicU64::new(0));
    let total = args.requests;
    let rate = args.rate;
    let cpu_before = own_cpu_seconds();
    let begin = Instant::now();
    let paced = rate.map(|r| Arc::new(tokio::sync::Mutex::new(pace(begin, r, total))));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (api, target, next) = (api.clone(), target.clone(), next.clone());
        let paced = paced.clone();
        // Plain http goes through the lean client (see `raw`); https through reqwest.
        let mut raw = raw::RawConn::new(&target.url, api.token.as_deref()).ok();
        workers.push(tokio::spawn(async move {
            let mut out = WorkerResult::default();
            loop {
                let (i, t0) = match (&paced, rate) {
                    (Some(paced), Some(r)) => match paced.lock().await.recv().await {
                        Some(i) => (i, begin + due_after(i, r)),
                        None => return out,
                    },
                    _ => (next.fetch_add(1, Ordering::Relaxed), Instant::now()),
                };
                if i >= total {
                    return out;
                }
                let body = (target.body)(i);
                let mut retries = 0u32;
                let (key, err) = loop {
                    let res = match &mut raw {
                        Some(conn) => conn.send(&target.method, body.as_deref()).await,
                        None => {
                            api.send(target.method.clone(), target.url.clone(), body.as_deref())
                                .await
                        }
                    };
                    match res {
                        Ok(a) if a.status.is_success() => {
                            break (a.status.as_u16().to_string(), None);
                        }
                        Ok(a) if a.status == StatusCode::TOO_MANY_REQUESTS => {
                            out.throttled += 1;
                            if target.retry_throttled && retries < MAX_THROTTLED_RETRIES {
                                if retries == 0 {
                                    out.retried += 1;
                                }
                                retries += 1;
                                let wait = parse_retry_after(a.retry_after.as_deref())
                                    .unwrap_or(DEFAULT_RETRY_AFTER);
                                tokio::time::sleep(wait).await;
                                continue;
                            }
                            let err = target
                                .retry_throttled
                                .then(|| format!("429 after {retries} retries: {}", a.text.trim()));
                            break ("429".to_string(), err);
                        }
                        Ok(a) => {
                            break (
                                a.status.as_u16().to_string(),
                                Some(format!("{}: {}", a.status, a.text.trim())),
                            );
                        }
                        Err(e) => break ("transport".to_string(), Some(format!("{e:#}"))),
                    }
                };
                out.samples.push(t0.elapsed());
                *out.statuses.entry(key).or_default() += 1;
                if out.first_error.is_none() {
                    out.first_error = err;
                }
            }
        }));
    }
    let mut samples = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let (mut throttled, mut retried) = (0u64, 0u64);
    let mut first_error = None;
    for w in workers {
        let r = w.await.context("a worker panicked")?;
        samples.extend(r.samples);
        for (k, v) in r.statuses {
            *statuses.entry(k).or_default() += v;
        }
        throttled += r.throttled;
        retried += r.retried;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    let elapsed = begin.elapsed();
    let cpu = own_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let errors = count_errors(&statuses, target.retry_throttled);
    let lat = Latencies::from_samples(samples).context("no samples")?;
    let rps = total as f64 / elapsed.as_secs_f64();
    let events = total * target.events_per_request;
    let eps = events as f64 / elapsed.as_secs_f64();

    if args.json {
        let report = json!({
            "scenario": args.scenario.name(),
            "url": api.base.as_str(),
            "started_at": started_at.to_string(),
            "setup": setup_note,
            "requests": total,
            "concurrency": args.concurrency,
            "rate": rate,
            "seconds": elapsed.as_secs_f64(),
            "rps": rps,
            "events": events,
            "events_per_request": target.events_per_request,
            "eps": eps,
            "errors": errors,
            "throttled": throttled,
            "retried": retried,
            "statuses": statuses,
            "first_error": first_error,
            "client_cpu_seconds": cpu,
            "latency_ms": {
                "p50": ms(lat.p50),
                "p90": ms(lat.p90),
                "p99": ms(lat.p99),
                "p999": ms(lat.p999),
                "max": ms(lat.max),
                "mean": ms(lat.mean),
            },
        });
        println!("{report}");
    } else {
        println!(
            "{} c={} n={}{}: {:.1} req/s ({:.1} events/s) in {:.2} s, latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, 429s {} ({} requests retried), errors {}{}{}",
            args.scenario.name(),
            args.concurrency,
            total,
            rate.map(|r| format!(" rate={r}/s")).unwrap_or_default(),
            rps,
            eps,
            elapsed.as_secs_f64(),
            ms(lat.p50),
            ms(lat.p90),
            ms(lat.p99),
            ms(lat.p999),
            ms(lat.max),
            throttled,
            retried,
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

/// Request numbers `0..total`, each sent when it is due at `rate` per second after `begin`, by a
/// thread that sleeps with the system's timer (tens of microseconds late at most here).
fn pace(begin: Instant, rate: f64, total: u64) -> tokio::sync::mpsc::UnboundedReceiver<u64> {
    let (due, paced) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for i in 0..total {
            let at = begin + due_after(i, rate);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if due.send(i).is_err() {
                return;
            }
        }
    });
    paced
}

/// When request `i` is due after the start at `rate` requests per second.
fn due_after(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// Requests whose final answer was neither 2xx nor, where 429s are only counted (not
/// retried), a 429. A 429 that outlasted every retry is an error.
fn count_errors(statuses: &BTreeMap<String, u64>, retry_throttled: bool) -> u64 {
    statuses
        .iter()
        .filter(|(k, _)| !k.starts_with('2') && (retry_throttled || k.as_str() != "429"))
        .map(|(_, v)| v)
        .sum()
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
    fn pagerduty_bodies_follow_events_api_v2() {
        let key = "0123456789abcdef0123456789abcdef";
        let a = pd_unique_body(key, "t", 1);
        assert_eq!(a["routing_key"], key);
        assert_eq!(a["event_action"], "trigger");
        assert_eq!(a["payload"]["severity"], "error");
        assert!(
            a["payload"]["summary"]
                .as_str()
                .is_some_and(|s| s.len() <= 1024)
        );
        assert!(a["payload"]["source"].is_string());
        // Unique keys differ per request and per run; repeat keys cycle.
        assert_ne!(a["dedup_key"], pd_unique_body(key, "t", 2)["dedup_key"]);
        assert_ne!(a["dedup_key"], pd_unique_body(key, "u", 1)["dedup_key"]);
        assert_eq!(
            pd_repeat_body(key, "t", 100, 7)["dedup_key"],
            pd_repeat_body(key, "t", 100, 107)["dedup_key"]
        );
        assert_ne!(
            pd_repeat_body(key, "t", 100, 7)["dedup_key"],
            pd_repeat_body(key, "t", 100, 8)["dedup_key"]
        );
        let keys: std::collections::BTreeSet<String> = (0..1000)
            .map(|i| pd_repeat_body(key, "t", 100, i)["dedup_key"].to_string())
            .collect();
        assert_eq!(keys.len(), 100);
        // About the size of the anchors' 400-byte body.
        let len = a.to_string().len();
        assert!((300..=600).contains(&len), "{len} bytes");
    }

    #[test]
    fn alertmanager_batches_are_arrays_of_distinct_alerts() {
        let one = am_batch_body("t", 1, 5);
        assert_eq!(one.as_array().map(Vec::len), Some(1));
        let batch = am_batch_body("t", 100, 2);
        let alerts = batch.as_array().expect("array");
        assert_eq!(alerts.len(), 100);
        let instances: std::collections::BTreeSet<String> = alerts
            .iter()
            .map(|a| a["labels"]["instance"].to_string())
            .collect();
        assert_eq!(instances.len(), 100);
        // Batches do not overlap: request 2 of 100 starts at alert 200.
        assert_eq!(alerts[0], am_alert("t", 200));
        assert_eq!(alerts[99], am_alert("t", 299));
        assert!(alerts[0]["labels"]["alertname"].is_string());
        assert!(alerts[0].get("endsAt").is_none());
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(parse_retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(Some(" 0 ")), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(Some("99999")),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn throttled_answers_are_not_errors_unless_retries_ran_out() {
        let statuses: BTreeMap<String, u64> = [
            ("202".to_string(), 10),
            ("429".to_string(), 3),
            ("400".to_string(), 1),
            ("transport".to_string(), 2),
        ]
        .into();
        assert_eq!(count_errors(&statuses, false), 3);
        assert_eq!(count_errors(&statuses, true), 6);
    }

    #[test]
    fn rates_are_paced_and_validated() {
        assert_eq!(due_after(0, 2000.0), Duration::ZERO);
        assert_eq!(due_after(2000, 2000.0), Duration::from_secs(1));
        assert_eq!(due_after(1, 2000.0), Duration::from_micros(500));
        assert_eq!(parse_rate("2000"), Ok(2000.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "x", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scenario_names_match_the_command_line() {
        for s in Scenario::value_variants() {
            let value = s.to_possible_value().expect("visible");
            assert_eq!(value.get_name(), s.name());
        }
        assert!(Scenario::Declare.needs_token());
        assert!(!Scenario::PdUnique.needs_token());
        assert!(!Scenario::AmBatch.needs_token());
        assert!(Scenario::PdRepeat.retries_throttled());
        assert!(!Scenario::AmAlerts.retries_throttled());
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
