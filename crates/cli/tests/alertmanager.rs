//! End to end with a real sender: Debian's `prometheus-alertmanager` (0.25), configured like a
//! team would point it at Warroom, with two receivers on one route tree:
//!
//! - a `webhook_configs` receiver posting Alertmanager's webhook (version 4) to
//!   `POST /api/v1/alerts/alertmanager`, authenticated with the integration's routing key as a
//!   bearer token (`http_config.authorization`);
//! - a `pagerduty_configs` receiver whose `url` is Warroom's `POST /v2/enqueue` and whose
//!   `routing_key` is the same key (Alertmanager builds PagerDuty Events API v2 triggers and
//!   resolves from its alert group).
//!
//! The test posts a firing alert into Alertmanager's API v2 (`POST /api/v2/alerts`, as
//! Prometheus does), waits until Warroom has opened one incident on the integration's service
//! with both receivers' alerts attached, then posts the same alert with an `endsAt` in the past
//! and waits until both alerts are resolved in Warroom and the incident moved to `recovering`
//! (the `alerts.on_all_resolved` policy).
//!
//! Alertmanager is a real process on a free loopback port with its storage in a temporary
//! directory and clustering disabled. Every wait is bounded polling with a generous deadline;
//! nothing asserts how long delivery takes. When `prometheus-alertmanager` is not installed
//! the test fails and says how to install it (`bash test.sh` does).

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{BIN, Server, free_port};
use serde_json::{Value, json};

const POLL: Duration = Duration::from_millis(250);
/// Generous: Alertmanager waits `group_wait` (1 s) before its first notification, and the
/// machine may be busy with other builds.
const DEADLINE: Duration = Duration::from_secs(90);

/// The service the integration files alerts under; only this test's config knows it.
const SERVICE: &str = "checkout";
const ALERTNAME: &str = "CheckoutLatencyHigh";

// ---------------------------------------------------------------------------------------------
// A small blocking HTTP client over reqwest (a dependency of the binary already).

struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        // reqwest is built without a TLS provider of its own; an Err means one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("HTTP client");
        Http { rt, client }
    }

    /// Status and body text; a transport error is status 0 with the error as text.
    fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, String) {
        self.rt.block_on(async {
            let mut req = self.client.request(method, url);
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    (status, resp.text().await.unwrap_or_default())
                }
                Err(e) => (0, format!("{e:#}")),
            }
        })
    }

    fn get_json(&self, url: &str, bearer: Option<&str>) -> Value {
        let (status, text) = self.call(reqwest::Method::GET, url, bearer, None);
        assert_eq!(status, 200, "GET {url}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
    }
}

// ---------------------------------------------------------------------------------------------
// The real Alertmanager.

/// Debian's binary, or `WARROOM_TEST_ALERTMANAGER` when set. Missing: the test fails, since an
/// end-to-end test that skips itself silently proves nothing.
fn alertmanager_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WARROOM_TEST_ALERTMANAGER") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "WARROOM_TEST_ALERTMANAGER={} is not a file",
            path.display()
        );
        return path;
    }
    let mut candidates = vec![PathBuf::from("/usr/bin/prometheus-alertmanager")];
    if let Some(paths) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&paths).map(|d| d.join("prometheus-alertmanager")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "prometheus-alertmanager is not installed, and this end-to-end test needs the real \
             one: run `apt-get install -y prometheus-alertmanager` (Debian's package; `bash \
             test.sh` installs it when missing), or set WARROOM_TEST_ALERTMANAGER to an \
             Alertmanager binary"
            )
        })
}

/// Alertmanager's configuration: both receivers get every alert (`continue: true`), grouped
/// per alert name and service, notified 1 s after the first alert and at most every second
/// after that. `resolve_timeout` is short, but the firing alert carries an explicit `endsAt`
/// an hour ahead, so only the test's own resolve ends it.
fn alertmanager_config(warroom: &str, routing_key: &str) -> String {
    format!(
        r#"global:
  resolve_timeout: 10s
route:
  receiver: blackhole
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: warroom-webhook
      matchers: ['service="{SERVICE}"']
      continue: true
    - receiver: warroom-pagerduty
      matchers: ['service="{SERVICE}"']
      continue: true
receivers:
  - name: blackhole
  - name: warroom-webhook
    webhook_configs:
      - url: {warroom}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {routing_key}
  - name: warroom-pagerduty
    pagerduty_configs:
      - url: {warroom}/v2/enqueue
        routing_key: {routing_key}
        send_resolved: true
"#
    )
}

