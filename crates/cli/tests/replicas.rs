//! Durable timers and the outbox through real `warroom serve` processes, in real time: two
//! servers on one PostgreSQL database fire each timer once between them and deliver each page
//! once, and a server killed (SIGKILL) mid-escalation picks the escalation up after a restart
//! without losing or doubling anything. A real HTTP receiver on 127.0.0.1 records every page with
//! its `X-Warroom-Idempotency-Key`.
//!
//! The configs use second-long acknowledgement targets and escalation waits, so every wait here
//! is bounded polling of real processes with generous deadlines; nothing asserts exact timing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{BIN, free_port, health_ok};
use jiff::Timestamp;
use serde_json::Value;

const POLL: Duration = Duration::from_millis(200);
const IDEMPOTENCY_HEADER: &str = "x-warroom-idempotency-key";

// ---------------------------------------------------------------------------------------------
// The receiver: a plain HTTP/1.1 server that answers 200 to every request and records the
// idempotency key of each.

#[derive(Clone)]
struct Receiver {
    url: String,
    keys: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let receiver = Receiver {
            url: format!("http://{addr}/hook"),
            keys: Arc::default(),
        };
        let keys = receiver.keys.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let keys = keys.clone();
                std::thread::spawn(move || serve_connection(stream, &keys));
            }
        });
        receiver
    }

    /// Requests answered 200, per idempotency key.
    fn successes(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for key in self.keys.lock().expect("receiver log").iter() {
            *out.entry(key.clone()).or_insert(0) += 1;
        }
        out
    }
}

