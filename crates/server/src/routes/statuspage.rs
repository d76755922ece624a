//! Managing the public status page: component statuses, publishing incidents, public updates
//! and scheduled maintenance. The rules are `warroom_core::statuspage`; each change is one
//! store transaction, and changes to a published incident are also recorded on its timeline.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use warroom_core::statuspage::{
    self, ComponentState, ComponentStatus, Impact, IncidentStatus, MaintenanceRequest,
    MaintenanceStatus, MaintenanceUpdateRequest, PageChange, PageContext, PageEntry,
    PublishRequest, UpdateRequest, shown_components,
};
use warroom_core::timer::desired_timers;
use warroom_core::{DomainError, Incident, Role};
use warroom_store::StoreError;

use crate::auth::{Auth, random_hex};
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{not_found, parse_id};
use crate::state::AppState;

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(8))
}

fn entry_view(entry: &PageEntry) -> Value {
    json!(entry)
}

/// `GET /api/v1/statuspage/components`: every configured component with its effective status.
pub async fn components(
    State(state): State<AppState>,
    _auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let states = state.store.component_states().await?;
    let entries = state
        .store
        .public_entries(statuspage::LISTED_ENTRIES as u32)
        .await?;
    let page = &state.config.status_page;
    let shown = shown_components(page, &states, &entries, Timestamp::UNIX_EPOCH);
    let list: Vec<Value> = shown
        .iter()
        .map(|c| {
            let stored = states.iter().find(|s| s.id == c.def.id);
            json!({
                "id": c.def.id,
                "name": c.def.name,
                "group": c.def.group,
                "status": c.status,
                "stored_status": stored.map_or(ComponentStatus::Operational, |s| s.status),
                "updated_at": stored.map(|s| s.updated_at),
                "updated_by": stored.and_then(|s| s.updated_by.clone()),
            })
        })
        .collect();
    Ok(Json(json!({ "components": list })))
}

/// Body of a component change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    status: ComponentStatus,
}

/// `POST /api/v1/statuspage/components/{component}`
pub async fn set_component(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(component): PathParams<String>,
    JsonBody(b): JsonBody<ComponentBody>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Responder)?;
    let page = state.config.status_page.clone();
    if page.component(&component).is_none() {
        return Err(ApiError::not_found(format!(
            "no component {component:?} on the status page"
        )));
    }
    let at = state.clock.now();
    let plan = |_: Option<&PageEntry>, components: &[ComponentState], held: &BTreeSet<String>| {
        let ctx = PageContext {
            config: &page,
            components,
            held_elsewhere: held,
            at,
            new_entry_id: "",
            new_update_id: "",
            actor: &auth.0.name,
        };
        statuspage::set_component(&component, b.status, &ctx)
    };
    state.store.change_page(None, &plan).await?;
    tracing::info!(component = %component, status = %b.status, by = %auth.0.name, "status page component set");
    Ok(Json(
        json!({ "id": component, "status": b.status, "updated_at": at }),
    ))
}

/// `GET /api/v1/statuspage/incidents`: published incidents and maintenances the public sees,
/// newest first, with the internal incident each came from.
pub async fn entries(State(state): State<AppState>, _auth: Auth) -> Result<Json<Value>, ApiError> {
    let entries = state
        .store
        .public_entries(statuspage::LISTED_ENTRIES as u32)
        .await?;
    let incidents: Vec<Value> = entries
        .iter()
        .filter(|e| e.kind == statuspage::EntryKind::Incident)
        .map(entry_view)
        .collect();
    Ok(Json(json!({ "incidents": incidents })))
}

/// `GET /api/v1/statuspage/incidents/{id}`: the page entry of an incident.
pub async fn incident_entry(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    match state.store.incident_page_entry(&auth.0, &id).await? {
        Some(entry) => Ok(Json(entry_view(&entry))),
        None if state.store.incident(&auth.0, &id).await?.is_some() => Err(ApiError::not_found(
            format!("{id} is not on the status page"),
        )),
        None => Err(not_found(&id)),
    }
}

/// Body of a publication. Everything is optional: the title defaults to a neutral text, never
/// to the internal title.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    status: Option<IncidentStatus>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    components: BTreeMap<String, ComponentStatus>,
    #[serde(default)]
    impact: Option<Impact>,
}

/// Body of a public update.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    message: String,
    #[serde(default)]
    status: Option<IncidentStatus>,
    #[serde(default)]
    components: BTreeMap<String, ComponentStatus>,
    #[serde(default)]
    impact: Option<Impact>,
}

