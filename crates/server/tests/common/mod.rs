//! Helpers shared by the server's integration tests.

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;

/// A real HTTP receiver on 127.0.0.1 that accepts everything and remembers the idempotency keys.
pub async fn receiver() -> (Arc<std::sync::Mutex<Vec<(String, Value)>>>, String) {
    let log: Arc<std::sync::Mutex<Vec<(String, Value)>>> = Arc::default();
    let seen = log.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    let key = headers
                        .get("x-warroom-idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    seen.lock().expect("log").push((key, body));
                    StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (log, url)
}