/// Serves requests on one (keep-alive) connection until the client closes it.
fn serve_connection(stream: TcpStream, keys: &Mutex<Vec<String>>) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut length = 0usize;
        let mut key = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse().unwrap_or(0);
                } else if name == IDEMPOTENCY_HEADER {
                    key = value.trim().to_string();
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        // Recorded before answering: a sender that sees the 200 has been counted.
        keys.lock().expect("receiver log").push(key);
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Config: P1 misses its acknowledgement target after 2 s, which pages step 1 (bob) at once;
// `step1_wait` later step 2 (the team: alice, bob, carol); 2 s after that the escalation is
// exhausted. Step 0 (alice, at declaration) waits longer than the target, so its own timer is
// stale by the time it is due.

fn write_config(dir: &Path, hook: &str, step1_wait: &str) {
    fs::create_dir_all(dir).expect("config dir");
    let severities = "severities:\n".to_string()
        + &["P0", "P1", "P2", "P3"]
            .iter()
            .map(|id| {
                let (ack, pages) = match *id {
                    "P0" | "P1" => ("2s", true),
                    _ => ("1h", false),
                };
                format!(
                    "  - id: {id}\n    name: Level {id}\n    description: Test level.\n    \
                     acknowledge_within: {ack}\n    update_every: 1h\n    rto: 4h\n    pages: {pages}\n"
                )
            })
            .collect::<String>();
    fs::write(dir.join("severities.yaml"), severities).expect("severities.yaml");
    let person = |id: &str| {
        format!(
            "  - id: {id}\n    name: {id}\n    time_zone: UTC\n    contact_methods:\n      \
             - id: hook\n        type: webhook\n        address: {hook}\n    \
             notification_rules:\n      - contact_method: hook\n        after_minutes: 0\n"
        )
    };
    let people = format!(
        "people:\n{}{}{}",
        person("alice"),
        person("bob"),
        person("carol")
    );
    fs::write(dir.join("people.yaml"), people).expect("people.yaml");
    fs::write(
        dir.join("teams.yaml"),
        "teams:\n  - id: ops\n    name: Ops\n    members: [alice, bob, carol]\n",
    )
    .expect("teams.yaml");
    fs::write(dir.join("schedules.yaml"), "schedules: []\n").expect("schedules.yaml");
    let policies = format!(
        "escalation_policies:\n  - id: default\n    name: Test escalation\n    steps:\n      \
         - targets: [{{person: alice}}]\n        escalate_after: 30s\n      \
         - targets: [{{person: bob}}]\n        escalate_after: {step1_wait}\n      \
         - targets: [{{team: ops}}]\n        escalate_after: 2s\n    repeat: 0\n"
    );
    fs::write(dir.join("escalation_policies.yaml"), policies).expect("escalation_policies.yaml");
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

/// Pages one incident sends in total with this config: alice, bob, then alice, bob, carol.
const PAGES_PER_INCIDENT: usize = 5;

// ---------------------------------------------------------------------------------------------
// A `warroom serve` process that can be killed and started again on the same data directory.

struct Replica {
    child: Option<Child>,
    url: String,
    listen: String,
    data_dir: PathBuf,
    config_dir: PathBuf,
    database_url: Option<String>,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Replica {
    /// Starts `warroom serve`; waits until it is healthy and `DATA_DIR/admin.token` exists (the
    /// first server on a database writes it; for others, the test copies it there first).
    fn start(
        data_dir: &Path,
        config_dir: &Path,
        database_url: Option<&str>,
        log: &Path,
    ) -> Replica {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut replica = Replica {
            child: None,
            url: format!("http://{listen}"),
            listen,
            data_dir: data_dir.to_path_buf(),
            config_dir: config_dir.to_path_buf(),
            database_url: database_url.map(str::to_string),
            log: log.to_path_buf(),
        };
        replica.spawn();
        replica
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", &self.listen, "--data-dir"])
            .arg(&self.data_dir)
            .arg("--config")
            .arg(&self.config_dir)
            .env("RUST_LOG", "info")
            .env_remove("WARROOM_DATABASE_URL")
            .env_remove("WARROOM_SMTP_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        self.child = Some(cmd.spawn().expect("start warroom serve"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if health_ok(&self.listen) && self.data_dir.join("admin.token").exists() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "warroom serve exited with {status}; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "warroom serve did not become healthy within 30 s; log:\n{}",
                self.log_text()
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again with the same data directory, database and address.
    fn restart(&mut self) {
        self.spawn();
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("WARROOM_URL", &self.url)
            .env_remove("WARROOM_TOKEN")
            .stdin(Stdio::null())
            .output()
            .expect("run warroom")
    }

    fn ok_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "warroom {all:?} failed ({}):\nstderr: {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{all:?}: not JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    fn timeline(&self, id: &str) -> Vec<Value> {
        self.ok_json(&["timeline", id])["events"]
            .as_array()
            .expect("events")
            .clone()
    }

    fn deliveries(&self, id: &str) -> Vec<Value> {
        self.ok_json(&["deliveries", id])["deliveries"]
            .as_array()
            .expect("deliveries")
            .clone()
    }

    fn declare_p1(&self, title: &str) -> String {
        let declared = self.ok_json(&["declare", "--title", title, "--severity", "P1"]);
        declared["id"].as_str().expect("incident id").to_string()
    }

    fn assert_verified(&self) {
        let verified = self.ok_json(&["verify"]);
        assert_eq!(verified["ok"], true, "verify: {verified}");
        assert_eq!(verified["broken"], serde_json::json!([]), "{verified}");
    }
}

/// Polls `done` every 200 ms until it returns true or `limit` passes.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        sleep(POLL);
    }
}

fn kinds<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

fn paged_steps(events: &[Value]) -> Vec<u64> {
    kinds(events, "paged")
        .iter()
        .map(|e| e["data"]["step"].as_u64().expect("step"))
        .collect()
}

fn at(event: &Value) -> Timestamp {
    event["at"]
        .as_str()
        .expect("at")
        .parse()
        .expect("a timestamp")
}

/// The escalation ran to its end once: one missed target, steps 0, 1, 2 each paged once and in
/// order, one `escalation_exhausted`, and no event twice.
fn assert_one_full_escalation(id: &str, events: &[Value]) {
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "{id}: seq numbers"
    );
    assert_eq!(
        kinds(events, "acknowledge_target_missed").len(),
        1,
        "{id}: one missed target: {events:#?}"
    );
    let steps = paged_steps(events);
    assert!(
        steps.windows(2).all(|w| w[0] < w[1]),
        "{id}: paged steps must strictly increase: {steps:?}"
    );
    assert_eq!(steps, [0, 1, 2], "{id}: each step paged once");
    assert_eq!(
        kinds(events, "escalation_exhausted").len(),
        1,
        "{id}: one escalation_exhausted: {events:#?}"
    );
    let paged_people: usize = kinds(events, "paged")
        .iter()
        .map(|e| e["data"]["people"].as_array().expect("people").len())
        .sum();
    assert_eq!(paged_people, PAGES_PER_INCIDENT, "{id}: pages");
}

/// Every message in the outbox of these incidents was delivered, and the receiver got each
/// idempotency key exactly once, and nothing else.
fn assert_each_page_received_once(server: &Replica, ids: &[String], receiver: &Receiver) {
    let mut expected = BTreeSet::new();
    for id in ids {
        let deliveries = server.deliveries(id);
        assert_eq!(
            deliveries.len(),
            PAGES_PER_INCIDENT,
            "{id}: {deliveries:#?}"
        );
        for d in deliveries {
            assert_eq!(d["status"], "delivered", "{id}: {d}");
            let key = d["id"].as_str().expect("message id").to_string();
            assert!(expected.insert(key), "{id}: message ids are unique");
        }
    }
    let got = receiver.successes();
    let doubled: Vec<_> = got.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        doubled.is_empty(),
        "keys received more than once: {doubled:?}"
    );
    let received: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(received, expected, "the receiver got exactly the outbox");
}

fn all_delivered(server: &Replica, ids: &[String]) -> bool {
    ids.iter().all(|id| {
        let deliveries = server.deliveries(id);
        deliveries.len() == PAGES_PER_INCIDENT
            && deliveries.iter().all(|d| d["status"] == "delivered")
    })
}

fn exhausted(server: &Replica, ids: &[String]) -> bool {
    let list = server.ok_json(&["list"]);
    let incidents = list["incidents"].as_array().expect("incidents");
    ids.iter().all(|id| {
        incidents
            .iter()
            .any(|i| i["id"] == id.as_str() && i["escalation"]["exhausted"] == true)
    })
}

