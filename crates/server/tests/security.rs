//! The network controls through the real server: HTTPS with a certificate made here, the
//! refusal to serve plain HTTP beyond loopback, bad certificate files, and the rate limits and
//! authentication lockout with time moved on a `ManualClock` (no test sleeps).

use std::sync::Arc;

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock};
use warroom_server::ratelimit::{LockoutPolicy, Rate};
use warroom_server::{
    DeliveryOptions, LimitOptions, Running, SecurityOptions, ServeError, ServeOptions, TlsFiles,
};

fn options(dir: &std::path::Path, listen: &str) -> ServeOptions {
    ServeOptions {
        listen: listen.into(),
        data_dir: dir.to_path_buf(),
        database_url: None,
        config: Config::builtin(),
        demo: false,
        engine: false,
        grafana_signature: None,
        metrics_public: false,
        secure_cookies: false,
    }
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        "2026-11-25T10:00:00Z".parse().expect("time"),
    ))
}

async fn start(
    dir: &std::path::Path,
    listen: &str,
    security: SecurityOptions,
    clock: Arc<ManualClock>,
) -> Result<Running, ServeError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    warroom_server::start_secure(
        options(dir, listen),
        security,
        clock,
        DeliveryOptions::default(),
    )
    .await
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files.
fn self_signed(dir: &std::path::Path) -> (TlsFiles, String) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let cert_pem = generated.cert.pem();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, &cert_pem).expect("write cert");
    std::fs::write(&files.key, generated.signing_key.serialize_pem()).expect("write key");
    (files, cert_pem)
}

#[tokio::test]
async fn https_is_served_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let (files, cert_pem) = self_signed(dir.path());
    let running = start(
        &dir.path().join("data"),
        "127.0.0.1:0",
        SecurityOptions {
            tls: Some(files),
            ..SecurityOptions::default()
        },
        clock(),
    )
    .await
    .expect("started with TLS");
    let admin = running.created_admin_token.clone().expect("admin token");
    let port = running.addr.port();

    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem")])
        .build()
        .expect("client");
    let resp = trusting
        .get(format!("https://localhost:{port}/api/v1/whoami"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(resp.status(), StatusCode::OK);
    let me: Value = resp.json().await.expect("json");
    assert_eq!(me["role"], "admin", "{me}");

    // A client that does not trust the certificate gets no answer at all.
    let default_roots = reqwest::Client::builder().build().expect("client");
    assert!(
        default_roots
            .get(format!("https://localhost:{port}/health"))
            .send()
            .await
            .is_err(),
        "an untrusted self-signed certificate was accepted"
    );
    // Plain HTTP on the TLS port gets no HTTP answer either; the server survives it.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_err()
    );
    let again = trusting
        .get(format!("https://localhost:{port}/health"))
        .send()
        .await
        .expect("still serving");
    assert_eq!(again.status(), StatusCode::OK);
    running.stop().await;
}

#[tokio::test]
async fn bad_certificate_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().expect("dir");
    let (good, _) = self_signed(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").expect("write");
    let missing = dir.path().join("missing.pem");
    let (other, _) = {
        let sub = dir.path().join("other");
        std::fs::create_dir(&sub).expect("dir");
        self_signed(&sub)
    };
    let cases = [
        (missing.clone(), good.key.clone(), missing.clone()),
        (garbage.clone(), good.key.clone(), garbage.clone()),
        (good.cert.clone(), garbage.clone(), garbage.clone()),
        // A certificate whose key is someone else's.
        (good.cert.clone(), other.key.clone(), good.cert.clone()),
    ];
    for (cert, key, named) in cases {
        let data = dir.path().join("data");
        let err = start(
            &data,
            "127.0.0.1:0",
            SecurityOptions {
                tls: Some(TlsFiles { cert, key }),
                ..SecurityOptions::default()
            },
            clock(),
        )
        .await
        .err()
        .expect("refused");
        let text = err.to_string();
        assert!(matches!(err, ServeError::Tls(_)), "{text}");
        assert!(
            text.contains(&named.display().to_string()),
            "{text} does not name {}",
            named.display()
        );
        assert!(
            !data.exists(),
            "the data directory was created before TLS failed"
        );
    }
}

