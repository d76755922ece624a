//! `/ui/events`: server-sent events telling open pages that an incident changed.
//!
//! Writes happen in many places (API handlers, the alert pipeline, the timer engine) and in
//! other processes sharing a PostgreSQL database, so there is no single in-process hook that
//! sees them all. Instead each stream polls the store's change marker (the sum of incident
//! versions, which every appended event raises) once a second and sends a `change` event when
//! it moved. Pages render the marker they were built from and pass it as `?since=`, so a
//! change between rendering a page and opening its stream is not missed.
//!
//! The event carries only the new marker, never incident data: the page reloads its lists
//! through the usual visibility-filtered reads.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;

use super::UiError;
use super::session::UiUser;
use crate::state::AppState;

/// How often each stream asks the store whether anything changed.
const POLL: Duration = Duration::from_secs(1);

/// `GET /ui/events?since=MARKER`
pub async fn events(
    State(state): State<AppState>,
    _user: UiUser,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, UiError> {
    let mut since = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "since" => {
                since = Some(v.parse::<i64>().map_err(|_| {
                    UiError::field("since", "expected the number a page was rendered with")
                })?)
            }
            other => return Err(UiError::field(other, "unknown query parameter")),
        }
    }
    let last = match since {
        Some(n) => n,
        None => state.store.change_marker().await?,
    };
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closing = state.closing.subscribe();
    let stream = stream::unfold(
        (state, last, ticker, closing),
        |(state, mut last, mut ticker, mut closing)| async move {
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    // Shutting down (or the sender is gone): end the stream, the browser's
                    // EventSource reconnects to whichever server answers next.
                    _ = closing.wait_for(|c| *c) => return None,
                }
                match state.store.change_marker().await {
                    Ok(now) if now != last => {
                        last = now;
                        let event = Event::default().event("change").data(now.to_string());
                        return Some((Ok(event), (state, last, ticker, closing)));
                    }
                    Ok(_) => {}
                    // A database hiccup should not end the stream: the next tick tries again.
                    Err(e) => tracing::warn!(error = %e, "live updates could not read the store"),
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
