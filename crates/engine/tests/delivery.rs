//! Delivery against real peers: an HTTP receiver on 127.0.0.1 that fails, hangs or succeeds
//! as told, and a real SMTP server (Debian's python3-aiosmtpd). Time moves by the injected
//! clock; the only waiting is bounded polling of a real peer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::{SignedDuration, Timestamp};
use warroom_core::command::declare;
use warroom_core::outbox::{Channel, DeliveryStatus, OutgoingMessage, RetryPolicy, message_id};
use warroom_core::timer::desired_timers;
use warroom_core::{Clock, Config, Incident, IncidentId, ManualClock, NewEvent, Principal, Role};
use warroom_engine::channels::webhook::{
    IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature,
};
use warroom_engine::{DeliveryOptions, Engine, SmtpSettings};
use warroom_store::Store;

const SECRET: &str = "whsec_test";

fn t0() -> Timestamp {
    "2026-11-22T10:00:00Z".parse().expect("valid time")
}

/// What the receiver does with the n-th request (0-based).
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answer 500 to the first `n` requests, then 200.
    FailFirst(usize),
    /// Always 503.
    AlwaysFail,
    /// Never answer the first request (the sender "crashes" while waiting), then 200.
    HangFirst,
}

#[derive(Debug, Clone)]
struct Received {
    key: String,
    timestamp: String,
    signature: Option<String>,
    body: Bytes,
    answered: u16,
}

#[derive(Clone)]
struct Receiver {
    behaviour: Behaviour,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn requests(&self) -> Vec<Received> {
        self.log.lock().expect("log").clone()
    }

    /// Successful deliveries per idempotency key.
    fn successes(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in self.requests() {
            if r.answered == 200 {
                *out.entry(r.key).or_insert(0) += 1;
            }
        }
        out
    }
}

async fn hook(State(rx): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (n, status) = {
        // Count and record under one lock: concurrent deliveries must not both see the same `n`.
        let mut log = rx.log.lock().expect("log");
        let n = log.len();
        let status = match rx.behaviour {
            Behaviour::FailFirst(k) if n < k => StatusCode::INTERNAL_SERVER_ERROR,
            Behaviour::AlwaysFail => StatusCode::SERVICE_UNAVAILABLE,
            Behaviour::HangFirst if n == 0 => StatusCode::REQUEST_TIMEOUT, // recorded, never sent
            _ => StatusCode::OK,
        };
        log.push(Received {
            key: header(IDEMPOTENCY_HEADER).unwrap_or_default(),
            timestamp: header(TIMESTAMP_HEADER).unwrap_or_default(),
            signature: header(SIGNATURE_HEADER),
            body,
            answered: if matches!(rx.behaviour, Behaviour::HangFirst) && n == 0 {
                0
            } else {
                status.as_u16()
            },
        });
        (n, status)
    };
    if matches!(rx.behaviour, Behaviour::HangFirst) && n == 0 {
        std::future::pending::<()>().await;
    }
    status
}

