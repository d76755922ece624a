//! The network-facing controls of `serve`: TLS or the refusal to listen in the clear beyond
//! this machine, request rate limits per source address, API token and routing key, and the
//! lockout of a source that keeps failing to authenticate.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::ratelimit::{Limiter, Lockout, LockoutPolicy, Rate, RetryAfter, source_key};
use crate::state::AppState;
use crate::tls::TlsFiles;

/// Security settings of `serve`. The default is what the library's tests want: no TLS, no
/// limits; `warroom serve` passes its flags (with limits on by default).
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityOptions {
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// A TLS-terminating proxy is in front: allow a non-loopback address without `tls`.
    pub behind_tls_proxy: bool,
    /// Take the client address from the last `X-Forwarded-For` entry (what the proxy saw),
    /// only together with `behind_tls_proxy`.
    pub trust_forwarded_for: bool,
    /// The limits.
    pub limits: LimitOptions,
    /// Largest evidence upload, in bytes.
    pub evidence_max_bytes: u64,
}

impl Default for SecurityOptions {
    fn default() -> Self {
        Self {
            tls: None,
            behind_tls_proxy: false,
            trust_forwarded_for: false,
            limits: LimitOptions::unlimited(),
            evidence_max_bytes: crate::vault::DEFAULT_MAX_BYTES,
        }
    }
}

/// Request rates and the authentication lockout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitOptions {
    /// API requests per token.
    pub api_per_token: Rate,
    /// API (and public page) requests per source address.
    pub api_per_source: Rate,
    /// Ingestion requests per routing key (integration).
    pub ingest_per_key: Rate,
    /// Ingestion requests per source address.
    pub ingest_per_source: Rate,
    /// Failed authentications per source address before a lockout.
    pub lockout: LockoutPolicy,
}

impl LimitOptions {
    /// Nothing limited.
    pub fn unlimited() -> Self {
        Self {
            api_per_token: Rate::UNLIMITED,
            api_per_source: Rate::UNLIMITED,
            ingest_per_key: Rate::UNLIMITED,
            ingest_per_source: Rate::UNLIMITED,
            lockout: LockoutPolicy::OFF,
        }
    }
}

/// The live limiters of one server process.
#[derive(Debug)]
pub struct Guards {
    api_per_token: Limiter,
    api_per_source: Limiter,
    ingest_per_key: Limiter,
    ingest_per_source: Limiter,
    lockout: Lockout,
    trust_forwarded_for: bool,
}

impl Guards {
    /// Limiters for `options`.
    pub fn new(options: &SecurityOptions) -> Self {
        let l = options.limits;
        Self {
            api_per_token: Limiter::new(l.api_per_token),
            api_per_source: Limiter::new(l.api_per_source),
            ingest_per_key: Limiter::new(l.ingest_per_key),
            ingest_per_source: Limiter::new(l.ingest_per_source),
            lockout: Lockout::new(l.lockout),
            trust_forwarded_for: options.behind_tls_proxy && options.trust_forwarded_for,
        }
    }
}

impl Default for Guards {
    fn default() -> Self {
        Self::new(&SecurityOptions::default())
    }
}

/// Why `serve` refuses to listen.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to listen on {addr} without TLS: anyone on the network could read tokens and incidents; \
     pass --tls-cert and --tls-key, or --behind-tls-proxy (WARROOM_BEHIND_TLS_PROXY=true) if a proxy \
     terminates TLS in front of Warroom, or listen on 127.0.0.1"
)]
pub struct CleartextRefused {
    /// The address that was asked for.
    pub addr: SocketAddr,
}

/// Plain HTTP is allowed on loopback only, unless a TLS proxy is declared. The address checked
/// is the one actually bound, so `localhost`, `0.0.0.0` and `[::]` are judged by what they are.
pub fn check_cleartext(
    bound: SocketAddr,
    options: &SecurityOptions,
) -> Result<(), CleartextRefused> {
    if options.tls.is_some() || options.behind_tls_proxy || bound.ip().is_loopback() {
        Ok(())
    } else {
        Err(CleartextRefused { addr: bound })
    }
}

/// The address a request is limited and locked out by.
#[derive(Debug, Clone)]
pub struct ClientSource(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientSource {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientSource>()
            .cloned()
            .unwrap_or_else(|| ClientSource("unknown".into())))
    }
}

