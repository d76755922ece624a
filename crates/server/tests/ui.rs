//! The web UI through the real server: logins, cookies, CSRF, headers, the dashboard, the
//! incident room and live updates, each test with a fresh database and a manual clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock};
use warroom_server::ui::CONTENT_SECURITY_POLICY;
use warroom_server::{Running, ServeOptions};

const PASSWORD: &str = "correct horse battery staple";

struct App {
    base: String,
    admin: String,
    api: reqwest::Client,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    running: Option<Running>,
}

fn t0() -> Timestamp {
    "2026-11-22T10:00:00Z".parse().expect("time")
}

async fn spawn_with(secure_cookies: bool) -> App {
    spawn_secure(
        secure_cookies,
        warroom_server::security::SecurityOptions::default(),
    )
    .await
}

async fn spawn_secure(
    secure_cookies: bool,
    security: warroom_server::security::SecurityOptions,
) -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(t0()));
    let running = warroom_server::start_secure(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            config: Config::builtin(),
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public: false,
            secure_cookies,
        },
        security,
        clock.clone(),
        warroom_engine::DeliveryOptions::default(),
    )
    .await
    .expect("server starts");
    App {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        api: reqwest::Client::new(),
        clock,
        _dir: dir,
        running: Some(running),
    }
}

async fn spawn() -> App {
    spawn_with(false).await
}