/// An Alertmanager child; killed on drop.
struct Alertmanager {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    fn start(http: &Http, config: &str) -> Alertmanager {
        let binary = alertmanager_binary();
        let dir = tempfile::tempdir().expect("tempdir");
        let config_file = dir.path().join("alertmanager.yml");
        fs::write(&config_file, config).expect("alertmanager.yml");
        let log = dir.path().join("alertmanager.log");
        let log_file = File::create(&log).expect("log file");
        let listen = format!("127.0.0.1:{}", free_port());
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            // No gossip: a single instance, no port 9094.
            .arg("--cluster.listen-address=")
            // Debug logs say what each notification attempt answered.
            .arg("--log.level=debug")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut am = Alertmanager {
            child,
            url: format!("http://{listen}"),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, _) = http.call(
                reqwest::Method::GET,
                &format!("{}/-/ready", am.url),
                None,
                None,
            );
            if status == 200 {
                break;
            }
            if let Ok(Some(status)) = am.child.try_wait() {
                panic!(
                    "{} exited with {status}; log:\n{}",
                    binary.display(),
                    am.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Alertmanager was not ready within 30 s; log:\n{}",
                am.log_text()
            );
            sleep(Duration::from_millis(100));
        }
        am
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn version(binary: &Path) -> String {
        Command::new(binary)
            .arg("--version")
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or_default().to_string()
            })
            .unwrap_or_default()
    }

    /// `POST /api/v2/alerts`, as Prometheus sends them; Alertmanager answers 200.
    fn post_alerts(&self, http: &Http, alerts: &Value) {
        let url = format!("{}/api/v2/alerts", self.url);
        let (status, text) = http.call(reqwest::Method::POST, &url, None, Some(alerts));
        assert_eq!(status, 200, "POST {url}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Warroom.

/// The built-in configuration (`warroom init`) with a `checkout` service added and the alert
/// policy spelled out: alerts open incidents, and an incident whose alerts have all resolved
/// moves to recovering.
fn write_config(dir: &Path) {
    let out = Command::new(BIN)
        .arg("init")
        .arg(dir)
        .output()
        .expect("run warroom init");
    assert!(
        out.status.success(),
        "warroom init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let services = dir.join("services.yaml");
    let mut text = fs::read_to_string(&services).expect("services.yaml from warroom init");
    text.push_str(&format!(
        "  - id: {SERVICE}\n    name: Checkout\n    description: Cart and checkout (alert ingestion test).\n"
    ));
    fs::write(&services, text).expect("services.yaml");
    fs::write(
        dir.join("alerts.yaml"),
        "alerts:\n  open_incidents: true\n  on_all_resolved: recovering\nrouting_rules: []\n",
    )
    .expect("alerts.yaml");
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(dir)
        .output()
        .expect("run warroom config check");
    assert!(
        out.status.success(),
        "config check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Warroom's alerts on the test's service (`GET /api/v1/alerts`, admin token).
fn service_alerts(http: &Http, server: &Server, token: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/alerts?service={SERVICE}", server.url);
    let list = http.get_json(&url, Some(token));
    list["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /api/v1/alerts has no `alerts` array: {list}"))
        .iter()
        .filter(|a| a["service"] == SERVICE)
        .cloned()
        .collect()
}

/// The one incident all of `alerts` are attached to, if they all are attached to the same one.
fn common_incident(alerts: &[Value]) -> Option<String> {
    let first = alerts.first()?["incident_id"].as_str()?.to_string();
    alerts
        .iter()
        .all(|a| a["incident_id"].as_str() == Some(first.as_str()))
        .then_some(first)
}

/// The incident itself from `warroom show` (which also prints its events and tasks).
fn incident(server: &Server, id: &str) -> Value {
    server.ok_json(&["show", id])["incident"].clone()
}

fn timeline_kinds(server: &Server, id: &str) -> Vec<String> {
    server.ok_json(&["timeline", id])["events"]
        .as_array()
        .expect("timeline events")
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect()
}

/// Polls `done` until it gives a value or `DEADLINE` passes; the failure message has both
/// processes' logs and what `state` last said.
fn wait_for<T>(
    what: &str,
    server: &Server,
    am: &Alertmanager,
    mut state: impl FnMut() -> (Option<T>, String),
) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (done, last) = state();
        if let Some(v) = done {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}; last seen: {last}\n\
             --- Alertmanager log:\n{}\n--- Warroom log:\n{}",
            am.log_text(),
            server.log_text()
        );
        sleep(POLL);
    }
}

/// Wall-clock time as RFC 3339, `offset` seconds from now. Alertmanager decides whether an
/// alert fires or has resolved by comparing `endsAt` with its own clock, so the test has to
/// speak in real times here.
fn rfc3339_from_now(offset_secs: i64) -> String {
    #[allow(clippy::disallowed_methods)] // Alertmanager's clock is the wall clock
    let now = jiff::Timestamp::now();
    (now + jiff::SignedDuration::from_secs(offset_secs)).to_string()
}

fn alert(ends_at: &str) -> Value {
    json!([{
        "labels": {
            "alertname": ALERTNAME,
            "service": SERVICE,
            "severity": "critical",
            "instance": "checkout-1.example:9100",
        },
        "annotations": {
            "summary": "Checkout p99 latency above 2 s",
            "description": "p99 of POST /checkout has been above 2 s for 5 minutes.",
        },
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=checkout_p99%3E2",
    }])
}

#[test]
fn alertmanager_webhook_and_pagerduty_receivers_open_and_settle_an_incident() {
    let http = Http::new();
    let binary = alertmanager_binary();
    eprintln!(
        "using {} ({})",
        binary.display(),
        Alertmanager::version(&binary)
    );

    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("config");
    write_config(&config);
    let config_arg = config.to_str().expect("UTF-8 temp path");
    let server = Server::start_with(&["--config", config_arg]);
    let token = fs::read_to_string(server.data_dir.join("admin.token"))
        .expect("admin token")
        .trim()
        .to_string();

    let integration = server.ok_json(&[
        "integration",
        "create",
        "--service",
        SERVICE,
        "--name",
        "alertmanager",
    ]);
    assert_eq!(integration["service"], SERVICE, "{integration}");
    let key = integration["routing_key"]
        .as_str()
        .unwrap_or_else(|| panic!("no routing_key: {integration}"))
        .to_string();
    assert!(
        key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "routing key {key:?} is not 32 hex characters"
    );

    let am = Alertmanager::start(&http, &alertmanager_config(&server.url, &key));
    assert!(
        service_alerts(&http, &server, &token).is_empty(),
        "no alerts before Alertmanager sends any"
    );

    // Firing: the alert stays firing until the test resolves it.
    am.post_alerts(&http, &alert(&rfc3339_from_now(3600)));

    // Both receivers deliver: one alert from the webhook (by fingerprint), one from the
    // PagerDuty receiver (dedup key = SHA-256 of the group key), both on the one incident that
    // the first of them opened.
    let (alerts, incident_id) = wait_for(
        "both receivers' alerts attached to one incident",
        &server,
        &am,
        || {
            let alerts = service_alerts(&http, &server, &token);
            let done = (alerts.len() >= 2)
                .then(|| common_incident(&alerts))
                .flatten()
                .map(|id| (alerts.clone(), id));
            (done, format!("{alerts:#?}"))
        },
    );
    assert_eq!(alerts.len(), 2, "one alert per receiver: {alerts:#?}");
    for a in &alerts {
        assert_eq!(a["status"], "triggered", "{a}");
    }
    let mut kinds: Vec<&str> = alerts
        .iter()
        .map(|a| a["kind"].as_str().unwrap_or_default())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["alertmanager", "pagerduty"],
        "one alert per receiver: {alerts:#?}"
    );
    for a in &alerts {
        let key = a["dedup_key"].as_str().expect("dedup_key");
        if a["kind"] == "pagerduty" {
            // Alertmanager's PagerDuty receiver keys events by the SHA-256 of the group key.
            assert!(
                key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
                "the PagerDuty receiver's dedup key: {a}"
            );
        }
    }
    let opened = incident(&server, &incident_id);
    assert_eq!(
        opened["services"],
        json!([SERVICE]),
        "the incident is on the integration's service: {opened}"
    );
    let status = opened["status"].as_str().unwrap_or_default().to_string();
    assert!(
        ["triage", "investigating", "contained"].contains(&status.as_str()),
        "a fresh incident is being worked, not {status}: {opened}"
    );
    assert!(
        timeline_kinds(&server, &incident_id).contains(&"alerts_attached".to_string()),
        "the timeline records the attached alerts"
    );
    // An alert storm of one group opens one incident, not one per receiver.
    let list = server.ok_json(&["list", "--all"]);
    let on_service: Vec<&Value> = list["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .filter(|i| {
            i["services"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s == SERVICE))
        })
        .collect();
    assert_eq!(
        on_service.len(),
        1,
        "one incident on {SERVICE}: {on_service:#?}"
    );

    // Resolved: the same alert with an end in the past.
    am.post_alerts(&http, &alert(&rfc3339_from_now(-1)));

    let settled = wait_for(
        "both alerts resolved and the incident recovering",
        &server,
        &am,
        || {
            let alerts = service_alerts(&http, &server, &token);
            let inc = incident(&server, &incident_id);
            let all_resolved =
                alerts.len() == 2 && alerts.iter().all(|a| a["status"] == "resolved");
            let done = (all_resolved && inc["status"] == "recovering").then(|| inc.clone());
            (
                done,
                format!("incident status {}; alerts {alerts:#?}", inc["status"]),
            )
        },
    );
    assert_eq!(settled["id"], incident_id.as_str());
    let kinds = timeline_kinds(&server, &incident_id);
    assert!(
        kinds.contains(&"alerts_resolved".to_string()),
        "the timeline records that every alert resolved: {kinds:?}"
    );
    // Still attached to the same incident, and people, not alerts, resolve incidents.
    let alerts = service_alerts(&http, &server, &token);
    assert_eq!(
        common_incident(&alerts).as_deref(),
        Some(incident_id.as_str()),
        "{alerts:#?}"
    );
    let list = server.ok_json(&["list", "--all"]);
    let count = list["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .filter(|i| {
            i["services"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s == SERVICE))
        })
        .count();
    assert_eq!(count, 1, "resolving opened nothing new");
}
