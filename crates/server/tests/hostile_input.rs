//! Hostile input never crashes the server or gets a 5xx: random bodies and paths against the
//! real router (in process, through tower), checked for a JSON error of the documented shape.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;
use warroom_core::{Config, ManualClock, Role};
use warroom_server::state::Shared;
use warroom_server::{AppState, app, auth};

struct Fixture {
    state: AppState,
    token: String,
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let (state, token) = rt.block_on(async {
        let store = warroom_store::open(&url).await.expect("store");
        let minted = auth::mint(
            "fuzzer",
            Role::Admin,
            false,
            "test",
            "2026-11-22T10:00:00Z".parse().expect("time"),
        );
        store
            .create_token(minted.record, None)
            .await
            .expect("token");
        let config = Arc::new(Config::builtin());
        let engine = warroom_engine::Engine::new(store.clone(), config.clone(), clock.clone());
        let state: AppState = Shared::new(store, config, clock, engine, None).into();
        (state, minted.secret)
    });
    let f = Fixture {
        state,
        token,
        _dir: dir,
        rt,
    };
    // One real incident so id routes reach the domain rules.
    let (status, _) = f.send(
        "POST",
        "/api/v1/incidents",
        br#"{"title":"Target","severity":"P2"}"#.to_vec(),
        true,
    );
    assert_eq!(status, StatusCode::CREATED);
    f
}

impl Fixture {
    fn send(&self, method: &str, path: &str, body: Vec<u8>, json: bool) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token));
        if json {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Body::from(body)).expect("request");
        let router = app(self.state.clone());
        self.rt.block_on(async move {
            let resp = router.oneshot(req).await.expect("infallible");
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
                .to_vec();
            (status, bytes)
        })
    }
}

const ID: &str = "INC-20261122-001";

fn write_routes() -> Vec<(&'static str, String)> {
    vec![
        ("POST", "/api/v1/incidents".to_string()),
        ("PATCH", format!("/api/v1/incidents/{ID}")),
        ("POST", format!("/api/v1/incidents/{ID}/severity")),
        ("POST", format!("/api/v1/incidents/{ID}/status")),
        ("POST", format!("/api/v1/incidents/{ID}/roles")),
        ("POST", format!("/api/v1/incidents/{ID}/notes")),
        ("POST", format!("/api/v1/incidents/{ID}/resolve")),
        ("POST", format!("/api/v1/incidents/{ID}/reopen")),
        ("POST", "/api/v1/tokens".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("P0"),
            Just("contained"),
            Just("scribe"),
            Just("admin"),
            Just("")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("title".to_string()),
                    Just("severity".to_string()),
                    Just("status".to_string()),
                    Just("text".to_string()),
                    Just("labels".to_string()),
                    Just("impact".to_string()),
                    Just("role".to_string()),
                    Just("person".to_string()),
                    Just("summary".to_string()),
                    Just("reason".to_string()),
                    Just("name".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn check(status: StatusCode, body: &[u8], what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !status.is_server_error(),
        "{what}: {status} {}",
        String::from_utf8_lossy(body)
    );
    if !status.is_success() {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| TestCaseError::fail(format!("{what}: error body is not JSON: {e}")))?;
        prop_assert!(v["error"]["code"].is_string(), "{what}: {v}");
        prop_assert!(v["error"]["message"].is_string(), "{what}: {v}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn random_json_bodies_get_4xx_or_success(route in 0usize..9, body in json_value()) {
        let f = fixture_once();
        let (method, path) = &write_routes()[route];
        let bytes = serde_json::to_vec(&body).expect("serialise");
        let (status, resp) = f.send(method, path, bytes, true);
        check(status, &resp, &format!("{method} {path} {body}"))?;
    }

    #[test]
    fn random_bytes_get_4xx(route in 0usize..9, body in prop::collection::vec(any::<u8>(), 0..300), json in any::<bool>()) {
        let f = fixture_once();
        let (method, path) = &write_routes()[route];
        let (status, resp) = f.send(method, path, body, json);
        check(status, &resp, &format!("{method} {path}"))?;
    }

    #[test]
    fn random_paths_and_queries_get_4xx_or_success(path in "/api/v1/incidents(/[A-Za-z0-9%._-]{0,20}){0,3}(\\?[a-z=&%,0-9]{0,30})?") {
        let f = fixture_once();
        let (status, resp) = f.send("GET", &path, Vec::new(), false);
        check(status, &resp, &path)?;
    }
}

fn fixture_once() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(fixture)
}