impl App {
    async fn api_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .api
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn api_get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .api
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn user(&self, name: &str, role: &str, security: bool) {
        let (s, b) = self
            .api_post(
                "/api/v1/users",
                json!({ "name": name, "role": role, "security": security, "password": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert!(b.get("password_hash").is_none(), "{b}");
    }

    async fn declare(&self, body: Value) -> String {
        let (s, b) = self.api_post("/api/v1/incidents", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().expect("id").to_string()
    }

    fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser logged in as `name`.
    async fn login(&self, name: &str) -> Browser {
        self.login_with(name, PASSWORD).await
    }

    /// A browser logged in as `name` with `password`.
    async fn login_with(&self, name: &str, password: &str) -> Browser {
        let mut b = self.browser();
        let r = b.login(name, password).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        b
    }
}

/// A cookie-keeping client that does not follow redirects, so tests see each answer.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_string())
            .collect()
    }

    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The value of the first hidden `csrf` input in a page.
fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].split('"').next().expect("value").to_string()
}

impl Browser {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie.join("; "))
        };
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let text = v.to_str().expect("ascii");
            let pair = text.split(';').next().expect("pair");
            let (k, v) = pair.split_once('=').expect("name=value");
            if v.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        Answer {
            status,
            headers,
            body: r.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    async fn login(&mut self, name: &str, password: &str) -> Answer {
        let form = self.get("/ui/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let nonce = csrf_in(&form.body);
        self.post(
            "/ui/login",
            &[("csrf", &nonce), ("name", name), ("password", password)],
        )
        .await
    }

    /// The CSRF token of this session, read from a page like a browser would.
    async fn csrf(&mut self) -> String {
        let page = self.get("/ui/").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        csrf_in(&page.body)
    }
}

fn assert_security_headers(a: &Answer) {
    let h = |name: &str| {
        a.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(h("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
}

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_logout_ends_the_session() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let mut anon = app.browser();
    let r = anon.get("/ui/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/ui/login");

    let mut b = app.browser();
    let r = b.login("alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/ui/");
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("warroom_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/;", "Max-Age=43200"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let secret = b.cookies["warroom_session"].clone();
    assert_eq!(secret.len(), 64);

    let home = b.get("/ui/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("alice"), "{}", home.body);
    assert_security_headers(&home);

    // Logging out needs the CSRF token too.
    let r = b.post("/ui/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = b.csrf().await;
    let r = b.post("/ui/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/ui/login");
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("warroom_session=;") && c.contains("Max-Age=0"))
    );
    // The old secret is dead on the server, not just forgotten by the browser.
    b.cookies.insert("warroom_session".into(), secret);
    let r = b.get("/ui/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/ui/login");
}

#[tokio::test]
async fn sessions_expire_after_their_lifetime() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let mut b = app.login("alice").await;
    app.clock
        .advance(SignedDuration::from_hours(12) - SignedDuration::from_secs(1));
    assert_eq!(b.get("/ui/").await.status, StatusCode::OK);
    app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(b.get("/ui/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failed_logins_say_one_thing_whatever_failed() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let mut b = app.browser();
    let wrong = b.login("alice", "not the password at all").await;
    let unknown = b.login("nobody", PASSWORD).await;
    let blank = b.login("", "").await;
    for r in [&wrong, &unknown, &blank] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(
            r.body.contains("Wrong user name or password."),
            "{}",
            r.body
        );
        assert!(!r.body.contains("nobody"), "the name is not echoed");
    }
    assert!(!b.cookies.contains_key("warroom_session"));
    // Each failed sign-in is on the audit log, with the name tried and never the password.
    let (s, log) = app
        .api_get("/api/v1/audit?action=auth_failure&since=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let tried: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["target"].as_str().expect("target"),
                e["actor"].as_str().expect("actor"),
            )
        })
        .collect();
    assert_eq!(
        tried,
        vec![
            ("web sign-in", "alice"),
            ("web sign-in", "nobody"),
            ("web sign-in", "-")
        ]
    );
    assert!(!log.to_string().contains("not the password"));
}

#[tokio::test]
async fn logins_without_the_form_nonce_are_refused() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let mut b = app.browser();
    // No nonce cookie at all (a cross-site form post).
    let r = b
        .post(
            "/ui/login",
            &[("csrf", "abc"), ("name", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A cookie, but the form carries another value.
    b.get("/ui/login").await;
    let r = b
        .post(
            "/ui/login",
            &[("csrf", "abc"), ("name", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("warroom_session"));
}

#[tokio::test]
async fn cookies_are_secure_when_told_the_server_is_behind_tls() {
    let app = spawn_with(true).await;
    app.user("alice", "responder", false).await;
    let mut b = app.browser();
    let r = b.login("alice", PASSWORD).await;
    let cookies = r.set_cookies();
    assert!(!cookies.is_empty());
    assert!(
        cookies.iter().all(|c| c.ends_with("; Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn every_ui_answer_carries_the_security_headers() {
    let app = spawn().await;
    app.user("alice", "viewer", false).await;
    let mut b = app.login("alice").await;
    for path in [
        "/ui/login",
        "/ui/",
        "/ui/incidents/INC-20261122-999",
        "/ui/incidents/nonsense",
        "/ui/static/style.css",
        "/ui/static/live.js",
    ] {
        let r = b.get(path).await;
        assert_security_headers(&r);
    }
    let css = b.get("/ui/static/style.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    let js = b.get("/ui/static/live.js").await;
    assert_eq!(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert!(js.body.contains("EventSource"));
    // No inline script or style anywhere: the CSP would block them.
    let home = b.get("/ui/").await;
    assert!(!home.body.contains("<script>") && !home.body.contains("style="));
    assert!(
        home.body
            .contains("<script src=\"/ui/static/live.js\" defer></script>")
    );
    let missing = b.get("/ui/incidents/INC-20261122-999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("no incident INC-20261122-999"));
}

/// The open incidents' ids in the order the dashboard lists them.
fn listed_ids(html: &str) -> Vec<String> {
    html.split("<tr class=\"incident\" data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn dashboard_orders_by_severity_then_age_and_words_overdue() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let old_p2 = app
        .declare(json!({ "title": "Slow search", "severity": "P2" }))
        .await;
    app.clock.advance(SignedDuration::from_mins(1));
    let p0 = app
        .declare(json!({ "title": "Checkout down", "severity": "P0" }))
        .await;
    app.clock.advance(SignedDuration::from_mins(1));
    let new_p2 = app
        .declare(json!({ "title": "Slow reports", "severity": "P2" }))
        .await;
    let resolved = app
        .declare(json!({ "title": "Blip", "severity": "P3" }))
        .await;
    let (s, b) = app
        .api_post(
            &format!("/api/v1/incidents/{resolved}/resolve"),
            json!({ "summary": "went away" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let mut b = app.login("alice").await;
    let page = b.get("/ui/").await;
    assert_eq!(
        listed_ids(&page.body),
        [p0.clone(), old_p2.clone(), new_p2.clone()]
    );
    // The P0's acknowledgement target is 15 minutes after its declaration, a minute ago.
    assert!(
        page.body
            .contains("acknowledge: 2026-11-22 10:16 UTC, <span class=\"flag\"><time data-countdown datetime=\"2026-11-22T10:16:00Z\">in 14m 0s</time>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("overdue"), "nothing is overdue yet");
    assert!(
        page.body.contains(&format!("{resolved}</a>")),
        "recently resolved"
    );
    assert!(page.body.contains("Resolved in the last 7 days (1)"));

    app.clock.advance(SignedDuration::from_mins(15));
    let page = b.get("/ui/").await;
    let p0_row = page
        .body
        .split("<tr class=\"incident\"")
        .find(|r| r.contains(&p0))
        .expect("p0 row");
    assert!(p0_row.contains("class=\"overdue\""), "{p0_row}");
    assert!(p0_row.contains("overdue by 1m 0s"), "{p0_row}");
    let p2_row = page
        .body
        .split("<tr class=\"incident\"")
        .find(|r| r.contains(&new_p2))
        .expect("p2 row");
    assert!(!p2_row.contains("overdue"), "{p2_row}");

    // A week later the resolved incident has dropped off the recent list.
    app.clock.advance(SignedDuration::from_hours(7 * 24));
    // (The session ran out meanwhile.)
    let mut b = app.login("alice").await;
    let page = b.get("/ui/").await;
    assert!(page.body.contains("Resolved in the last 7 days (0)"));
}

#[tokio::test]
async fn notes_from_the_room_are_stored_and_rendered_escaped() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let id = app
        .declare(json!({ "title": "<b>bold</b> title", "severity": "P1" }))
        .await;
    let mut b = app.login("alice").await;
    let room = b.get(&format!("/ui/incidents/{id}")).await;
    assert_eq!(room.status, StatusCode::OK);
    assert!(
        room.body.contains("&lt;b&gt;bold&lt;&#x2f;b&gt; title"),
        "{}",
        room.body
    );
    let csrf = csrf_in(&room.body);
    let hostile = "<script>alert(1)</script> & \"quotes\"";
    let r = b
        .post(
            &format!("/ui/incidents/{id}/notes"),
            &[("csrf", &csrf), ("text", hostile)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/ui/incidents/{id}"));
    let room = b.get(&format!("/ui/incidents/{id}")).await;
    assert!(!room.body.contains("<script>alert(1)"), "{}", room.body);
    assert!(
        room.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;quotes&quot;"),
        "{}",
        room.body
    );
    // The note is a real event, attributed to the user, as if made through the API.
    let events: Value = app
        .api
        .get(format!("{}/api/v1/incidents/{id}/events", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    let note = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "note_added")
        .expect("note");
    assert_eq!(note["actor"], "alice");
    assert_eq!(note["data"]["text"], hostile);

    // The timeline filter shows notes only.
    let notes = b.get(&format!("/ui/incidents/{id}?kind=notes")).await;
    assert!(notes.body.contains("kind-note_added"));
    assert!(!notes.body.contains("kind-declared"));
    let system = b.get(&format!("/ui/incidents/{id}?kind=system")).await;
    assert!(system.body.contains("kind-declared"));
    assert!(!system.body.contains("kind-note_added"));
    let bad = b.get(&format!("/ui/incidents/{id}?kind=gossip")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("kind: expected"));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    app.user("bob", "responder", false).await;
    let id = app
        .declare(json!({ "title": "Disk", "severity": "P2" }))
        .await;
    let mut alice = app.login("alice").await;
    let mut bob = app.login("bob").await;
    let bobs = bob.csrf().await;
    let path = format!("/ui/incidents/{id}/notes");
    for form in [
        vec![("text", "no token")],
        vec![("text", "wrong token"), ("csrf", "0123")],
        // Another session's token is no good either.
        vec![("text", "bob's token"), ("csrf", bobs.as_str())],
    ] {
        let r = alice.post(&path, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(r.body.contains("csrf:"), "{}", r.body);
    }
    for action in [
        "acknowledge",
        "status",
        "resolve",
        "escalate",
        "severity",
        "roles",
    ] {
        let r = alice
            .post(
                &format!("/ui/incidents/{id}/{action}"),
                &[
                    ("status", "contained"),
                    ("summary", "x"),
                    ("severity", "P0"),
                    ("role", "scribe"),
                    ("person", "zed"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
        assert!(r.body.contains("csrf:"), "{action}: {}", r.body);
    }
    let room = alice.get(&format!("/ui/incidents/{id}")).await;
    assert!(
        !room.body.contains("kind-note_added"),
        "nothing was recorded"
    );
    assert!(room.body.contains("not yet"), "not acknowledged");
}

#[tokio::test]
async fn room_actions_acknowledge_change_status_and_resolve() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let id = app
        .declare(json!({ "title": "Queue", "severity": "P1" }))
        .await;
    let mut b = app.login("alice").await;
    let room = b.get(&format!("/ui/incidents/{id}")).await;
    let csrf = csrf_in(&room.body);
    let post = |action: &str| format!("/ui/incidents/{id}/{action}");
    let r = b.post(&post("acknowledge"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = b
        .post(
            &post("status"),
            &[
                ("csrf", &csrf),
                ("status", "contained"),
                ("reason", "rate limit on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = b
        .post(&post("status"), &[("csrf", &csrf), ("status", "sideways")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("status:"), "{}", r.body);
    let r = b
        .post(&post("resolve"), &[("csrf", &csrf), ("summary", " ")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("summary: required"), "{}", r.body);
    let r = b
        .post(&post("resolve"), &[("csrf", &csrf), ("summary", "drained")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let room = b.get(&format!("/ui/incidents/{id}")).await;
    assert!(
        room.body.contains("<dt>Status</dt><dd>resolved</dd>"),
        "{}",
        room.body
    );
    assert!(room.body.contains("2026-11-22 10:00 UTC by alice"));
    // Exports go through the session too.
    let md = b.get(&format!("/ui/incidents/{id}/export?format=md")).await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(md.body.contains("drained"));
    let csv = b
        .get(&format!("/ui/incidents/{id}/export?format=csv"))
        .await;
    assert!(
        csv.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
}

#[tokio::test]
async fn viewers_read_but_cannot_post() {
    let app = spawn().await;
    app.user("vera", "viewer", false).await;
    let id = app
        .declare(json!({ "title": "Cache", "severity": "P2" }))
        .await;
    let mut b = app.login("vera").await;
    let room = b.get(&format!("/ui/incidents/{id}")).await;
    assert_eq!(room.status, StatusCode::OK);
    assert!(!room.body.contains("Add note"), "no forms for viewers");
    let csrf = b.csrf().await;
    let r = b
        .post(
            &format!("/ui/incidents/{id}/notes"),
            &[("csrf", &csrf), ("text", "hi")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("responder"), "{}", r.body);
    let r = b
        .post(
            &format!("/ui/incidents/{id}/acknowledge"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn restricted_incidents_are_invisible_to_non_participants() {
    let app = spawn().await;
    // Not a configured person: never paged, so never a participant.
    app.user("outsider", "commander", false).await;
    app.user("sec", "viewer", true).await;
    let secret = app
        .declare(json!({ "title": "Credential leak", "severity": "P1", "restricted": true }))
        .await;
    let public = app
        .declare(json!({ "title": "Slow", "severity": "P3" }))
        .await;
    let mut alice = app.login("outsider").await;
    let home = alice.get("/ui/").await;
    assert_eq!(listed_ids(&home.body), std::slice::from_ref(&public));
    assert!(!home.body.contains("Credential leak"));
    for path in [
        format!("/ui/incidents/{secret}"),
        format!("/ui/incidents/{secret}/export?format=json"),
    ] {
        let r = alice.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.body.contains("Credential leak"));
    }
    let csrf = alice.csrf().await;
    let r = alice
        .post(
            &format!("/ui/incidents/{secret}/notes"),
            &[("csrf", &csrf), ("text", "peek")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The security team sees it.
    let mut sec = app.login("sec").await;
    let home = sec.get("/ui/").await;
    assert_eq!(listed_ids(&home.body).len(), 2);
    assert!(home.body.contains("restricted"));
    assert_eq!(
        sec.get(&format!("/ui/incidents/{secret}")).await.status,
        StatusCode::OK
    );
}

/// Reads the event stream until a `change` event arrives (or the deadline passes).
async fn next_change(resp: &mut reqwest::Response) -> Option<String> {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, resp.chunk()).await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(at) = seen.find("event: change\ndata: ") {
            let rest = &seen[at + "event: change\ndata: ".len()..];
            if let Some(end) = rest.find('\n') {
                return Some(rest[..end].to_string());
            }
        }
    }
    None
}

#[tokio::test]
async fn a_change_made_through_the_api_reaches_open_pages_as_an_event() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let id = app
        .declare(json!({ "title": "API errors", "severity": "P2" }))
        .await;
    let mut b = app.login("alice").await;
    let home = b.get("/ui/").await;
    let marker: i64 = home
        .body
        .split("data-marker=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("the page carries its change marker");
    // Unauthenticated streams are refused.
    assert_eq!(
        app.browser().get("/ui/events").await.status,
        StatusCode::SEE_OTHER
    );
    let cookie = format!("warroom_session={}", b.cookies["warroom_session"]);
    let mut stream = reqwest::Client::new()
        .get(format!("{}/ui/events?since={marker}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // What the CLI does: a note through the JSON API with a token.
    let (s, body) = app
        .api_post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({ "text": "from the CLI" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let data = next_change(&mut stream).await.expect("a change event");
    let now: i64 = data.parse().expect("marker");
    assert!(now > marker, "{now} > {marker}");
    // A change made before the stream opened is still reported, thanks to ?since=.
    let mut late = reqwest::Client::new()
        .get(format!("{}/ui/events?since={marker}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("stream");
    assert_eq!(next_change(&mut late).await.as_deref(), Some(data.as_str()));
}

#[tokio::test]
async fn dashboard_snapshot_with_a_fixed_clock() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    app.declare(json!({ "title": "Checkout down", "severity": "P0", "services": ["api"] }))
        .await;
    app.clock.advance(SignedDuration::from_mins(20));
    app.declare(json!({ "title": "Slow <search>", "severity": "P2" }))
        .await;
    let mut b = app.login("alice").await;
    let page = b.get("/ui/").await;
    let main = page
        .body
        .split("<main id=\"main\">")
        .nth(1)
        .and_then(|m| m.split("</main>").next())
        .expect("main");
    // The session's CSRF token is random; everything else is fixed by the clock.
    let main = main.replace(&csrf_in(main), "CSRF");
    insta::assert_snapshot!("dashboard", main);
}

#[tokio::test]
async fn shutdown_ends_open_event_streams() {
    let mut app = spawn().await;
    app.user("alice", "viewer", false).await;
    let b = app.login("alice").await;
    let mut stream = reqwest::Client::new()
        .get(format!("{}/ui/events", app.base))
        .header(
            "cookie",
            format!("warroom_session={}", b.cookies["warroom_session"]),
        )
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let running = app.running.take().expect("running");
    tokio::time::timeout(Duration::from_secs(10), running.stop())
        .await
        .expect("stop does not wait for the open stream");
    // The stream ended cleanly rather than hanging.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream was closed");
}

#[tokio::test]
async fn commanders_change_severity_and_assign_roles_from_the_room() {
    let app = spawn().await;
    app.user("cmdr", "commander", false).await;
    app.user("resp", "responder", false).await;
    let id = app
        .declare(json!({ "title": "Latency", "severity": "P2" }))
        .await;
    let mut resp = app.login("resp").await;
    let room = resp.get(&format!("/ui/incidents/{id}")).await;
    assert!(room.body.contains("Escalate"));
    assert!(
        !room.body.contains("Change severity"),
        "commander forms hidden"
    );
    let csrf = csrf_in(&room.body);
    let r = resp
        .post(
            &format!("/ui/incidents/{id}/severity"),
            &[("csrf", &csrf), ("severity", "P0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("commander"), "{}", r.body);

    let mut cmdr = app.login("cmdr").await;
    let room = cmdr.get(&format!("/ui/incidents/{id}")).await;
    assert!(room.body.contains("<option value=\"P1\">P1</option>"));
    assert!(
        !room.body.contains("<option value=\"P2\">"),
        "not the current one"
    );
    let csrf = csrf_in(&room.body);
    let r = cmdr
        .post(
            &format!("/ui/incidents/{id}/severity"),
            &[
                ("csrf", &csrf),
                ("severity", "P1"),
                ("reason", "customers notice"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = cmdr
        .post(
            &format!("/ui/incidents/{id}/roles"),
            &[
                ("csrf", &csrf),
                ("role", "incident-commander"),
                ("person", "cmdr"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = cmdr
        .post(
            &format!("/ui/incidents/{id}/roles"),
            &[("csrf", &csrf), ("role", "incident-commander")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("person: required"));
    let room = cmdr.get(&format!("/ui/incidents/{id}")).await;
    assert!(
        room.body
            .contains("<dt>Severity</dt><dd class=\"sev\">P1</dd>"),
        "{}",
        room.body
    );
    assert!(
        room.body
            .contains("<dt>Incident commander</dt><dd>cmdr</dd>"),
        "{}",
        room.body
    );
    let home = cmdr.get("/ui/").await;
    assert!(home.body.contains("<td data-label=\"Commander\">cmdr</td>"));
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_address_out() {
    use warroom_server::security::{LimitOptions, SecurityOptions};
    let mut limits = LimitOptions::unlimited();
    limits.lockout.max_failures = 3;
    limits.lockout.window_secs = 60;
    limits.lockout.lockout_secs = 300;
    let app = spawn_secure(
        false,
        SecurityOptions {
            limits,
            ..SecurityOptions::default()
        },
    )
    .await;
    app.user("rita", "responder", false).await;
    let mut b = app.browser();
    for _ in 0..3 {
        let r = b.login("rita", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    // Locked out: even the right password is refused, without saying whether it was right.
    let r = b.login("rita", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("300")
    );
    app.clock.advance(jiff::SignedDuration::from_secs(301));
    let r = b.login("rita", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn responders_declare_from_the_dashboard_and_viewers_cannot() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    app.user("vic", "viewer", false).await;

    let mut rita = app.login("rita").await;
    let page = rita.get("/ui/").await;
    assert!(page.body.contains("Declare an incident"), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let answer = rita
        .post(
            "/ui/incidents",
            &[
                ("csrf", &csrf),
                ("title", "Checkout <errors> after deploy"),
                ("severity", "P2"),
                ("type", "outage"),
                ("services", "payments, web"),
                ("description", "5xx on /checkout"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let room = answer.location().to_string();
    assert!(room.starts_with("/ui/incidents/INC-"), "{room}");
    let page = rita.get(&room).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Checkout &lt;errors&gt; after deploy"),
        "{}",
        page.body
    );
    let id = room.trim_start_matches("/ui/incidents/");
    let (s, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(inc["services"], json!(["payments", "web"]));
    assert_eq!(
        (inc["type"].as_str(), inc["reporter"].as_str()),
        (Some("outage"), Some("rita"))
    );

    // A missing title is refused by name; nothing is declared.
    let answer = rita
        .post(
            "/ui/incidents",
            &[("csrf", &csrf), ("title", " "), ("severity", "P2")],
        )
        .await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    assert!(answer.body.contains("title"), "{}", answer.body);

    // Viewers see no form and cannot post one.
    let mut vic = app.login("vic").await;
    let page = vic.get("/ui/").await;
    assert!(!page.body.contains("Declare an incident"), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let answer = vic
        .post(
            "/ui/incidents",
            &[("csrf", &csrf), ("title", "Nope"), ("severity", "P3")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}

#[tokio::test]
async fn the_on_call_page_shows_who_is_on_call_and_the_coming_shifts() {
    let app = spawn().await;
    app.user("vic", "viewer", false).await;
    let mut vic = app.login("vic").await;
    let page = vic.get("/ui/oncall").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_security_headers(&page);
    // The built-in example schedule, its person on call now, and two weeks of shifts.
    let (s, listed) = app.api_get("/api/v1/schedules").await;
    assert_eq!(s, StatusCode::OK);
    let schedule = &listed["schedules"][0];
    let name = schedule["name"].as_str().expect("name");
    assert!(page.body.contains(name), "{}", page.body);
    let now = schedule["on_call_now"].as_str().expect("someone on call");
    let (_, config) = app.api_get("/api/v1/config").await;
    let person = config["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["id"] == now)
        .and_then(|p| p["name"].as_str())
        .expect("person");
    assert!(
        page.body
            .contains(&format!("On call now: <strong>{person}</strong>")),
        "{}",
        page.body
    );
    let shifts = schedule["shifts"].as_array().expect("shifts").len();
    assert!(shifts > 0);
    assert_eq!(page.body.matches("data-label=\"Who\"").count(), shifts);
    // Logged-out visitors are sent to the login page.
    let mut stranger = app.browser();
    let answer = stranger.get("/ui/oncall").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/ui/login");
}

#[tokio::test]
async fn the_room_works_the_playbook_checklist() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    app.user("vic", "viewer", false).await;
    let id = app
        .declare(json!({ "title": "Web down", "severity": "P2", "type": "outage" }))
        .await;
    let room = format!("/ui/incidents/{id}");

    let mut rita = app.login("rita").await;
    let page = rita.get(&room).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Checklist"), "{}", page.body);
    assert!(
        page.body.contains("Application downtime") || page.body.contains("application-downtime"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Confirm the outage the way a customer sees it"),
        "{}",
        page.body
    );
    let csrf = csrf_in(&page.body);
    let tasks = format!("{room}/tasks");
    let done = rita
        .post(
            &tasks,
            &[
                ("csrf", &csrf),
                ("playbook", "application-downtime"),
                ("task", "confirm-from-outside"),
                ("action", "done"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let skip = rita
        .post(
            &tasks,
            &[
                ("csrf", &csrf),
                ("playbook", "application-downtime"),
                ("task", "check-providers"),
                ("action", "skip"),
                ("reason", ""),
            ],
        )
        .await;
    assert!(skip.status.is_client_error(), "{}", skip.status);
    assert!(skip.body.contains("reason"), "{}", skip.body);
    let (_, listed) = app.api_get(&format!("/api/v1/incidents/{id}/tasks")).await;
    let task = listed["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["task"] == "confirm-from-outside")
        .expect("task")
        .clone();
    assert_eq!(
        (task["state"].as_str(), task["by"].as_str()),
        (Some("done"), Some("rita"))
    );
    let page = rita.get(&room).await;
    assert!(page.body.contains("done by rita"), "{}", page.body);

    // A viewer reads the checklist but gets no buttons.
    let mut vic = app.login("vic").await;
    let page = vic.get(&room).await;
    assert!(page.body.contains("Checklist"));
    assert!(
        !page.body.contains("action=\"/ui/incidents/"),
        "viewer sees forms: {}",
        page.body
    );
}

#[tokio::test]
async fn the_room_drafts_and_sends_messages_and_shows_the_clocks() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    let id = app
        .declare(
            json!({ "title": "Export bucket was public", "severity": "P2", "type": "data-breach",
            "labels": { "personal-data": "yes", "jurisdiction": "EU" } }),
        )
        .await;
    let room = format!("/ui/incidents/{id}");
    let mut rita = app.login("rita").await;
    let page = rita.get(&room).await;
    assert!(
        page.body.contains("Notification deadlines"),
        "{}",
        page.body
    );
    assert!(page.body.contains("GDPR Art. 33"), "{}", page.body);
    assert!(
        !page.body.contains("id=\"msg-text\""),
        "no draft until one is asked for"
    );

    let page = rita.get(&format!("{room}?compose=internal-update")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"msg-text\""), "{}", page.body);
    assert!(
        page.body.contains(&format!("Update on {id}")),
        "{}",
        page.body
    );
    let bad = rita.get(&format!("{room}?compose=no-such-template")).await;
    assert!(bad.status.is_client_error(), "{}", bad.status);

    let csrf = csrf_in(&page.body);
    let send = format!("{room}/messages");
    let missing = rita
        .post(
            &send,
            &[
                ("csrf", &csrf),
                ("template", "internal-update"),
                ("subject", "S"),
                ("text", "T"),
                ("to", " "),
            ],
        )
        .await;
    assert!(
        missing.status.is_client_error() && missing.body.contains("to"),
        "{}",
        missing.body
    );
    let sent = rita
        .post(
            &send,
            &[
                ("csrf", &csrf),
                ("template", "internal-update"),
                ("subject", "Bucket closed"),
                (
                    "text",
                    "The bucket is private again; counting exposed records.",
                ),
                ("to", "incident-room, email:dpo@example.com"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let (_, events) = app.api_get(&format!("/api/v1/incidents/{id}/events")).await;
    let last = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .rev()
        .find(|e| e["kind"] == "update_posted")
        .expect("sent message recorded")
        .clone();
    assert_eq!(last["actor"], "rita");
    assert_eq!(last["data"]["template"], "internal-update");
    assert_eq!(last["data"]["subject"], "Bucket closed");
    assert_eq!(
        last["data"]["to"],
        json!(["incident-room", "email:dpo@example.com"])
    );
}

#[tokio::test]
async fn triage_suggests_a_severity_and_declares_with_it() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    let mut rita = app.login("rita").await;
    let page = rita.get("/ui/triage").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("name=\"service-down\""), "{}", page.body);
    assert!(!page.body.contains("Suggested severity"));

    // The page's suggestion is core's, as the API gives it.
    let (_, api) = app
        .api_post(
            "/api/v1/triage",
            json!({ "answers": { "service-down": true } }),
        )
        .await;
    let severity = api["severity"].as_str().expect("severity").to_string();
    let page = rita
        .get("/ui/triage?service-down=yes&security-breach=no")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("Suggested severity: {severity}")),
        "{}",
        page.body
    );
    let bad = rita.get("/ui/triage?service-down=maybe").await;
    assert!(
        bad.status.is_client_error() && bad.body.contains("service-down"),
        "{}",
        bad.body
    );

    let csrf = csrf_in(&page.body);
    let declared = rita
        .post(
            "/ui/incidents",
            &[
                ("csrf", &csrf),
                ("severity", &severity),
                ("title", "Checkout is down"),
                ("type", "outage"),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let id = declared
        .location()
        .trim_start_matches("/ui/incidents/")
        .to_string();
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["severity"], severity.as_str());
}

#[tokio::test]
async fn the_room_records_the_root_cause_and_commanders_close_and_reopen() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    app.user("cora", "commander", false).await;
    let id = app
        .declare(json!({ "title": "Queue stuck", "severity": "P3" }))
        .await;
    let room = format!("/ui/incidents/{id}");

    let mut rita = app.login("rita").await;
    let page = rita.get(&room).await;
    assert!(
        !page.body.contains("/close\""),
        "responders get no close form"
    );
    let csrf = csrf_in(&page.body);
    let saved = rita
        .post(
            &format!("{room}/root-cause"),
            &[
                ("csrf", &csrf),
                ("root_cause", "A poison message blocked the consumer."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["root_cause"], "A poison message blocked the consumer.");
    let (s, _) = app
        .api_post(
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "summary": "Skipped the message" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let mut cora = app.login("cora").await;
    let page = cora.get(&room).await;
    assert!(page.body.contains("Close after review"), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let closed = cora
        .post(&format!("{room}/close"), &[("csrf", &csrf)])
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["status"], "closed");
    let missing = cora
        .post(
            &format!("{room}/reopen"),
            &[("csrf", &csrf), ("reason", " ")],
        )
        .await;
    assert!(
        missing.status.is_client_error() && missing.body.contains("reason"),
        "{}",
        missing.body
    );
    let reopened = cora
        .post(
            &format!("{room}/reopen"),
            &[("csrf", &csrf), ("reason", "It is stuck again")],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER, "{}", reopened.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert!(
        inc["status"] != "closed" && inc["status"] != "resolved",
        "{inc}"
    );
}

#[tokio::test]
async fn the_review_page_writes_sections_and_commanders_publish() {
    let app = spawn().await;
    app.user("rita", "responder", false).await;
    app.user("cora", "commander", false).await;
    let id = app
        .declare(json!({ "title": "Queue stuck", "severity": "P3" }))
        .await;
    let review = format!("/ui/incidents/{id}/postmortem");
    let mut rita = app.login("rita").await;
    let page = rita.get(&review).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("# Post-incident review: Queue stuck"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Publish this version"),
        "not for responders"
    );
    let csrf = csrf_in(&page.body);
    let saved = rita
        .post(
            &format!("{review}/sections"),
            &[
                ("csrf", &csrf),
                ("section", "summary"),
                ("text", "Consumers <stalled> for 40 minutes."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = rita.get(&review).await;
    assert!(
        page.body
            .contains("Consumers &lt;stalled&gt; for 40 minutes."),
        "{}",
        page.body
    );
    let bad = rita
        .post(
            &format!("{review}/sections"),
            &[("csrf", &csrf), ("section", "verdict"), ("text", "x")],
        )
        .await;
    assert!(
        bad.status.is_client_error() && bad.body.contains("section"),
        "{}",
        bad.body
    );
    let refused = rita
        .post(&format!("{review}/publish"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    app.api_post(
        &format!("/api/v1/incidents/{id}/resolve"),
        json!({ "summary": "Skipped it" }),
    )
    .await;
    let mut cora = app.login("cora").await;
    let page = cora.get(&review).await;
    let csrf = csrf_in(&page.body);
    let published = cora
        .post(&format!("{review}/publish"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let (_, api) = app
        .api_get(&format!("/api/v1/incidents/{id}/postmortem"))
        .await;
    let sha = api["published"][0]["sha256"]
        .as_str()
        .expect("published")
        .to_string();
    let page = cora.get(&review).await;
    assert!(
        page.body.contains("Version 1") && page.body.contains(&sha),
        "{}",
        page.body
    );
}

/// The `data-value` of the bar for `week` in the chart `id` of a reports page.
fn bar_value(html: &str, id: &str, week: &str) -> String {
    let chart = &html[html
        .find(&format!("id=\"chart-{id}\""))
        .unwrap_or_else(|| panic!("chart {id}: {html}"))..];
    let marker = format!("data-week=\"{week}\" data-value=\"");
    let at = chart.find(&marker).unwrap_or_else(|| panic!("bar {week}")) + marker.len();
    chart[at..].split('"').next().expect("value").to_string()
}

/// The cells of the table row for `week` (its header first), in column order.
fn week_row(html: &str, week: &str) -> Vec<String> {
    let start = html
        .find(&format!("<tr data-week=\"{week}\">"))
        .unwrap_or_else(|| panic!("row {week}: {html}"));
    let row = &html[start..start + html[start..].find("</tr>").expect("row end")];
    row.split("data-label=")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').expect("cell") + 1..];
            text[..text.find('<').expect("cell end")].trim().to_string()
        })
        .collect()
}

#[tokio::test]
async fn reports_chart_incidents_mtta_and_mttr_per_week_counting_only_what_the_reader_may_see() {
    let app = spawn().await;
    app.user("outsider", "viewer", false).await;
    app.user("sec", "viewer", true).await;
    let post = |id: &str, what: &str| format!("/api/v1/incidents/{id}/{what}");
    // Week 2026-W47 (t0 is Sunday 22 November): acknowledged after 10 minutes, resolved
    // after an hour.
    let first = app
        .declare(json!({ "title": "Queue backlog", "severity": "P2" }))
        .await;
    app.clock.advance(SignedDuration::from_mins(10));
    let (s, b) = app.api_post(&post(&first, "acknowledge"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    app.clock.advance(SignedDuration::from_mins(50));
    let (s, b) = app
        .api_post(&post(&first, "resolve"), json!({ "summary": "drained" }))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Week 2026-W48: one acknowledged after 30 minutes, and a restricted one after 5.
    app.clock.set("2026-11-24T10:00:00Z".parse().expect("time"));
    let second = app
        .declare(json!({ "title": "Slow search", "severity": "P3" }))
        .await;
    let secret = app
        .declare(json!({ "title": "Token leak", "severity": "P1", "restricted": true }))
        .await;
    app.clock.advance(SignedDuration::from_mins(5));
    let (s, b) = app.api_post(&post(&secret, "acknowledge"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    app.clock.advance(SignedDuration::from_mins(25));
    let (s, b) = app.api_post(&post(&second, "acknowledge"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let mut outsider = app.login("outsider").await;
    let page = outsider.get("/ui/reports").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_security_headers(&page);
    let html = &page.body;
    assert!(
        html.contains("<a href=\"/ui/reports\">Reports</a>"),
        "in the nav"
    );
    // Three accessible charts: an image with a title and a description, no script.
    for id in ["per-week", "mtta", "mttr"] {
        assert!(
            html.contains(&format!(
                "role=\"img\" aria-labelledby=\"{id}-title\" aria-describedby=\"{id}-desc\""
            )),
            "{id}"
        );
        assert!(html.contains(&format!("<title id=\"{id}-title\">")), "{id}");
        assert!(html.contains(&format!("<desc id=\"{id}-desc\">")), "{id}");
    }
    assert!(!html.contains("<script>"), "charts need no script");
    assert!(!html.contains("Token leak"));
    // The outsider's numbers leave the restricted incident out entirely.
    assert_eq!(bar_value(html, "per-week", "2026-W47"), "1");
    assert_eq!(bar_value(html, "per-week", "2026-W48"), "1");
    assert_eq!(bar_value(html, "mtta", "2026-W47"), "10m");
    assert_eq!(bar_value(html, "mtta", "2026-W48"), "30m");
    assert_eq!(bar_value(html, "mttr", "2026-W47"), "1h");
    assert_eq!(bar_value(html, "mttr", "2026-W48"), "no data");
    assert_eq!(
        week_row(html, "2026-W47"),
        ["2026-W47", "1", "0", "10m", "1h"]
    );
    assert_eq!(
        week_row(html, "2026-W48"),
        ["2026-W48", "1", "1", "30m", "—"]
    );
    assert!(
        html.contains("MTTA</dt><dd>20m"),
        "mean of 10m and 30m: {html}"
    );
    // Bars and their description carry the numbers in words, not only as shapes.
    assert!(html.contains("2026-W48 30m"), "{html}");

    // The security team counts the restricted incident too, exactly like the API's report.
    let mut sec = app.login("sec").await;
    let html = sec.get("/ui/reports").await.body;
    assert_eq!(bar_value(&html, "per-week", "2026-W48"), "2");
    assert_eq!(bar_value(&html, "mtta", "2026-W48"), "17m 30s");
    assert_eq!(
        week_row(&html, "2026-W48"),
        ["2026-W48", "2", "2", "17m 30s", "—"]
    );
    let (s, api) = app.api_get("/api/v1/reports").await;
    assert_eq!(s, StatusCode::OK, "{api}");
    assert_eq!(api["total"]["incidents"], 3);
    assert_eq!(api["total"]["time_to_acknowledge"]["mean_secs"], 15 * 60);
    assert!(html.contains("MTTA</dt><dd>15m"), "{html}");

    // The window is one of the offered ones; anything else is named.
    let r = sec.get("/ui/reports?days=30").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("<strong aria-current=\"page\">30 days</strong>")
    );
    let r = sec.get("/ui/reports?days=7").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("days: expected 30, 90, 180 or 365"),
        "{}",
        r.body
    );
    let r = sec.get("/ui/reports?weeks=3").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("weeks: unknown query parameter"),
        "{}",
        r.body
    );
    // Logged-out visitors are sent to log in.
    let answer = app.browser().get("/ui/reports").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_on_call_page_shows_escalation_policies_and_commanders_manage_overrides() {
    let app = spawn().await;
    app.user("cora", "commander", false).await;
    app.user("rita", "responder", false).await;
    let mut cora = app.login("cora").await;
    let page = cora.get("/ui/oncall").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The built-in default policy, step by step, in words.
    assert!(page.body.contains("Default escalation"), "{}", page.body);
    assert!(
        page.body
            .contains("Page whoever is on call on primary; wait 15m for an acknowledgement."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("whoever is on call on primary, every member of team ops; wait 30m"),
        "{}",
        page.body
    );
    assert!(page.body.contains("start again from step 1, 1 more time."));
    // The form starts at the next full hour, for a day.
    assert!(
        page.body.contains("value=\"2026-11-22T11:00\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"2026-11-23T11:00\""));
    let csrf = csrf_in(&page.body);

    let r = cora
        .post(
            "/ui/oncall/overrides",
            &[
                ("csrf", &csrf),
                ("schedule", "primary"),
                ("person", "bob"),
                ("start", "2026-11-22T12:00"),
                ("end", "2026-11-23T12:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/ui/oncall");
    // Stored exactly as the API's overrides are, read back through the API.
    let (s, listed) = app.api_get("/api/v1/schedules/primary/overrides").await;
    assert_eq!(s, StatusCode::OK);
    let overrides = listed["overrides"].as_array().expect("overrides");
    assert_eq!(overrides.len(), 1, "{listed}");
    assert_eq!(overrides[0]["person"], "bob");
    assert_eq!(overrides[0]["start"], "2026-11-22T12:00:00Z");
    assert_eq!(overrides[0]["end"], "2026-11-23T12:00:00Z");
    let id = overrides[0]["id"].as_str().expect("id").to_string();
    let page = cora.get("/ui/oncall").await;
    assert!(
        page.body
            .contains(&format!("<li data-override=\"{id}\">Bob Example from")),
        "{}",
        page.body
    );
    // The shifts include it: Bob covers from noon.
    assert!(
        page.body
            .contains("<time datetime=\"2026-11-22T12:00:00Z\">")
    );

    // Mistakes name their field (unreadable input 400, the API's own checks 422); nothing is
    // stored.
    for (field, status, start, end, person, message) in [
        (
            "end",
            StatusCode::UNPROCESSABLE_ENTITY,
            "2026-11-23T12:00",
            "2026-11-22T12:00",
            "bob",
            "end: must be after start",
        ),
        (
            "start",
            StatusCode::BAD_REQUEST,
            "tomorrow",
            "2026-11-22T12:00",
            "bob",
            "start: expected a date and time",
        ),
        (
            "person",
            StatusCode::UNPROCESSABLE_ENTITY,
            "2026-11-22T12:00",
            "2026-11-22T13:00",
            "mallory",
            "person: no person",
        ),
    ] {
        let r = cora
            .post(
                "/ui/oncall/overrides",
                &[
                    ("csrf", &csrf),
                    ("schedule", "primary"),
                    ("person", person),
                    ("start", start),
                    ("end", end),
                ],
            )
            .await;
        assert_eq!(r.status, status, "{field}: {}", r.body);
        assert!(r.body.contains(message), "{field}: {}", r.body);
    }
    let (_, listed) = app.api_get("/api/v1/schedules/primary/overrides").await;
    assert_eq!(listed["overrides"].as_array().map(Vec::len), Some(1));
    let r = cora
        .post(
            "/ui/oncall/overrides",
            &[
                ("schedule", "primary"),
                ("person", "bob"),
                ("start", "2026-11-22T12:00"),
                ("end", "2026-11-22T13:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");

    // Responders see overrides but, as in the API, only commanders change them.
    let mut rita = app.login("rita").await;
    let page = rita.get("/ui/oncall").await;
    assert!(page.body.contains("Bob Example from"));
    assert!(!page.body.contains("Add override"), "{}", page.body);
    assert!(!page.body.contains("/ui/oncall/overrides/remove"));
    let rita_csrf = csrf_in(&page.body);
    let r = rita
        .post(
            "/ui/oncall/overrides/remove",
            &[("csrf", &rita_csrf), ("schedule", "primary"), ("id", &id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = cora
        .post(
            "/ui/oncall/overrides/remove",
            &[("csrf", &csrf), ("schedule", "primary"), ("id", &id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, listed) = app.api_get("/api/v1/schedules/primary/overrides").await;
    assert_eq!(listed["overrides"], json!([]), "{listed}");
    let r = cora
        .post(
            "/ui/oncall/overrides/remove",
            &[("csrf", &csrf), ("schedule", "primary"), ("id", &id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("already removed"), "{}", r.body);
    let r = cora
        .post(
            "/ui/oncall/overrides/remove",
            &[("csrf", &csrf), ("schedule", "primary"), ("id", "ovr_nope")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_shows_attached_alerts_and_records_impact_unassignment_and_key_moments() {
    let app = spawn().await;
    app.user("cora", "commander", false).await;
    app.user("vic", "viewer", false).await;
    // An alert opens the incident, as the alert pipeline does in production.
    let (s, integration) = app
        .api_post("/api/v1/integrations", json!({ "service": "payments" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{integration}");
    let key = integration["routing_key"].as_str().expect("routing key");
    let r = app
        .api
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(key)
        .json(&json!({ "summary": "Payments 5xx above 20%", "severity": "critical" }))
        .send()
        .await
        .expect("event sent");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let running = app.running.as_ref().expect("running");
    running
        .engine
        .process_alerts()
        .await
        .expect("alerts linked");
    let (_, listed) = app.api_get("/api/v1/incidents").await;
    let id = listed["incidents"][0]["id"]
        .as_str()
        .expect("the alert opened an incident")
        .to_string();
    let room = format!("/ui/incidents/{id}");

    let mut cora = app.login("cora").await;
    let page = cora.get(&room).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Alerts attached (1)"), "{}", page.body);
    assert!(
        page.body
            .contains("<td data-label=\"Alert\">Payments 5xx above 20%</td>")
    );
    assert!(page.body.contains("<td data-label=\"Source\">generic</td>"));
    assert!(
        page.body
            .contains("<dt>Users affected</dt><dd>unknown</dd>")
    );
    assert!(
        !page.body.contains("Leave a role empty"),
        "no role is filled yet"
    );
    let csrf = csrf_in(&page.body);

    // Impact: the whole form replaces the impact; numbers may carry separators.
    let r = cora
        .post(
            &format!("{room}/impact"),
            &[
                ("csrf", &csrf),
                ("users_affected", "1,200"),
                ("data_affected", "card last four digits"),
                ("services_impacted", "web, api"),
                ("estimated_cost", "USD 5,000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["impact"]["users_affected"], 1200, "{inc}");
    assert_eq!(inc["impact"]["data_affected"], "card last four digits");
    assert_eq!(inc["impact"]["services_impacted"], json!(["web", "api"]));
    assert_eq!(inc["impact"]["estimated_cost"], "USD 5,000");
    let page = cora.get(&room).await;
    assert!(page.body.contains("<dt>Users affected</dt><dd>1200</dd>"));
    assert!(page.body.contains("value=\"card last four digits\""));
    let r = cora
        .post(
            &format!("{room}/impact"),
            &[("csrf", &csrf), ("users_affected", "lots")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("users_affected: expected a whole number"),
        "{}",
        r.body
    );

    // Unassign: offered only for filled roles, and recorded like the API's.
    let (s, b) = app
        .api_post(
            &format!("/api/v1/incidents/{id}/roles"),
            json!({ "role": "scribe", "person": "bob" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let page = cora.get(&room).await;
    assert!(page.body.contains("Leave a role empty"));
    assert!(
        page.body
            .contains("<option value=\"scribe\">Scribe</option>"),
        "{}",
        page.body
    );
    let r = cora
        .post(
            &format!("{room}/roles/unassign"),
            &[("csrf", &csrf), ("role", "scribe")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert!(inc["roles"].get("scribe").is_none(), "{inc}");
    let (_, events) = app.api_get(&format!("/api/v1/incidents/{id}/events")).await;
    let last = events["events"].as_array().and_then(|e| e.last()).cloned();
    assert_eq!(
        last.map(|e| e["kind"].clone()),
        Some(json!("role_unassigned"))
    );

    // Key moments: a note joins the review's timeline once marked, and leaves it again.
    let (s, b) = app
        .api_post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({ "text": "Failed over to the standby processor" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    let seq = inc["version"].as_u64().expect("version").to_string();
    let review = format!("{room}/postmortem");
    let page = cora.get(&review).await;
    assert!(page.body.contains("Mark as key moment"), "{}", page.body);
    let in_document = |html: &str| {
        let doc = &html[html.find("<pre class=\"document\">").expect("document")..];
        doc[..doc.find("</pre>").expect("end")].contains("Failed over to the standby processor")
    };
    assert!(!in_document(&page.body));
    let mark = |marked: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("seq", seq.clone()),
            ("marked", marked.to_string()),
        ]
    };
    let form = mark("true");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = cora.post(&format!("{review}/key-moments"), &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, inc) = app.api_get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(
        inc["key_moments"],
        json!([seq.parse::<u64>().expect("seq")])
    );
    let page = cora.get(&review).await;
    assert!(in_document(&page.body), "{}", page.body);
    assert!(page.body.contains("Remove from the review"));
    let form = mark("false");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = cora.post(&format!("{review}/key-moments"), &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!in_document(&cora.get(&review).await.body));
    let form = mark("maybe");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = cora.post(&format!("{review}/key-moments"), &pairs).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("marked: expected true or false"));

    // Viewers see all of it but change none of it.
    let mut vic = app.login("vic").await;
    let page = vic.get(&room).await;
    assert!(page.body.contains("Payments 5xx above 20%"));
    assert!(!page.body.contains("Save impact"));
    let vic_csrf = csrf_in(&page.body);
    for (path, form) in [
        (
            format!("{room}/impact"),
            vec![("csrf", vic_csrf.as_str()), ("users_affected", "1")],
        ),
        (
            format!("{room}/roles/unassign"),
            vec![("csrf", vic_csrf.as_str()), ("role", "scribe")],
        ),
        (
            format!("{review}/key-moments"),
            vec![
                ("csrf", vic_csrf.as_str()),
                ("seq", seq.as_str()),
                ("marked", "true"),
            ],
        ),
    ] {
        let r = vic.post(&path, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    assert!(!vic.get(&review).await.body.contains("Mark as key moment"));
}

#[tokio::test]
async fn users_change_their_password_and_disabled_users_are_signed_out_and_kept_out() {
    let app = spawn().await;
    app.user("alice", "responder", false).await;
    let mut here = app.login("alice").await;
    let mut elsewhere = app.login("alice").await;
    let page = here.get("/ui/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<a href=\"/ui/account\">alice</a>"),
        "linked in the header"
    );
    let csrf = csrf_in(&page.body);
    const NEW: &str = "a different long pass phrase";
    let change = |current: &'static str, new: &'static str, repeat: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("current", current.to_string()),
            ("new", new.to_string()),
            ("repeat", repeat.to_string()),
        ]
    };
    for (form, status, message) in [
        (
            change("wrong one", NEW, NEW),
            StatusCode::FORBIDDEN,
            "current: wrong password",
        ),
        (
            change(PASSWORD, NEW, "typo"),
            StatusCode::BAD_REQUEST,
            "repeat: the two new passwords differ",
        ),
        (
            change(PASSWORD, "short", "short"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
    ] {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = here.post("/ui/account/password", &pairs).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(message), "{}", r.body);
    }
    let form = change(PASSWORD, NEW, NEW);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = here.post("/ui/account/password", &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/ui/account?changed=1");
    assert!(
        here.get("/ui/account?changed=1")
            .await
            .body
            .contains("Password changed.")
    );
    // This session goes on; the other one has ended; only the new password signs in.
    assert_eq!(here.get("/ui/").await.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/ui/").await.location(), "/ui/login");
    assert_eq!(
        app.browser().login("alice", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().login("alice", NEW).await.status,
        StatusCode::SEE_OTHER
    );

    // Disabled by an admin: the open session ends at once and signing in fails like a wrong
    // password would.
    let (s, b) = app.api_post("/api/v1/users/alice/disable", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["disabled_by"], "admin", "{b}");
    assert_eq!(b["disabled_at"], json!(t0()));
    let r = here.get("/ui/").await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/ui/login")
    );
    let r = app.browser().login("alice", NEW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains(warroom_server::ui::session::LOGIN_FAILED));
    let (_, listed) = app.api_get("/api/v1/users").await;
    assert_eq!(listed["users"][0]["disabled_at"], json!(t0()));
    // Enabled again, the account signs in; an admin's reset also works and ends sessions.
    let (s, b) = app.api_post("/api/v1/users/alice/enable", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b.get("disabled_at").is_none(), "{b}");
    let mut again = app.login_with("alice", NEW).await;
    let (s, b) = app
        .api_post(
            "/api/v1/users/alice/password",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(again.get("/ui/").await.location(), "/ui/login");
    app.login("alice").await;
    for path in [
        "/api/v1/users/nobody/disable",
        "/api/v1/users/nobody/enable",
    ] {
        let (s, b) = app.api_post(path, json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {b}");
    }
    let (s, b) = app
        .api_post(
            "/api/v1/users/nobody/password",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    // Every change of a credential is in the audit log, with who made it.
    let changes = credential_changes(&app).await;
    let expected = [
        ("alice", "user alice password changed"),
        ("admin", "user alice disabled"),
        ("admin", "user alice enabled"),
        ("admin", "user alice password set"),
    ];
    let mut rest = changes.iter();
    for want in expected {
        assert!(
            rest.any(|(actor, target)| (actor.as_str(), target.as_str()) == want),
            "{want:?} missing, or out of order, in {changes:?}"
        );
    }
}

/// `(actor, target)` of every `credential_change` audit entry, oldest first.
async fn credential_changes(app: &App) -> Vec<(String, String)> {
    let (s, audit) = app
        .api_get("/api/v1/audit?action=credential_change&since=30d")
        .await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The feed addresses a calendar-link page lists.
fn feed_paths(html: &str) -> Vec<String> {
    html.split("data-path=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|p| p.replace("&#x2f;", "/").replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn the_on_call_page_gives_a_calendar_link_that_works_without_a_session() {
    let app = spawn().await;
    app.user("alice", "viewer", false).await;
    let mut alice = app.login("alice").await;
    let page = alice.get("/ui/oncall").await;
    assert!(
        page.body.contains("action=\"/ui/oncall/calendar\""),
        "{}",
        page.body
    );
    let csrf = csrf_in(&page.body);
    let first = alice.post("/ui/oncall/calendar", &[("csrf", &csrf)]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let paths = feed_paths(&first.body);
    let schedule = paths
        .iter()
        .find(|p| {
            p.starts_with(&format!(
                "{}/api/v1/schedules/primary/calendar.ics?token=",
                app.base
            ))
        })
        .unwrap_or_else(|| panic!("no schedule feed in {}", first.body))
        .clone();
    assert!(
        paths.iter().any(|p| p.starts_with(&format!(
            "{}/api/v1/people/alice/calendar.ics?token=",
            app.base
        ))),
        "{paths:?}"
    );
    // A calendar app: no cookie, no header, just the link.
    let plain = reqwest::Client::new();
    let feed = plain.get(&schedule).send().await.expect("feed");
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.text().await.expect("body").contains("BEGIN:VCALENDAR"));
    // The link's token is read-only: it cannot change anything.
    let token = schedule.split("token=").nth(1).expect("token").to_string();
    let write = plain
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(&json!({ "title": "from a calendar token", "severity": "P3" }))
        .send()
        .await
        .expect("write");
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    // Asking again replaces the link: the first stops working.
    let page = alice.get("/ui/oncall").await;
    let csrf = csrf_in(&page.body);
    let second = alice.post("/ui/oncall/calendar", &[("csrf", &csrf)]).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(feed_paths(&second.body), paths);
    let old = plain.get(&schedule).send().await.expect("old feed");
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    // Without the form's token the link is refused.
    let forged = alice
        .post("/ui/oncall/calendar", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Both links, and the replacement of the first, are audited as alice's doing.
    let changes = credential_changes(&app).await;
    let by_alice = |suffix: &str| {
        changes
            .iter()
            .filter(|(actor, target)| actor == "alice" && target.ends_with(suffix))
            .count()
    };
    assert_eq!(by_alice("created (calendar link)"), 2, "{changes:?}");
    assert_eq!(
        by_alice("revoked (calendar link replaced)"),
        1,
        "{changes:?}"
    );
}
