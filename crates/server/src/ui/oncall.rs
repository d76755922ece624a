//! `/ui/oncall`: who is on call now on every schedule and the shifts of the coming two weeks,
//! overrides included, computed exactly as the API's `GET /api/v1/schedules`.

use axum::extract::State;
use axum::response::Html;
use jiff::SignedDuration;
use minijinja::context;
use warroom_core::schedule::{shifts, who_is_on_call};

use super::UiError;
use super::format::absolute;
use super::session::UiUser;
use super::templates::render_page;
use crate::routes::overrides::live;
use crate::state::AppState;

/// How far ahead the page lists shifts.
const DAYS: i64 = 14;

/// `GET /ui/oncall`
pub async fn page(State(state): State<AppState>, user: UiUser) -> Result<Html<String>, UiError> {
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * DAYS))
        .unwrap_or(now);
    let overrides = live(&state, now, until).await?;
    let config = &state.config;
    let name = |id: &str| {
        config
            .person(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let schedules: Vec<_> = config
        .schedules
        .iter()
        .map(|s| {
            let upcoming: Vec<_> = shifts(s, &overrides, now, until)
                .into_iter()
                .map(|sh| {
                    context! {
                        person => name(&sh.person),
                        start => absolute(sh.start),
                        start_datetime => sh.start.to_string(),
                        end => absolute(sh.end),
                        end_datetime => sh.end.to_string(),
                    }
                })
                .collect();
            context! {
                id => s.id.clone(),
                name => s.name.clone(),
                time_zone => s.time_zone.to_string(),
                now => who_is_on_call(s, &overrides, now).map(|o| name(&o.person)),
                shifts => upcoming,
            }
        })
        .collect();
    let html = render_page(
        "oncall.html",
        "On call",
        Some(&user.viewer()),
        context! { now => absolute(now), days => DAYS, schedules => schedules },
    )?;
    Ok(Html(html))
}