#[tokio::test]
async fn plain_http_beyond_loopback_needs_a_tls_proxy() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let err = start(&data, "0.0.0.0:0", SecurityOptions::default(), clock())
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(matches!(err, ServeError::Cleartext(_)), "{text}");
    assert!(
        text.contains("without TLS") && text.contains("--behind-tls-proxy"),
        "{text}"
    );
    assert!(!data.exists(), "the database was opened before refusing");

    let proxied = start(
        &data,
        "0.0.0.0:0",
        SecurityOptions {
            behind_tls_proxy: true,
            ..SecurityOptions::default()
        },
        clock(),
    )
    .await
    .expect("allowed behind a TLS proxy");
    let port = proxied.addr.port();
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .expect("request");
    assert_eq!(health.status(), StatusCode::OK);
    proxied.stop().await;
}

struct Limited {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    running: Running,
    _dir: tempfile::TempDir,
}

fn rate(per_second: f64, burst: u32) -> Rate {
    Rate { per_second, burst }
}

async fn limited(limits: LimitOptions, trust_forwarded_for: bool) -> Limited {
    let dir = tempfile::tempdir().expect("dir");
    let clock = clock();
    let running = start(
        dir.path(),
        "127.0.0.1:0",
        SecurityOptions {
            behind_tls_proxy: trust_forwarded_for,
            trust_forwarded_for,
            limits,
            ..SecurityOptions::default()
        },
        clock.clone(),
    )
    .await
    .expect("started");
    Limited {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin"),
        http: reqwest::Client::new(),
        clock,
        running,
        _dir: dir,
    }
}

impl Limited {
    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    async fn token(&self, name: &str) -> String {
        let resp = self
            .post(
                "/api/v1/tokens",
                Some(&self.admin),
                json!({ "name": name, "role": "viewer" }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.expect("json");
        v["token"].as_str().expect("token").to_string()
    }

    async fn integration(&self) -> String {
        let resp = self
            .post(
                "/api/v1/integrations",
                Some(&self.admin),
                json!({ "service": "api" }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.expect("json");
        v["routing_key"].as_str().expect("key").to_string()
    }

    fn advance(&self, secs: i64) {
        self.clock.advance(SignedDuration::from_secs(secs));
    }
}

/// Asserts a 429 with `Retry-After: secs` and returns its body.
async fn assert_limited(resp: reqwest::Response, secs: u64) -> Value {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(retry.as_deref(), Some(secs.to_string().as_str()));
    resp.json().await.expect("json body")
}

#[tokio::test]
async fn each_token_has_its_own_allowance() {
    let app = limited(
        LimitOptions {
            api_per_token: rate(0.5, 3),
            ..LimitOptions::unlimited()
        },
        false,
    )
    .await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/whoami", &alice).await.status(),
            StatusCode::OK
        );
    }
    let body = assert_limited(app.get("/api/v1/whoami", &alice).await, 2).await;
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("token"))
    );
    // Bob, from the same address, is not held back by Alice.
    assert_eq!(
        app.get("/api/v1/whoami", &bob).await.status(),
        StatusCode::OK
    );
    // One second gives half a token: still refused, now for one more second.
    app.advance(1);
    assert_limited(app.get("/api/v1/whoami", &alice).await, 1).await;
    app.advance(1);
    assert_eq!(
        app.get("/api/v1/whoami", &alice).await.status(),
        StatusCode::OK
    );
    app.running.stop().await;
}

#[tokio::test]
async fn each_source_address_has_its_own_allowance() {
    let app = limited(
        LimitOptions {
            api_per_source: rate(1.0, 2),
            ..LimitOptions::unlimited()
        },
        false,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            app.http
                .get(format!("{}/api/v2/status.json", app.base))
                .send()
                .await
                .expect("request")
                .status(),
            StatusCode::OK
        );
    }
    // The public page and the API count against the same address, with or without a token.
    assert_limited(app.get("/api/v1/whoami", &app.admin).await, 1).await;
    // Health probes are never limited.
    let health = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), StatusCode::OK);
    app.advance(1);
    assert_eq!(
        app.get("/api/v1/whoami", &app.admin).await.status(),
        StatusCode::OK
    );
    app.running.stop().await;
}

