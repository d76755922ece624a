//! Evidence and the access audit log through the real server, on SQLite and PostgreSQL:
//! streamed uploads stored once per content, the size limit, custody events on the timeline
//! (a download's before its bytes), tampering found by verify, restricted incidents answering
//! 404 to outsiders, and the audit entries each kind of access leaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warroom_core::{Config, ManualClock};
use warroom_server::{DeliveryOptions, Running, SecurityOptions, ServeOptions};

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    running: Option<Running>,
}

const LIMIT: u64 = 64 * 1024;

async fn spawn_on(database_url: Option<String>) -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start_secure(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            config: Config::builtin(),
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public: false,
            secure_cookies: false,
        },
        SecurityOptions {
            evidence_max_bytes: LIMIT,
            ..SecurityOptions::default()
        },
        clock.clone(),
        DeliveryOptions::default(),
    )
    .await
    .expect("server starts");
    App {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        http: reqwest::Client::new(),
        clock,
        dir,
        running: Some(running),
    }
}

async fn spawn_postgres() -> App {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    spawn_on(Some(cluster.fresh_database().await.expect("database"))).await
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    async fn token(&self, name: &str, role: &str, security: bool) -> String {
        let (s, b) = self
            .call(
                Method::POST,
                "/api/v1/tokens",
                &self.admin,
                Some(json!({ "name": name, "role": role, "security": security })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["token"].as_str().expect("token").to_string()
    }

    async fn declare(&self, token: &str, restricted: bool) -> String {
        let (s, b) = self
            .call(
                Method::POST,
                "/api/v1/incidents",
                token,
                Some(json!({ "title": "Credential stuffing", "severity": "P1", "type": "security-breach", "restricted": restricted })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().expect("id").to_string()
    }

    async fn upload(
        &self,
        token: &str,
        id: &str,
        name: &str,
        content: &[u8],
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/api/v1/incidents/{id}/evidence", self.base))
            .query(&[
                ("file_name", name),
                ("description", "sshd log"),
                ("collected_from", "web-1"),
            ])
            .header("content-type", "text/plain; charset=utf-8")
            .bearer_auth(token)
            .body(content.to_vec())
            .send()
            .await
            .expect("sent");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn blob(&self, sha: &str) -> PathBuf {
        self.dir
            .path()
            .join("evidence/sha256")
            .join(&sha[..2])
            .join(sha)
    }

    fn blob_count(&self) -> usize {
        let root = self.dir.path().join("evidence/sha256");
        std::fs::read_dir(&root)
            .map(|dirs| {
                dirs.flatten()
                    .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
                    .sum()
            })
            .unwrap_or(0)
    }

    async fn audit(&self, query: &str) -> Vec<Value> {
        let (s, b) = self
            .get(
                &format!("/api/v1/audit?since=2000-01-01T00:00:00Z{query}"),
                &self.admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["entries"].as_array().expect("entries").clone()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

fn kinds(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect()
}

fn make_writable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

async fn evidence_tour(app: App) {
    let alice = app.token("alice", "responder", false).await;
    let id = app.declare(&alice, false).await;
    let other = app.declare(&alice, false).await;
    let log =
        b"Nov 22 09:58:01 web-1 sshd[811]: Failed password for root from 203.0.113.7\n".repeat(50);
    let sha = sha256(&log);

    let (s, first) = app.upload(&alice, &id, "/var/log/auth.log", &log).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let e = &first["evidence"];
    assert_eq!(e["sha256"], sha.as_str());
    assert_eq!(e["size"], log.len());
    assert_eq!(e["file_name"], "auth.log", "directories are dropped");
    assert_eq!(e["media_type"], "text/plain");
    assert_eq!(
        (e["collected_by"].as_str(), e["collected_from"].as_str()),
        (Some("alice"), Some("web-1"))
    );
    assert_eq!(e["source"], "127.0.0.1");
    assert_eq!(std::fs::read(app.blob(&sha)).expect("blob on disk"), log);

    // The same content again: nothing new on this incident, one blob for both incidents.
    let (s, again) = app.upload(&alice, &id, "copy.log", &log).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true);
    let (s, elsewhere) = app.upload(&alice, &other, "auth.log", &log).await;
    assert_eq!(s, StatusCode::CREATED, "{elsewhere}");
    let shot = b"\x89PNG fake screenshot bytes".to_vec();
    let shot_sha = sha256(&shot);
    let (s, _) = app.upload(&alice, &id, "screen.png", &shot).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(app.blob_count(), 2, "one blob per distinct content");
    let (_, listed) = app
        .get(&format!("/api/v1/incidents/{id}/evidence"), &alice)
        .await;
    let shas: Vec<&str> = listed["evidence"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["sha256"].as_str().expect("sha"))
        .collect();
    assert_eq!(shas, vec![sha.as_str(), shot_sha.as_str()]);

    // Bad input names its field.
    let (s, b) = app.upload(&alice, &id, "", b"x").await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file_name"))
    );
    let (s, b) = app.upload(&alice, &id, "empty.txt", b"").await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body"))
    );
    let (s, b) = app
        .get(
            &format!("/api/v1/incidents/{id}/evidence/not-a-hash"),
            &alice,
        )
        .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("sha256"))
    );
    let (s, _) = app
        .get(
            &format!("/api/v1/incidents/{id}/evidence/{}", "0".repeat(64)),
            &alice,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Viewing, downloading and transferring each leave a custody event.
    let viewer = app.token("vic", "viewer", false).await;
    let (s, shown) = app
        .get(&format!("/api/v1/incidents/{id}/evidence/{sha}"), &viewer)
        .await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    let custody: Vec<(&str, &str)> = shown["custody"]
        .as_array()
        .expect("custody")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().expect("kind"),
                c["actor"].as_str().expect("actor"),
            )
        })
        .collect();
    assert_eq!(
        custody,
        vec![("evidence_added", "alice"), ("evidence_viewed", "vic")]
    );

    let resp = app
        .http
        .get(format!(
            "{}/api/v1/incidents/{id}/evidence/{sha}/content",
            app.base
        ))
        .bearer_auth(&viewer)
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.headers()["x-warroom-sha256"], sha.as_str());
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("auth.log")
    );
    let body = resp.bytes().await.expect("bytes");
    assert_eq!(sha256(&body), sha);

    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/{sha}/transfers"),
            &alice,
            Some(json!({ "to": "   " })),
        )
        .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("to"))
    );
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/{sha}/transfers"),
            &viewer,
            Some(json!({ "to": "Acme" })),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/{sha}/transfers"),
            &alice,
            Some(json!({ "to": "Acme Forensics", "reason": "case 2026-114" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["event"]["kind"], "evidence_transferred");
    let (_, events) = app
        .get(&format!("/api/v1/incidents/{id}/events"), &alice)
        .await;
    let k: Vec<String> = kinds(&events)
        .into_iter()
        .filter(|k| k.starts_with("evidence_"))
        .collect();
    assert_eq!(
        k,
        vec![
            "evidence_added",
            "evidence_added",
            "evidence_viewed",
            "evidence_downloaded",
            "evidence_transferred"
        ],
        "{k:?}"
    );
    let (s, report) = app.get("/api/v1/verify", &app.admin).await;
    assert_eq!(
        (s, report["ok"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{report}"
    );

    // Verify re-hashes every blob: all good, then one altered and one gone, each named.
    let (s, v) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/verify"),
            &alice,
            None,
        )
        .await;
    assert_eq!(
        (s, v["ok"].as_bool(), v["checked"].as_u64()),
        (StatusCode::OK, Some(true), Some(2)),
        "{v}"
    );
    make_writable(&app.blob(&sha));
    let mut altered = log.clone();
    altered[20] = b'X';
    std::fs::write(app.blob(&sha), &altered).expect("tamper");
    std::fs::remove_file(app.blob(&shot_sha)).expect("remove");
    let (_, v) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/verify"),
            &alice,
            None,
        )
        .await;
    assert_eq!(v["ok"], false);
    let items = v["items"].as_array().expect("items");
    assert_eq!(
        (items[0]["sha256"].as_str(), items[0]["status"].as_str()),
        (Some(sha.as_str()), Some("mismatch"))
    );
    assert_eq!(items[0]["actual_sha256"], sha256(&altered).as_str());
    assert_eq!(
        (items[1]["sha256"].as_str(), items[1]["status"].as_str()),
        (Some(shot_sha.as_str()), Some("missing"))
    );
    let (s, b) = app
        .get(
            &format!("/api/v1/incidents/{id}/evidence/{shot_sha}/content"),
            &alice,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    app.stop().await;
}

#[tokio::test]
async fn evidence_tour_on_sqlite() {
    evidence_tour(spawn_on(None).await).await;
}

#[tokio::test]
async fn evidence_tour_on_postgres() {
    evidence_tour(spawn_postgres().await).await;
}

/// A chunked upload (no Content-Length), so the limit is enforced while streaming.
async fn chunked_upload(app: &App, id: &str, token: &str, total: usize) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/incidents/{id}/evidence?file_name=dump.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b'a'; 8192];
    let mut sent = 0;
    while sent < total {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        // The server may answer and close once the limit is passed.
        if conn.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_and_leave_nothing() {
    let app = spawn_on(None).await;
    let id = app.declare(&app.admin, false).await;
    // Asked before sending: would this many bytes be taken? Nothing is stored either way.
    for (size, want) in [
        (LIMIT + 1, StatusCode::PAYLOAD_TOO_LARGE),
        (LIMIT, StatusCode::NO_CONTENT),
    ] {
        let r = app
            .http
            .post(format!("{}/api/v1/incidents/{id}/evidence", app.base))
            .query(&[
                ("file_name", "big.bin".to_string()),
                ("check_size", size.to_string()),
            ])
            .bearer_auth(&app.admin)
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), want, "check_size={size}");
    }
    assert_eq!(app.blob_count(), 0);
    // Declared too large: refused before reading.
    let big = vec![b'z'; LIMIT as usize + 1];
    let (s, b) = app.upload(&app.admin, &id, "big.bin", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .expect("message")
            .contains(&LIMIT.to_string()),
        "{b}"
    );
    // Not declared: refused once the stream passes the limit.
    let (status, text) = chunked_upload(&app, &id, &app.admin, 3 * LIMIT as usize).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains(&format!("limited to {LIMIT} bytes")),
        "{text}"
    );
    // Exactly the limit, streamed, is fine.
    let (status, text) = chunked_upload(&app, &id, &app.admin, LIMIT as usize).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(app.blob_count(), 1);
    let tmp = std::fs::read_dir(app.dir.path().join("evidence/tmp"))
        .expect("tmp")
        .count();
    assert_eq!(tmp, 0, "refused uploads leave no temporary files");
    let (_, listed) = app
        .get(&format!("/api/v1/incidents/{id}/evidence"), &app.admin)
        .await;
    assert_eq!(listed["evidence"].as_array().expect("list").len(), 1);
    app.stop().await;
}