fn fresh_postgres_database() -> String {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(cluster.fresh_database())
        .expect("fresh database")
}

#[test]
fn two_servers_on_one_postgres_fire_each_timer_once_and_page_once() {
    const INCIDENTS: usize = 10;
    let root = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start();
    let config = root.path().join("config");
    write_config(&config, &receiver.url, "2s");
    let database = fresh_postgres_database();

    let first = Replica::start(
        &root.path().join("a"),
        &config,
        Some(&database),
        &root.path().join("a.log"),
    );
    // The second server finds a live token and writes none; give its data dir the first one's.
    let b_dir = root.path().join("b");
    fs::create_dir_all(&b_dir).expect("b data dir");
    fs::copy(
        first.data_dir.join("admin.token"),
        b_dir.join("admin.token"),
    )
    .expect("copy token");
    let second = Replica::start(&b_dir, &config, Some(&database), &root.path().join("b.log"));

    let ids: Vec<String> = (0..INCIDENTS)
        .map(|n| first.declare_p1(&format!("Replica test {n}")))
        .collect();
    wait_for(
        "every escalation to run out",
        Duration::from_secs(45),
        || exhausted(&second, &ids),
    );
    wait_for("every page delivered", Duration::from_secs(30), || {
        all_delivered(&first, &ids)
    });
    // Both engines tick every second: give a doubled firing or delivery time to show.
    sleep(Duration::from_secs(3));

    for id in &ids {
        let events = first.timeline(id);
        assert_one_full_escalation(id, &events);
        assert_eq!(events, second.timeline(id), "{id}: both servers agree");
    }
    assert_each_page_received_once(&second, &ids, &receiver);
    assert_eq!(
        receiver.successes().len(),
        INCIDENTS * PAGES_PER_INCIDENT,
        "pages in total"
    );
    // Per incident three timers fire with effects (the target, steps 1 and 2): between both
    // servers, each once.
    let fired = |r: &Replica| r.log_text().matches("timer fired").count();
    let (a, b) = (fired(&first), fired(&second));
    eprintln!("timers fired: {a} by the first server, {b} by the second");
    assert_eq!(
        a + b,
        INCIDENTS * 3,
        "timer firings logged: {a} by the first server, {b} by the second"
    );
    first.assert_verified();
    second.assert_verified();
}

#[test]
fn a_server_killed_mid_escalation_resumes_without_loss_or_duplicates_on_sqlite() {
    killed_mid_escalation(None);
}

#[test]
fn a_server_killed_mid_escalation_resumes_without_loss_or_duplicates_on_postgres() {
    killed_mid_escalation(Some(fresh_postgres_database()));
}

fn killed_mid_escalation(database_url: Option<String>) {
    // Long enough to see step 1 paged and delivered and kill the server before step 2 is due,
    // on a loaded machine.
    const STEP1_WAIT: Duration = Duration::from_secs(8);
    let root = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start();
    let config = root.path().join("config");
    write_config(&config, &receiver.url, "8s");
    let mut server = Replica::start(
        &root.path().join("data"),
        &config,
        database_url.as_deref(),
        &root.path().join("server.log"),
    );

    let id = server.declare_p1("Kill me mid-escalation");
    let ids = [id.clone()];
    wait_for("step 1 paged", Duration::from_secs(30), || {
        paged_steps(&server.timeline(&id)).contains(&1)
    });
    let step1_seen = Instant::now();
    // Steps 0 and 1 delivered before the kill, so no page is stranded under a lease.
    wait_for("steps 0 and 1 delivered", Duration::from_secs(20), || {
        let d = server.deliveries(&id);
        d.len() == 2 && d.iter().all(|d| d["status"] == "delivered")
    });
    let before = server.timeline(&id);
    assert_eq!(paged_steps(&before), [0, 1], "{before:#?}");
    server.kill();
    assert!(
        step1_seen.elapsed() < STEP1_WAIT,
        "too slow: killed the server only {:?} after step 1 was paged",
        step1_seen.elapsed()
    );
    let step1_at = at(kinds(&before, "paged")[1]);

    // Down past step 2's deadline.
    sleep(STEP1_WAIT + Duration::from_secs(1));
    let restarted = Instant::now();
    server.restart();

    wait_for(
        "the escalation to run out after the restart",
        Duration::from_secs(30),
        || exhausted(&server, &ids),
    );
    wait_for("every page delivered", Duration::from_secs(30), || {
        all_delivered(&server, &ids)
    });
    sleep(Duration::from_secs(3));

    let after = server.timeline(&id);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "the events before the kill are unchanged"
    );
    assert_one_full_escalation(&id, &after);
    // Step 2 was paged after the restart: later after step 1 than the server was down for.
    let step2_at = at(kinds(&after, "paged")[2]);
    let down_at_least = restarted.duration_since(step1_seen);
    let gap = step2_at.duration_since(step1_at);
    assert!(
        gap.as_secs_f64() >= down_at_least.as_secs_f64(),
        "step 2 paged {gap:?} after step 1, but the server was down until {down_at_least:?} after it"
    );
    assert_each_page_received_once(&server, &ids, &receiver);
    server.assert_verified();
}