#[tokio::test]
async fn forwarded_for_is_trusted_only_behind_a_proxy() {
    let limits = LimitOptions {
        api_per_source: rate(1.0, 1),
        ..LimitOptions::unlimited()
    };
    let from = |app: &Limited, xff: &'static str| {
        app.http
            .get(format!("{}/api/v2/status.json", app.base))
            .header("x-forwarded-for", xff)
            .send()
    };
    let proxied = limited(limits, true).await;
    assert_eq!(
        from(&proxied, "198.51.100.1").await.expect("req").status(),
        StatusCode::OK
    );
    assert_eq!(
        from(&proxied, "198.51.100.1").await.expect("req").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the proxy; a spoofed first hop changes nothing, the last one counts.
    assert_eq!(
        from(&proxied, "203.0.113.50, 198.51.100.2")
            .await
            .expect("req")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        from(&proxied, "203.0.113.99, 198.51.100.2")
            .await
            .expect("req")
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    proxied.running.stop().await;

    // Not behind a proxy: the header is the client's own words and is ignored.
    let direct = limited(limits, false).await;
    assert_eq!(
        from(&direct, "198.51.100.1").await.expect("req").status(),
        StatusCode::OK
    );
    assert_eq!(
        from(&direct, "198.51.100.2").await.expect("req").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    direct.running.stop().await;
}

#[tokio::test]
async fn repeated_bad_tokens_lock_the_address_out() {
    let app = limited(
        LimitOptions {
            lockout: LockoutPolicy {
                max_failures: 3,
                window_secs: 60,
                lockout_secs: 120,
            },
            ..LimitOptions::unlimited()
        },
        false,
    )
    .await;
    for _ in 0..3 {
        let resp = app.get("/api/v1/whoami", "wr_not-a-real-token").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right token is refused, so a guesser cannot tell a hit from a miss.
    let body = assert_limited(app.get("/api/v1/whoami", &app.admin).await, 120).await;
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Calendar feeds (token in the query) are behind the same lockout.
    let feed = app
        .http
        .get(format!(
            "{}/api/v1/schedules/primary/calendar.ics?token={}",
            app.base, app.admin
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(feed.status(), StatusCode::TOO_MANY_REQUESTS);
    app.advance(119);
    assert_limited(app.get("/api/v1/whoami", &app.admin).await, 1).await;
    app.advance(1);
    assert_eq!(
        app.get("/api/v1/whoami", &app.admin).await.status(),
        StatusCode::OK
    );
    app.running.stop().await;
}

#[tokio::test]
async fn unknown_routing_keys_count_as_failures_and_lock_out_ingestion() {
    let app = limited(
        LimitOptions {
            lockout: LockoutPolicy {
                max_failures: 2,
                window_secs: 60,
                lockout_secs: 60,
            },
            ..LimitOptions::unlimited()
        },
        false,
    )
    .await;
    let key = app.integration().await;
    let event = |k: &str| {
        json!({ "routing_key": k, "event_action": "trigger", "dedup_key": "d1",
                "payload": { "summary": "disk full", "source": "db-1", "severity": "critical" } })
    };
    // PagerDuty answers an unknown key with 400; so does Warroom, until the lockout.
    let first = app
        .post(
            "/v2/enqueue",
            None,
            event("0123456789abcdef0123456789abcdef"),
        )
        .await;
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let webhook = app
        .post(
            "/api/v1/events",
            Some("0123456789abcdef0123456789abcdef"),
            json!({ "summary": "x" }),
        )
        .await;
    assert_eq!(webhook.status(), StatusCode::UNAUTHORIZED);
    let locked = assert_limited(app.post("/v2/enqueue", None, event(&key)).await, 60).await;
    assert_eq!(locked["status"], "throttle event", "{locked}");
    app.advance(60);
    let accepted = app.post("/v2/enqueue", None, event(&key)).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    app.running.stop().await;
}

#[tokio::test]
async fn each_routing_key_has_its_own_ingestion_allowance() {
    let app = limited(
        LimitOptions {
            ingest_per_key: rate(1.0, 2),
            ..LimitOptions::unlimited()
        },
        false,
    )
    .await;
    let noisy = app.integration().await;
    let quiet = app.integration().await;
    let event = |k: &str, n: u32| {
        json!({ "routing_key": k, "event_action": "trigger", "dedup_key": format!("d{n}"),
                "payload": { "summary": "cpu", "source": "web-1", "severity": "error" } })
    };
    for n in 0..2 {
        let resp = app.post("/v2/enqueue", None, event(&noisy, n)).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    // PagerDuty's own 429 shape on its endpoint...
    let body = assert_limited(app.post("/v2/enqueue", None, event(&noisy, 9)).await, 1).await;
    assert_eq!(body["status"], "throttle event", "{body}");
    // ...and Warroom's on the webhooks, for the same key.
    let webhook = app
        .post("/api/v1/events", Some(&noisy), json!({ "summary": "cpu" }))
        .await;
    let body = assert_limited(webhook, 1).await;
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let other = app.post("/v2/enqueue", None, event(&quiet, 1)).await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    // The API is not limited by ingestion.
    assert_eq!(
        app.get("/api/v1/whoami", &app.admin).await.status(),
        StatusCode::OK
    );
    app.advance(1);
    let resp = app.post("/v2/enqueue", None, event(&noisy, 3)).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    app.running.stop().await;
}

impl Limited {
    async fn create_token(&self, body: Value) -> (StatusCode, Value) {
        let resp = self.post("/api/v1/tokens", Some(&self.admin), body).await;
        let status = resp.status();
        (status, resp.json().await.expect("json"))
    }
}

#[tokio::test]
async fn a_read_only_token_reads_like_its_role_and_changes_nothing() {
    let app = limited(LimitOptions::unlimited(), false).await;
    let (status, made) = app
        .create_token(json!({ "name": "dash", "role": "admin", "scope": "read-only" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["scope"], "read-only");
    let ro = made["token"].as_str().expect("secret").to_string();

    let me: Value = app
        .get("/api/v1/whoami", &ro)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (&me["role"], &me["scope"]),
        (&json!("admin"), &json!("read-only"))
    );
    assert_eq!(
        app.get("/api/v1/incidents", &ro).await.status(),
        StatusCode::OK
    );
    // An admin-only read stays refused: read-only narrows a role, it never widens one...
    assert_eq!(
        app.get("/api/v1/tokens", &ro).await.status(),
        StatusCode::FORBIDDEN
    );
    // ...and no change goes through, whatever the role allows.
    let declare = app
        .post(
            "/api/v1/incidents",
            Some(&ro),
            json!({ "title": "Disk full", "severity": "P2" }),
        )
        .await;
    assert_eq!(declare.status(), StatusCode::FORBIDDEN);
    let body: Value = declare.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("read-only")),
        "{body}"
    );
    let mint = app
        .post(
            "/api/v1/tokens",
            Some(&ro),
            json!({ "name": "x", "role": "admin" }),
        )
        .await;
    assert_eq!(mint.status(), StatusCode::FORBIDDEN);
    // The same token with the full scope declares.
    let (_, full) = app
        .create_token(json!({ "name": "ops", "role": "responder" }))
        .await;
    assert_eq!(full["scope"], "full");
    let declared = app
        .post(
            "/api/v1/incidents",
            full["token"].as_str(),
            json!({ "title": "Disk full", "severity": "P2" }),
        )
        .await;
    assert_eq!(declared.status(), StatusCode::CREATED);
    app.running.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = limited(LimitOptions::unlimited(), false).await;
    let (status, made) = app
        .create_token(json!({ "name": "ci", "role": "responder", "expires_in": "1h" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["expires_at"], "2026-11-25T11:00:00Z", "{made}");
    let ci = made["token"].as_str().expect("secret").to_string();
    assert_eq!(
        app.get("/api/v1/whoami", &ci).await.status(),
        StatusCode::OK
    );
    app.advance(3599);
    assert_eq!(
        app.get("/api/v1/whoami", &ci).await.status(),
        StatusCode::OK
    );
    app.advance(1);
    let refused = app.get("/api/v1/whoami", &ci).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["message"], "token expired", "{body}");

    let listed: Value = app
        .get("/api/v1/tokens", &app.admin)
        .await
        .json()
        .await
        .expect("json");
    let row = listed["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == "ci")
        .cloned()
        .expect("listed");
    assert_eq!(row["expires_at"], "2026-11-25T11:00:00Z");

    for bad in ["soon", "0s", "-1h"] {
        let (status, body) = app
            .create_token(json!({ "name": "x", "role": "viewer", "expires_in": bad }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "expires_in", "{bad}: {body}");
    }
    let (status, body) = app
        .create_token(json!({ "name": "x", "role": "viewer", "scope": "write-only" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "scope", "{body}");
    app.running.stop().await;
}