/// The connection's peer, or with `trust_forwarded_for` the last `X-Forwarded-For` entry.
///
/// The last entry, not the first: a proxy appends the address it saw, and everything before
/// that came from the client, who can write anything there. Trusting the first entry would let
/// any client pick a fresh address per request and never be limited.
fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|s| !s.is_empty())
            .and_then(|s| s.parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

fn is_ingest_path(path: &str) -> bool {
    path == "/v2/enqueue"
        || path == "/v2/change/enqueue"
        || crate::routes::INTEGRATION_ROUTES.contains(&path)
}

fn is_pagerduty_path(path: &str) -> bool {
    path.starts_with("/v2/")
}

/// Middleware: finds the request's source, refuses it when over its address's rate, and
/// leaves the source in the request for the authentication checks further in.
pub async fn limit_sources(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    // Load balancers and orchestrators probe these constantly; they reveal nothing.
    if path == "/health" || path == "/health/ready" {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let guards = &state.guards;
    let source = client_ip(req.headers(), peer, guards.trust_forwarded_for)
        .map_or_else(|| "unknown".to_string(), source_key);
    let now = state.clock.now();
    let limiter = if is_ingest_path(&path) {
        &guards.ingest_per_source
    } else {
        &guards.api_per_source
    };
    if let Err(wait) = limiter.check(&source, now) {
        tracing::info!(source = %source, path = %path, "rate limited by source address");
        return too_many(&path, wait, "too many requests from your address");
    }
    req.extensions_mut().insert(ClientSource(source));
    next.run(req).await
}

/// 429 with `Retry-After`, in PagerDuty's shape on its endpoints and ours elsewhere.
pub fn too_many(path: &str, wait: RetryAfter, why: &str) -> Response {
    let message = format!("{why}; retry after {} seconds", wait.0);
    let mut resp = if is_pagerduty_path(path) {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({ "status": "throttle event", "message": message })),
        )
            .into_response()
    } else {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response()
    };
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.0));
    resp
}

/// Refuses a locked-out source before its credentials are even looked at.
pub fn check_lockout(state: &AppState, source: &ClientSource) -> Result<(), RetryAfter> {
    state.guards.lockout.check(&source.0, state.clock.now())
}

/// Counts a failed authentication from `source` and records it in the audit log: `what` is
/// the credential's kind or public id (never the secret), `actor` who it claimed to be (`-`
/// when unknown), `why` the outcome. The lockout bounds how many one address can cause.
pub async fn record_auth_failure(
    state: &AppState,
    source: &ClientSource,
    what: &str,
    actor: &str,
    why: &str,
) {
    if let Some(wait) = state
        .guards
        .lockout
        .record_failure(&source.0, state.clock.now())
    {
        tracing::warn!(source = %source.0, lockout_secs = wait.0, "too many failed authentications; source locked out");
    }
    crate::audit::record_quietly(
        state,
        actor,
        warroom_core::audit::AuditAction::AuthFailure,
        what,
        &source.0,
        why,
    )
    .await;
}

/// Takes one request from an API token's allowance (by token id, never the secret).
pub fn check_token(state: &AppState, token_id: &str) -> Result<(), RetryAfter> {
    state
        .guards
        .api_per_token
        .check(token_id, state.clock.now())
}

/// Takes one request from an integration's allowance (by integration id, never the key).
pub fn check_integration(state: &AppState, integration_id: &str) -> Result<(), RetryAfter> {
    state
        .guards
        .ingest_per_key
        .check(integration_id, state.clock.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn forwarded_for_is_read_only_when_trusted_and_from_the_last_hop() {
        let peer: SocketAddr = "10.0.0.5:4000".parse().expect("addr");
        let h = headers(&["1.1.1.1, 2.2.2.2", "203.0.113.9"]);
        assert_eq!(
            client_ip(&h, Some(peer), false),
            Some("10.0.0.5".parse().expect("ip"))
        );
        assert_eq!(
            client_ip(&h, Some(peer), true),
            Some("203.0.113.9".parse().expect("ip"))
        );
        // Garbage in the header falls back to the peer rather than to a made-up address.
        let bad = headers(&["not-an-address"]);
        assert_eq!(
            client_ip(&bad, Some(peer), true),
            Some("10.0.0.5".parse().expect("ip"))
        );
    }

    #[test]
    fn cleartext_is_refused_beyond_loopback_unless_tls_or_a_proxy() {
        let open: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        let lan: SocketAddr = "192.168.1.10:8080".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let local6: SocketAddr = "[::1]:8080".parse().expect("addr");
        let plain = SecurityOptions::default();
        assert!(check_cleartext(open, &plain).is_err());
        assert!(check_cleartext(lan, &plain).is_err());
        assert!(check_cleartext(local, &plain).is_ok());
        assert!(check_cleartext(local6, &plain).is_ok());
        let proxied = SecurityOptions {
            behind_tls_proxy: true,
            ..SecurityOptions::default()
        };
        assert!(check_cleartext(open, &proxied).is_ok());
        let tls = SecurityOptions {
            tls: Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into(),
            }),
            ..SecurityOptions::default()
        };
        assert!(check_cleartext(lan, &tls).is_ok());
        let msg = check_cleartext(open, &plain)
            .expect_err("refused")
            .to_string();
        assert!(
            msg.contains("--behind-tls-proxy") && msg.contains("--tls-cert"),
            "{msg}"
        );
    }
}