/// A real HTTP server on 127.0.0.1; returns its URL.
async fn receiver(behaviour: Behaviour) -> (Receiver, String) {
    let rx = Receiver {
        behaviour,
        log: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (rx, format!("http://{addr}/hook"))
}

fn options(notify: Vec<Channel>) -> DeliveryOptions {
    DeliveryOptions {
        retry: RetryPolicy {
            base: SignedDuration::from_secs(10),
            cap: SignedDuration::from_mins(1),
            max_attempts: 5,
        },
        lease: SignedDuration::from_mins(2),
        timeout: Duration::from_secs(10),
        batch: 50,
        notify,
        smtp: None,
    }
}

fn engine(store: Arc<dyn Store>, clock: Arc<ManualClock>, options: DeliveryOptions) -> Engine {
    Engine::with_delivery(store, Arc::new(config()), clock, options)
        .expect("engine")
        .with_random(Arc::new(|| 0.5))
}

fn admin() -> Principal {
    Principal {
        name: "admin".into(),
        role: Role::Admin,
        security: false,
    }
}

/// The built-in config with status updates due only weekly, so that the missed
/// acknowledgement at 30 minutes is the only thing these delivery tests see fire.
fn config() -> Config {
    let mut config = Config::builtin();
    for s in &mut config.severities {
        s.update_every = "1w".parse().expect("target");
    }
    config
}

async fn declare_p1(store: &dyn Store, at: Timestamp) -> Incident {
    let config = config();
    let d = warroom_core::Declaration {
        title: "Checkout errors".into(),
        incident_type: Some("outage".into()),
        severity: "P1".into(),
        ..warroom_core::Declaration::default()
    };
    let kind = declare(&d, &config).expect("valid declaration");
    let plan = |inc: &Incident| desired_timers(inc, &config);
    store
        .create_incident(
            vec![NewEvent {
                at,
                actor: "alice".into(),
                kind,
            }],
            &plan,
        )
        .await
        .expect("declared")
        .0
}

fn direct_message(url: &str, cause: &str, incident: &IncidentId) -> OutgoingMessage {
    let channel = Channel::Webhook {
        url: url.to_string(),
        secret: Some(SECRET.into()),
    };
    OutgoingMessage {
        id: message_id(cause, &channel),
        incident_id: incident.to_string(),
        channel,
        subject: format!("Status update ({cause})"),
        text: "Still investigating.".into(),
        payload: serde_json::json!({ "cause": cause }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_receiver_gets_every_message_once_and_signed() {
    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = warroom_store::open(&url).await.expect("store");
    let clock = Arc::new(ManualClock::new(t0()));
    let (rx, hook_url) = receiver(Behaviour::FailFirst(3)).await;
    let notify = vec![Channel::Webhook {
        url: hook_url.clone(),
        secret: Some(SECRET.into()),
    }];
    let engine = engine(store.clone(), clock.clone(), options(notify));

    let inc = declare_p1(&*store, t0()).await;
    store
        .enqueue_messages(vec![direct_message(&hook_url, "update-1", &inc.id)], t0())
        .await
        .expect("enqueue");
    // P1 must be acknowledged within 30 minutes; nobody does.
    clock.advance(SignedDuration::from_mins(31));
    let fired = engine.tick().await.expect("tick");
    assert_eq!((fired.len(), fired[0].events), (1, 1));
    for _ in 0..20 {
        let deliveries = store.deliveries(&inc.id).await.expect("deliveries");
        if deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Delivered)
        {
            break;
        }
        clock.advance(SignedDuration::from_mins(1));
        engine.tick().await.expect("tick");
    }
    let deliveries = store.deliveries(&inc.id).await.expect("deliveries");
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Delivered),
        "{deliveries:?}"
    );
    // Three failures in all, then each message exactly once successfully.
    let successes = rx.successes();
    let keys: BTreeMap<String, usize> = deliveries.iter().map(|d| (d.id.clone(), 1)).collect();
    assert_eq!(successes, keys);
    let requests = rx.requests();
    assert_eq!(requests.len(), 3 + 2);
    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("events")
        .expect("incident");
    let delivered = events
        .iter()
        .filter(|e| e.kind.name() == "notification_delivered")
        .count();
    assert_eq!(delivered, 2, "one timeline entry per delivered message");
    assert_eq!(
        deliveries.iter().map(|d| d.attempts).sum::<u32>(),
        5,
        "every attempt is counted"
    );
    for r in &requests {
        let sig = r.signature.as_deref().expect("signed");
        assert_eq!(
            sig,
            signature(SECRET, &r.timestamp, &r.body),
            "signature verifies"
        );
        let at: i64 = r.timestamp.parse().expect("unix seconds");
        assert!(at >= (t0() + SignedDuration::from_mins(31)).as_second());
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json body");
        assert_eq!(body["id"], r.key.as_str());
        assert_eq!(body["incident_id"], inc.id.as_str());
    }
    // The page carries the missed target, and the incident's timeline has the event.
    let page = requests
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"))
        .find(|b| b["data"]["event"] == "acknowledge_target_missed")
        .expect("the page was sent");
    assert!(
        page["subject"]
            .as_str()
            .is_some_and(|s| s.contains("not acknowledged within")),
        "{page}"
    );
    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("events")
        .expect("exists");
    assert!(
        events
            .iter()
            .any(|e| e.kind.name() == "acknowledge_target_missed")
    );
    // Nothing is sent again, however long the engine keeps ticking.
    clock.advance(SignedDuration::from_hours(6));
    engine.tick().await.expect("tick");
    assert_eq!(rx.requests().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_always_fails_dead_letters_the_message() {
    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = warroom_store::open(&url).await.expect("store");
    let clock = Arc::new(ManualClock::new(t0()));
    let (rx, hook_url) = receiver(Behaviour::AlwaysFail).await;
    let engine = engine(store.clone(), clock.clone(), options(Vec::new()));
    let id: IncidentId = declare_p1(&*store, t0()).await.id;
    let message = direct_message(&hook_url, "doomed", &id);
    store
        .enqueue_messages(vec![message.clone()], t0())
        .await
        .expect("enqueue");
    let mut reports = Vec::new();
    for _ in 0..10 {
        reports.push(engine.deliver().await.expect("deliver"));
        // Longer than the capped backoff: every round finds the message due.
        clock.advance(SignedDuration::from_mins(2));
    }
    let attempted: usize = reports.iter().map(|r| r.attempted).sum();
    let dead: usize = reports.iter().map(|r| r.dead).sum();
    assert_eq!((attempted, dead), (5, 1), "{reports:?}");
    let d = &store.deliveries(&id).await.expect("deliveries")[0];
    assert_eq!(
        (d.status, d.attempts, d.last_error.as_deref()),
        (DeliveryStatus::Dead, 5, Some("HTTP 503"))
    );
    let requests = rx.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.key == message.id));
    // The final outcome is on the incident's timeline; the retries before it are not.
    let events = store
        .events(&admin(), &id)
        .await
        .expect("events")
        .expect("incident");
    let dead: Vec<_> = events
        .iter()
        .filter(|e| e.kind.name() == "notification_dead")
        .collect();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].kind.describe().contains("after 5 attempts"),
        "{}",
        dead[0].kind.describe()
    );
    assert!(
        !events
            .iter()
            .any(|e| e.kind.name() == "notification_delivered")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_sender_is_replaced_after_its_lease_with_the_same_key() {
    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let clock = Arc::new(ManualClock::new(t0()));
    let (rx, hook_url) = receiver(Behaviour::HangFirst).await;
    let id: IncidentId = "INC-20261122-001".parse().expect("id");
    let message = direct_message(&hook_url, "page", &id);
    let mut slow = options(Vec::new());
    slow.timeout = Duration::from_secs(60);

    // Engine A claims the message and sends it; the receiver has it, but A dies before it
    // hears back or records anything.
    {
        let store = warroom_store::open(&url).await.expect("store");
        store
            .enqueue_messages(vec![message.clone()], t0())
            .await
            .expect("enqueue");
        let a = engine(store, clock.clone(), slow.clone());
        let task = tokio::spawn(async move { a.deliver().await });
        let mut waited = 0;
        while rx.requests().is_empty() {
            assert!(waited < 200, "the receiver never saw the first attempt");
            tokio::time::sleep(Duration::from_millis(25)).await;
            waited += 1;
        }
        task.abort();
        assert!(task.await.expect_err("aborted").is_cancelled());
    }

    // Engine B, a restart on the same database: the claim holds until the lease runs out.
    let store = warroom_store::open(&url).await.expect("store");
    let b = engine(store.clone(), clock.clone(), slow);
    let d = &store.deliveries(&id).await.expect("deliveries")[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Sending, 0));
    clock.advance(SignedDuration::from_mins(1));
    assert_eq!(b.deliver().await.expect("deliver").attempted, 0);
    clock.advance(SignedDuration::from_mins(2));
    let report = b.deliver().await.expect("deliver");
    assert_eq!((report.attempted, report.delivered), (1, 1));

    let requests = rx.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests.iter().all(|r| r.key == message.id),
        "the redelivery carries the same idempotency key"
    );
    assert_eq!(rx.successes().get(&message.id), Some(&1));
    let d = &store.deliveries(&id).await.expect("deliveries")[0];
    // Two attempts: the crashed one (counted when its lease lapsed) and the delivery.
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 2));
}