async fn restricted_evidence_and_audit(app: App) {
    let owner = app.token("rita", "responder", false).await;
    let outsider = app.token("otto", "commander", false).await;
    let security = app.token("sec", "viewer", true).await;
    let id = app.declare(&owner, true).await;
    let dump = b"SELECT * FROM users; -- attacker query".to_vec();
    let sha = sha256(&dump);
    let (s, b) = app.upload(&owner, &id, "query.sql", &dump).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Outsiders get exactly the incident's 404, for every evidence route.
    let (s, incident_404) = app.get(&format!("/api/v1/incidents/{id}"), &outsider).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for (method, path) in [
        (Method::GET, format!("/api/v1/incidents/{id}/evidence")),
        (
            Method::GET,
            format!("/api/v1/incidents/{id}/evidence/{sha}"),
        ),
        (
            Method::GET,
            format!("/api/v1/incidents/{id}/evidence/{sha}/content"),
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{id}/evidence/verify"),
        ),
    ] {
        let (s, b) = app.call(method, &path, &outsider, None).await;
        assert_eq!((s, &b), (StatusCode::NOT_FOUND, &incident_404), "{path}");
    }
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/evidence/{sha}/transfers"),
            &outsider,
            Some(json!({ "to": "x" })),
        )
        .await;
    assert_eq!((s, &b), (StatusCode::NOT_FOUND, &incident_404));
    let (s, b) = app.upload(&outsider, &id, "mine.txt", b"planted").await;
    assert_eq!((s, &b), (StatusCode::NOT_FOUND, &incident_404));
    assert_eq!(app.blob_count(), 1, "nothing an outsider sends is stored");

    // The security team reads it, and each read is on the audit log.
    let (s, _) = app.get(&format!("/api/v1/incidents/{id}"), &security).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .get(
            &format!("/api/v1/incidents/{id}/export?format=md"),
            &security,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get("/api/v1/incidents", &security).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .get(&format!("/api/v1/incidents/{id}/evidence/{sha}"), &security)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .get(
            &format!("/api/v1/incidents/{id}/evidence/{sha}/content"),
            &security,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let reads: Vec<(String, String)> = app
        .audit("&actor=sec")
        .await
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["target"].as_str().expect("target").to_string(),
            )
        })
        .collect();
    let expect = |action: &str, target: String| (action.to_string(), target);
    assert!(
        reads.contains(&expect("restricted_read", format!("{id} incident"))),
        "{reads:?}"
    );
    assert!(
        reads.contains(&expect("restricted_read", format!("{id} timeline"))),
        "{reads:?}"
    );
    assert!(
        reads.contains(&expect("restricted_read", format!("incident list: {id}"))),
        "{reads:?}"
    );
    assert!(
        reads.contains(&expect("evidence_view", format!("{id}/{sha}"))),
        "{reads:?}"
    );
    assert!(
        reads.contains(&expect("evidence_download", format!("{id}/{sha}"))),
        "{reads:?}"
    );
    assert_eq!(
        reads.iter().filter(|(a, _)| a == "token_use").count(),
        1,
        "token use is coalesced: {reads:?}"
    );

    // Failed authentication is recorded, with the source and no secret.
    let (s, _) = app.get("/api/v1/whoami", "wr_guessed-token").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .call(
            Method::POST,
            "/api/v1/events",
            "0123456789abcdef0123456789abcdef",
            Some(json!({ "summary": "x" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let failures = app.audit("&action=auth_failure").await;
    let seen: Vec<(&str, &str)> = failures
        .iter()
        .map(|e| {
            (
                e["target"].as_str().expect("target"),
                e["source"].as_str().expect("source"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![("api token", "127.0.0.1"), ("routing key", "127.0.0.1")]
    );
    let text = Value::Array(failures.clone()).to_string();
    assert!(
        !text.contains("guessed") && !text.contains("0123456789abcdef"),
        "no secret in the log"
    );

    // Token use: once per token per ten minutes.
    let uses = |entries: Vec<Value>| entries.iter().filter(|e| e["actor"] == "rita").count();
    let before = uses(app.audit("&action=token_use").await);
    assert_eq!(before, 1);
    app.get("/api/v1/whoami", &owner).await;
    assert_eq!(uses(app.audit("&action=token_use").await), 1);
    app.clock.advance(SignedDuration::from_mins(11));
    app.get("/api/v1/whoami", &owner).await;
    assert_eq!(uses(app.audit("&action=token_use").await), 2);

    // Only admins read the log; bad filters name their field.
    for token in [&owner, &outsider, &security] {
        let (s, _) = app.get("/api/v1/audit", token).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, b) = app.get("/api/v1/audit?action=peek", &app.admin).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("action"))
    );
    let (s, b) = app.get("/api/v1/audit?since=yesterday", &app.admin).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("since"))
    );
    let (s, b) = app
        .get("/api/v1/audit?verify=true&since=1h", &app.admin)
        .await;
    assert_eq!(
        (s, b["verified"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{b}"
    );
    assert!(b["total"].as_u64().expect("total") >= 8);
    app.stop().await;
}

#[tokio::test]
async fn restricted_evidence_and_audit_on_sqlite() {
    restricted_evidence_and_audit(spawn_on(None).await).await;
}

#[tokio::test]
async fn restricted_evidence_and_audit_on_postgres() {
    restricted_evidence_and_audit(spawn_postgres().await).await;
}

#[tokio::test]
async fn a_tampered_audit_entry_is_named() {
    use sqlx::Connection;
    let app = spawn_on(None).await;
    let (s, _) = app.get("/api/v1/whoami", "wr_nope").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let entries = app.audit("").await;
    assert!(entries.len() >= 2, "{entries:?}");
    let url = format!("sqlite://{}", app.dir.path().join("warroom.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("raw");
    sqlx::raw_sql(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET source = '10.9.9.9' WHERE seq = 1",
    )
    .execute(&mut conn)
    .await
    .expect("tamper");
    let (s, b) = app.get("/api/v1/audit?verify=true", &app.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (b["verified"].as_bool(), b["broken"]["seq"].as_u64()),
        (Some(false), Some(1)),
        "{b}"
    );
    app.stop().await;
}

async fn indicators_tour(app: App) {
    let alice = app.token("alice", "responder", false).await;
    let outsider = app.token("otto", "commander", false).await;
    let a = app.declare(&alice, false).await;
    let b = app.declare(&alice, false).await;
    let secret = app.declare(&alice, true).await;
    let post = |id: String, body: Value| {
        let app = &app;
        let alice = alice.clone();
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/incidents/{id}/indicators"),
                &alice,
                Some(body),
            )
            .await
        }
    };

    let (s, r) = post(a.clone(), json!({ "kind": "ip", "value": " 2001:DB8::0:1 ", "first_seen": "2026-11-22T08:00:00Z", "last_seen": "2026-11-22T09:00:00Z", "note": "scanner" })).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["indicator"]["value"].as_str(), r["change"].as_str()),
        (Some("2001:db8::1"), Some("new"))
    );
    // Seen again, later: the window widens, one more event.
    let (s, r) = post(
        a.clone(),
        json!({ "kind": "ip", "value": "2001:db8::1", "last_seen": "2026-11-22T09:30:00Z" }),
    )
    .await;
    assert_eq!(
        (s, r["change"].as_str()),
        (StatusCode::OK, Some("updated")),
        "{r}"
    );
    assert_eq!(r["indicator"]["first_seen"], "2026-11-22T08:00:00Z");
    assert_eq!(r["indicator"]["last_seen"], "2026-11-22T09:30:00Z");
    assert_eq!(r["indicator"]["note"], "scanner");
    let (s, r) = post(a.clone(), json!({ "kind": "ip", "value": "2001:db8::1" })).await;
    assert_eq!(
        (s, r["change"].as_str()),
        (StatusCode::OK, Some("unchanged"))
    );
    let (_, events) = app
        .get(&format!("/api/v1/incidents/{a}/events"), &alice)
        .await;
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| *k == "indicator_recorded")
            .count(),
        2
    );

    for (id, kind, value) in [
        (&b, "domain", "Evil.Example.COM."),
        (&b, "hash", "D41D8CD98F00B204E9800998ECF8427E"),
        (&secret, "domain", "evil.example.com"),
        (&secret, "email", "Billing@Evil.Example.com"),
    ] {
        let (s, r) = post(id.clone(), json!({ "kind": kind, "value": value })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    // Bad input names the field.
    for (body, field) in [
        (json!({ "kind": "ip", "value": "300.1.1.1" }), "value"),
        (json!({ "kind": "hash", "value": "abc" }), "value"),
        (
            json!({ "kind": "ip", "value": "10.0.0.1", "first_seen": "2026-11-22T10:00:00Z", "last_seen": "2026-11-22T09:00:00Z" }),
            "last_seen",
        ),
    ] {
        let (s, r) = post(a.clone(), body).await;
        assert_eq!(
            (s, r["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{r}"
        );
    }
    let (s, r) = post(a.clone(), json!({ "kind": "phone", "value": "1" })).await;
    assert!(s.is_client_error(), "{r}");

    // Search finds related incidents, only those the caller may see.
    let (s, found) = app
        .get("/api/v1/indicators?value=EVIL.example.com", &alice)
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let ids: Vec<&str> = found["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["incident_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        vec![secret.as_str(), b.as_str()],
        "newest first; the reporter sees the restricted one"
    );
    let (_, found) = app
        .get("/api/v1/indicators?value=evil.example.com", &outsider)
        .await;
    let ids: Vec<&str> = found["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["incident_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        vec![b.as_str()],
        "a restricted incident's indicators never leak"
    );
    let (_, found) = app
        .get(
            "/api/v1/indicators?value=billing@evil.example.com&kind=email",
            &outsider,
        )
        .await;
    assert_eq!(found["matches"], json!([]));
    let (s, _) = app
        .get(&format!("/api/v1/incidents/{secret}/indicators"), &outsider)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = post(secret.clone(), json!({ "kind": "ip", "value": "10.0.0.1" })).await;
    assert_eq!(s, StatusCode::CREATED, "the reporter may add");
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{secret}/indicators"),
            &outsider,
            Some(json!({ "kind": "ip", "value": "10.0.0.2" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, r) = app
        .get("/api/v1/indicators?value=2001:0db8::1", &alice)
        .await;
    assert_eq!(r["matches"][0]["incident_id"], a.as_str(), "{s} {r}");
    let (s, r) = app
        .get("/api/v1/indicators?value=x&kind=phone", &alice)
        .await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
    );
    let (s, r) = app.get("/api/v1/indicators", &alice).await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("value"))
    );
    let reads = app.audit("&actor=alice&action=restricted_read").await;
    assert!(
        reads
            .iter()
            .any(|e| e["target"] == format!("indicator search: {secret}").as_str()),
        "{reads:?}"
    );
    let (_, report) = app.get("/api/v1/verify", &app.admin).await;
    assert_eq!(report["ok"], true);
    app.stop().await;
}

#[tokio::test]
async fn indicators_on_sqlite() {
    indicators_tour(spawn_on(None).await).await;
}

#[tokio::test]
async fn indicators_on_postgres() {
    indicators_tour(spawn_postgres().await).await;
}