type IncidentRule<R> =
    fn(&Incident, Option<&PageEntry>, &R, &PageContext<'_>) -> Result<PageChange, DomainError>;

async fn change_incident<R: Send + Sync>(
    state: &AppState,
    auth: &Auth,
    id: &str,
    req: R,
    rule: IncidentRule<R>,
) -> Result<PageEntry, ApiError> {
    let id = parse_id(id)?;
    let page = state.config.status_page.clone();
    let at = state.clock.now();
    let (entry_id, update_id) = (new_id("sp_"), new_id("spu_"));
    let plan = |inc: &Incident,
                existing: Option<&PageEntry>,
                components: &[ComponentState],
                held: &BTreeSet<String>| {
        let ctx = PageContext {
            config: &page,
            components,
            held_elsewhere: held,
            at,
            new_entry_id: &entry_id,
            new_update_id: &update_id,
            actor: &auth.0.name,
        };
        rule(inc, existing, &req, &ctx)
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    let (_, change) = match state
        .store
        .change_incident_page(&auth.0, &id, &auth.0.name, at, &plan, &timers)
        .await
    {
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        other => other?,
    };
    change
        .entry
        .ok_or_else(|| ApiError::internal(&"a status page change wrote no entry"))
}

/// `POST /api/v1/statuspage/incidents/{id}/publish`
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<PublishBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Commander)?;
    let req = PublishRequest {
        title: b.title,
        status: b.status,
        message: b.message,
        components: b.components,
        impact: b.impact,
    };
    let entry = change_incident(&state, &auth, &id, req, statuspage::publish).await?;
    tracing::info!(incident_id = %id, page_id = %entry.id, by = %auth.0.name, "incident published to the status page");
    Ok((StatusCode::CREATED, Json(entry_view(&entry))))
}

/// `POST /api/v1/statuspage/incidents/{id}/updates`
pub async fn post_update(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<UpdateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Responder)?;
    let req = UpdateRequest {
        status: b.status,
        message: b.message,
        components: b.components,
        impact: b.impact,
    };
    let entry = change_incident(&state, &auth, &id, req, statuspage::post_update).await?;
    tracing::info!(incident_id = %id, page_id = %entry.id, status = %entry.status.as_str(), by = %auth.0.name, "status page update posted");
    Ok((StatusCode::CREATED, Json(entry_view(&entry))))
}

/// `GET /api/v1/statuspage/maintenances`
pub async fn maintenances(
    State(state): State<AppState>,
    _auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let entries = state
        .store
        .public_entries(statuspage::LISTED_ENTRIES as u32)
        .await?;
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| e.kind == statuspage::EntryKind::Maintenance)
        .map(entry_view)
        .collect();
    Ok(Json(json!({ "maintenances": list })))
}

/// Body of a new maintenance.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    title: String,
    #[serde(default)]
    components: Vec<String>,
    scheduled_for: Timestamp,
    scheduled_until: Timestamp,
    #[serde(default)]
    message: Option<String>,
}

/// `POST /api/v1/statuspage/maintenances`
pub async fn create_maintenance(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<MaintenanceBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Responder)?;
    let page = state.config.status_page.clone();
    let at = state.clock.now();
    let (entry_id, update_id) = (new_id("sm_"), new_id("spu_"));
    let req = MaintenanceRequest {
        title: b.title,
        components: b.components,
        scheduled_for: b.scheduled_for,
        scheduled_until: b.scheduled_until,
        message: b.message,
    };
    let plan = |_: Option<&PageEntry>, components: &[ComponentState], held: &BTreeSet<String>| {
        let ctx = PageContext {
            config: &page,
            components,
            held_elsewhere: held,
            at,
            new_entry_id: &entry_id,
            new_update_id: &update_id,
            actor: &auth.0.name,
        };
        statuspage::create_maintenance(&req, &ctx)
    };
    let change = state.store.change_page(None, &plan).await?;
    let entry = change
        .entry
        .ok_or_else(|| ApiError::internal(&"a maintenance change wrote no entry"))?;
    tracing::info!(page_id = %entry.id, by = %auth.0.name, "maintenance scheduled");
    Ok((StatusCode::CREATED, Json(entry_view(&entry))))
}

/// Body of a maintenance update.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceUpdateBody {
    status: MaintenanceStatus,
    message: String,
}

/// `POST /api/v1/statuspage/maintenances/{maintenance}/updates`
pub async fn update_maintenance(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<MaintenanceUpdateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Responder)?;
    let page = state.config.status_page.clone();
    let at = state.clock.now();
    let update_id = new_id("spu_");
    let req = MaintenanceUpdateRequest {
        status: b.status,
        message: b.message,
    };
    let plan =
        |existing: Option<&PageEntry>, components: &[ComponentState], held: &BTreeSet<String>| {
            let ctx = PageContext {
                config: &page,
                components,
                held_elsewhere: held,
                at,
                new_entry_id: "",
                new_update_id: &update_id,
                actor: &auth.0.name,
            };
            match existing {
                Some(entry) => statuspage::update_maintenance(entry, &req, &ctx),
                None => Err(DomainError::Conflict("no such maintenance".into())),
            }
        };
    let change = match state.store.change_page(Some(&id), &plan).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(format!("no maintenance {id}")));
        }
        other => other?,
    };
    let entry = change
        .entry
        .ok_or_else(|| ApiError::internal(&"a maintenance change wrote no entry"))?;
    Ok((StatusCode::CREATED, Json(entry_view(&entry))))
}