/// A Python interpreter with aiosmtpd (Debian's python3-aiosmtpd; `test.sh` installs it).
fn python_with_aiosmtpd() -> PathBuf {
    let candidates = std::env::var_os("WARROOM_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/python3"), PathBuf::from("python3")]);
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return python;
        }
    }
    panic!("the SMTP test needs python3-aiosmtpd: apt-get install python3-aiosmtpd (test.sh does)");
}

/// Kills the SMTP server when the test ends, however it ends.
struct Smtpd(Child);

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn start_smtpd(maildir: &Path) -> (Smtpd, u16) {
    let port = free_port();
    let child = Command::new(python_with_aiosmtpd())
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let server = Smtpd(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("aiosmtpd did not start listening on {port}");
}

fn mails(maildir: &Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_reaches_a_real_smtp_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let maildir = dir.path().join("mail");
    let (_smtpd, port) = start_smtpd(&maildir);
    let (_db, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = warroom_store::open(&url).await.expect("store");
    let clock = Arc::new(ManualClock::new(t0()));
    let pager = Channel::Email {
        to: "oncall@example.com".into(),
    };
    let mut opts = options(vec![pager]);
    opts.smtp = Some(SmtpSettings {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "Warroom <warroom@example.com>".into(),
    });
    let engine = engine(store.clone(), clock.clone(), opts);
    let inc = declare_p1(&*store, t0()).await;
    clock.advance(SignedDuration::from_mins(45));
    engine.tick().await.expect("tick");

    let d = &store.deliveries(&inc.id).await.expect("deliveries")[0];
    assert_eq!(
        (d.status, d.channel.as_str(), d.destination.as_str()),
        (DeliveryStatus::Delivered, "email", "oncall@example.com"),
        "{d:?}"
    );
    let mut received = mails(&maildir);
    for _ in 0..200 {
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        received = mails(&maildir);
    }
    assert_eq!(received.len(), 1, "one email in the mailbox");
    let mail = &received[0];
    assert!(mail.contains("To: oncall@example.com"), "{mail}");
    assert!(
        mail.contains("From: Warroom <warroom@example.com>"),
        "{mail}"
    );
    assert!(mail.contains(&format!("<{}@warroom>", d.id)), "{mail}");
    assert!(mail.contains("not acknowledged within"), "{mail}");
    assert!(mail.contains(inc.id.as_str()), "{mail}");
    // Dated by the engine's clock, not the machine's.
    assert!(mail.contains("Date: Sun, 22 Nov 2026 10:45:00"), "{mail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_crashing_its_senders_ends_dead_unsent() {
    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = warroom_store::open(&url).await.expect("store");
    let clock = Arc::new(ManualClock::new(t0()));
    let (rx, hook_url) = receiver(Behaviour::FailFirst(0)).await;
    let opts = options(Vec::new());
    let id: IncidentId = "INC-20261122-001".parse().expect("id");
    store
        .enqueue_messages(vec![direct_message(&hook_url, "poison", &id)], t0())
        .await
        .expect("enqueue");
    // Five senders in a row claim it and die before reporting back.
    for _ in 0..opts.retry.max_attempts {
        let claimed = store
            .claim_due_messages(clock.now(), 10, opts.lease)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        clock.advance(opts.lease + SignedDuration::from_secs(1));
    }
    let report = engine(store.clone(), clock.clone(), opts)
        .deliver()
        .await
        .expect("deliver");
    assert_eq!((report.attempted, report.dead), (1, 1));
    let d = &store.deliveries(&id).await.expect("deliveries")[0];
    // Five crashed attempts, and the recorded decision not to make another.
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 6));
    assert!(rx.requests().is_empty(), "not sent again");
}
