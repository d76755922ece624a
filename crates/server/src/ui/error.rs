//! Errors shown as HTML pages, with the status code the JSON API would use.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

/// A failed UI request: its status and a message safe to show.
#[derive(Debug)]
pub struct UiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What to tell the user (escaped when rendered).
    pub message: String,
}

impl UiError {
    /// 403 with `message`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// 400 naming the form field.
    pub fn field(field: &str, message: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: format!("{field}: {message}"),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            message: e.message,
        }
    }
}

impl From<warroom_store::StoreError> for UiError {
    fn from(e: warroom_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let body = super::templates::render_page(
            "error.html",
            "Error",
            None,
            minijinja::context! {
                status => self.status.as_u16(),
                reason => self.status.canonical_reason().unwrap_or("Error"),
                message => self.message.clone(),
            },
        );
        match body {
            Ok(html) => (self.status, Html(html)).into_response(),
            // Rendering the error page itself failed: plain text still says what happened.
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}
