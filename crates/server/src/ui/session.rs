//! Login sessions and CSRF protection.
//!
//! A session is a random secret in an `HttpOnly; SameSite=Strict` cookie; the store keeps
//! only its SHA-256 (like API tokens), with an expiry, and logout deletes the row. Every form
//! carries a CSRF token derived from the session secret (SHA-256 of a label and the secret):
//! another site can neither read it nor compute it, and it needs no storage of its own. The
//! login form, which has no session yet, uses a double-submit nonce in a short-lived cookie
//! instead, so another site cannot log a browser into an account of its choosing.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use jiff::SignedDuration;
use minijinja::context;
use sha2::{Digest, Sha256};
use warroom_core::Principal;
use warroom_store::NewSession;

use super::UiError;
use super::templates::render_page;
use crate::auth::{hash_token, random_hex};
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "warroom_session";
/// Name of the login form's nonce cookie.
pub const LOGIN_COOKIE: &str = "warroom_login";
/// How long a session lasts: one long on-call shift, then log in again.
pub const SESSION_TTL: SignedDuration = SignedDuration::from_hours(12);
/// How long the login form may stay open before it must be reloaded.
const LOGIN_NONCE_SECONDS: i64 = 600;
/// The one message for every failed login, whatever failed, so names cannot be probed.
pub const LOGIN_FAILED: &str = "Wrong user name or password.";

/// The value of cookie `name`, if the request sent one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token of the session whose secret is `secret`.
fn csrf_for(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"warroom-csrf\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

fn set_cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age}{secure}"
    );
    // Values are hex or empty, so the header is always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The logged-in user of a UI request. Extracting it sends everyone else to the login page.
#[derive(Debug, Clone)]
pub struct UiUser {
    /// The same identity an API token carries.
    pub principal: Principal,
    /// The token every form of this session must carry.
    pub csrf: String,
    pub(super) session_hash: String,
    /// Where the browser's requests come from, for the audit log.
    pub source: crate::security::ClientSource,
}

impl UiUser {
    /// Refuses (403) a form without this session's CSRF token.
    pub fn check_csrf(&self, form: &FormData) -> Result<(), UiError> {
        match form.get("csrf") {
            Some(token) if constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) => Ok(()),
            _ => Err(UiError::forbidden(
                "csrf: this form is stale or came from another site; reload the page and try again",
            )),
        }
    }

    /// The header and logout form's view of this user.
    pub fn viewer(&self) -> super::templates::Viewer<'_> {
        super::templates::Viewer {
            name: &self.principal.name,
            role: self.principal.role.as_str(),
            csrf: &self.csrf,
        }
    }

    /// The API's authorisation wrapper for this user: a signed-in person has everything
    /// their role allows (scopes narrow API tokens only).
    pub fn auth(&self) -> crate::auth::Auth {
        crate::auth::Auth(
            self.principal.clone(),
            warroom_core::access::TokenScope::Full,
            self.source.clone(),
        )
    }
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/ui/login").into_response();
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let session_hash = hash_token(secret);
        match state
            .store
            .session_user(&session_hash, state.clock.now())
            .await
        {
            Ok(Some(user)) => Ok(UiUser {
                principal: Principal {
                    name: user.name,
                    role: user.role,
                    security: user.security,
                },
                csrf: csrf_for(secret),
                session_hash,
                source: parts
                    .extensions
                    .get::<crate::security::ClientSource>()
                    .cloned()
                    .unwrap_or_else(|| crate::security::ClientSource("unknown".into())),
            }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(UiError::from(e).into_response()),
        }
    }
}

/// An `application/x-www-form-urlencoded` body as name -> value (the last value wins).
#[derive(Debug, Default)]
pub struct FormData(HashMap<String, String>);

impl FormData {
    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A field that must be present and not blank; 400 naming it otherwise.
    pub fn required(&self, name: &str) -> Result<&str, UiError> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| UiError::field(name, "required"))
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| UiError {
            status: e.status(),
            message: e.body_text(),
        })?;
        Ok(FormData(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

fn login_page(state: &AppState, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = random_hex(32);
    let page = render_page(
        "login.html",
        "Log in",
        None,
        context! { nonce => nonce.clone(), error => error },
    );
    match page {
        Ok(html) => (
            status,
            [(
                header::SET_COOKIE,
                set_cookie(
                    state,
                    LOGIN_COOKIE,
                    &nonce,
                    "/ui/login",
                    LOGIN_NONCE_SECONDS,
                ),
            )],
            Html(html),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /ui/login`
pub async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, StatusCode::OK, None)
}

/// `POST /ui/login`
pub async fn login(
    State(state): State<AppState>,
    source: crate::security::ClientSource,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, UiError> {
    // Password guessing shares the API's lockout: an address that failed too often is refused
    // before its password is even checked, so a hit and a miss look the same.
    if let Err(wait) = crate::security::check_lockout(&state, &source) {
        let mut page = login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins from your address; try again later."),
        );
        page.headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait.0));
        return Ok(page);
    }
    let nonce_ok = match (cookie(&headers, LOGIN_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => constant_time_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    };
    if !nonce_ok {
        return Err(UiError::forbidden(
            "csrf: the login form expired or came from another site; reload it and try again",
        ));
    }
    let name = form.get("name").unwrap_or_default().trim().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let user = if name.is_empty() {
        None
    } else {
        state.store.user(&name).await?
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Unknown names are checked against a decoy hash, so both cost the same time.
    let ok = tokio::task::spawn_blocking(move || {
        crate::passwords::verify_password(stored.as_deref(), &password)
    })
    .await
    .map_err(|e| UiError::from(crate::error::ApiError::internal(&e)))?;
    // A disabled account fails like a wrong password: the form says nothing more.
    let Some(user) = user.filter(|u| ok && u.disabled_at.is_none()) else {
        tracing::info!("failed web login");
        let claimed = if name.is_empty() { "-" } else { name.as_str() };
        crate::security::record_auth_failure(
            &state,
            &source,
            "web sign-in",
            claimed,
            "wrong name or password",
        )
        .await;
        return Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some(LOGIN_FAILED),
        ));
    };
    let secret = random_hex(32);
    let now = state.clock.now();
    let expires_at = now
        .checked_add(SESSION_TTL)
        .map_err(|e| UiError::from(crate::error::ApiError::internal(&e)))?;
    state
        .store
        .create_session(NewSession {
            token_hash: hash_token(&secret),
            user_name: user.name.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(user = %user.name, "web login");
    let mut response = Redirect::to("/ui/").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &secret, "/", SESSION_TTL.as_secs()),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_COOKIE, "", "/ui/login", 0),
    );
    Ok(response)
}

/// `POST /ui/logout`
pub async fn logout(
    State(state): State<AppState>,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    state.store.delete_session(&user.session_hash).await?;
    tracing::info!(user = %user.principal.name, "web logout");
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", "/", 0),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; warroom_session=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "warroom"), None);
    }

    #[test]
    fn csrf_tokens_are_per_session_and_compared_exactly() {
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert_ne!(csrf_for("a"), hash_token("a"), "not the stored hash");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
