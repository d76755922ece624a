//! `/ui/account`: the signed-in user's own account, where they change their password. The
//! current password is asked again (a session left open on a shared screen is not enough),
//! wrong guesses count towards the same lockout as failed sign-ins, and a change ends the
//! user's other sessions.

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;

use super::UiError;
use super::session::{FormData, UiUser};
use super::templates::render_page;
use crate::routes::users::checked_hash;
use crate::state::AppState;

/// `GET /ui/account`
pub async fn page(
    State(_state): State<AppState>,
    user: UiUser,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, UiError> {
    let changed = query.as_deref() == Some("changed=1");
    let p = &user.principal;
    let html = render_page(
        "account.html",
        "Your account",
        Some(&user.viewer()),
        context! {
            name => p.name.clone(),
            role => p.role.as_str(),
            security => p.security,
            csrf => user.csrf.clone(),
            changed => changed,
        },
    )?;
    Ok(Html(html))
}

/// `POST /ui/account/password` (`current`, `new`, `repeat`)
pub async fn change_password(
    State(state): State<AppState>,
    source: crate::security::ClientSource,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    if let Err(wait) = crate::security::check_lockout(&state, &source) {
        return Err(UiError {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "current: too many wrong passwords from your address; try again in {} s",
                wait.0
            ),
        });
    }
    let current = form.get("current").unwrap_or_default().to_string();
    let new = form.required("new")?.to_string();
    if form.get("repeat") != Some(new.as_str()) {
        return Err(UiError::field("repeat", "the two new passwords differ"));
    }
    let name = user.principal.name.clone();
    let stored = state.store.user(&name).await?.map(|u| u.password_hash);
    let ok = tokio::task::spawn_blocking(move || {
        crate::passwords::verify_password(stored.as_deref(), &current)
    })
    .await
    .map_err(|e| UiError::from(crate::error::ApiError::internal(&e)))?;
    if !ok {
        crate::security::record_auth_failure(
            &state,
            &source,
            "password change",
            &name,
            "wrong current password",
        )
        .await;
        return Err(UiError::forbidden("current: wrong password"));
    }
    let hash = checked_hash(new).await?;
    let audit = crate::audit::credential_change(
        &state,
        &name,
        &source,
        &format!("user {name} password changed"),
    );
    state
        .store
        .set_password(&name, &hash, Some(&user.session_hash), Some(audit))
        .await?;
    tracing::info!(user = %name, "password changed");
    Ok(Redirect::to("/ui/account?changed=1").into_response())
}
