//! The OpenAPI 3.1 description, generated from the route table so it cannot drift from the
//! router (a test checks every documented route answers and every answered route is documented).

use serde_json::{Map, Value, json};

use crate::routes::ROUTES;

fn schemas() -> Value {
    let incident_ref = json!({ "$ref": "#/components/schemas/Incident" });
    let impact = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "users_affected": { "type": "integer", "minimum": 0 },
            "data_affected": { "type": "string" },
            "services_impacted": { "type": "array", "items": { "type": "string" } },
            "estimated_cost": { "type": "string" }
        }
    });
    let links = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "ticket": { "type": "string" }, "chat_channel": { "type": "string" }, "dashboard": { "type": "string" }
        }
    });
    let status = json!({ "type": "string", "enum": ["triage", "investigating", "contained", "recovering", "resolved", "closed"] });
    let role = json!({ "type": "string", "enum": ["viewer", "responder", "commander", "admin"] });
    let time = json!({ "type": "string", "format": "date-time" });
    let scope = json!({ "type": "string", "enum": ["full", "read-only"], "description": "read-only tokens may use only the viewer's routes, whatever their role" });
    let component_status = json!({ "type": "string", "enum": ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"] });
    let incident_status = json!({ "type": "string", "enum": ["investigating", "identified", "monitoring", "resolved"] });
    let priority = json!({ "type": "string", "enum": ["p1", "p2", "p3", "p4"] });
    let action_status =
        json!({ "type": "string", "enum": ["open", "in_progress", "done", "cancelled"] });
    let summary = json!({ "type": "object", "description": "mean rounded down; median and p90 by nearest rank", "properties": {
        "count": { "type": "integer" }, "mean_secs": { "type": "integer" },
        "median_secs": { "type": "integer" }, "p90_secs": { "type": "integer" } } });
    json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" }
            }}}
        },
        "Health": { "type": "object", "properties": { "status": { "type": "string" } } },
        "Object": { "type": "object" },
        "Document": { "type": "string", "description": "text/markdown, text/csv or application/json" },
        "Principal": { "type": "object", "properties": { "name": { "type": "string" }, "role": role, "security": { "type": "boolean" }, "scope": scope } },
        "Impact": impact,
        "Links": links,
        "Incident": {
            "type": "object",
            "required": ["id", "version", "title", "type", "severity", "status", "services", "labels", "restricted",
                         "roles", "impact", "links", "reporter", "participants", "declared_at", "updated_at"],
            "properties": {
                "id": { "type": "string", "pattern": "^INC-[0-9]{8}-[0-9]{3,}$" },
                "version": { "type": "integer" },
                "title": { "type": "string" }, "description": { "type": "string" },
                "type": { "type": "string" }, "severity": { "type": "string" }, "status": status,
                "services": { "type": "array", "items": { "type": "string" } },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "restricted": { "type": "boolean" },
                "roles": { "type": "object", "additionalProperties": { "type": "string" } },
                "impact": { "$ref": "#/components/schemas/Impact" },
                "root_cause": { "type": "string" }, "resolution_summary": { "type": "string" },
                "links": { "$ref": "#/components/schemas/Links" },
                "reporter": { "type": "string" },
                "participants": { "type": "array", "items": { "type": "string" } },
                "declared_at": time, "acknowledged_at": time, "acknowledged_by": { "type": "string" },
                "contained_at": time, "resolved_at": time, "closed_at": time, "updated_at": time,
                "actions": { "type": "array", "items": { "$ref": "#/components/schemas/ActionItem" } }
            }
        },
        "IncidentPage": { "type": "object", "properties": {
            "incidents": { "type": "array", "items": incident_ref },
            "next_cursor": { "type": ["string", "null"] }
        }},
        "Event": { "type": "object", "required": ["incident_id", "seq", "at", "actor", "kind", "prev_hash", "hash"], "properties": {
            "incident_id": { "type": "string" }, "seq": { "type": "integer" }, "at": time, "actor": { "type": "string" },
            "kind": { "type": "string" }, "data": { "type": "object" },
            "prev_hash": { "type": "string" }, "hash": { "type": "string" }
        }},
        "EventList": { "type": "object", "properties": { "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } } } },
        "Declaration": { "type": "object", "additionalProperties": false, "required": ["title", "severity"], "properties": {
            "title": { "type": "string", "maxLength": 200 }, "type": { "type": "string" }, "severity": { "type": "string" },
            "services": { "type": "array", "items": { "type": "string" } },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "restricted": { "type": "boolean" }, "description": { "type": "string" },
            "impact": { "$ref": "#/components/schemas/Impact" }, "links": { "$ref": "#/components/schemas/Links" }
        }},
        "IncidentPatch": { "type": "object", "additionalProperties": false, "properties": {
            "title": { "type": "string" }, "type": { "type": "string" },
            "services": { "type": "array", "items": { "type": "string" } },
            "labels": { "type": "object", "additionalProperties": { "type": ["string", "null"] } },
            "impact": { "$ref": "#/components/schemas/Impact" }, "root_cause": { "type": "string" },
            "links": { "$ref": "#/components/schemas/Links" }, "restricted": { "type": "boolean" }
        }},
        "SeverityChange": { "type": "object", "additionalProperties": false, "required": ["severity"],
            "properties": { "severity": { "type": "string" }, "reason": { "type": "string" } } },
        "StatusChange": { "type": "object", "additionalProperties": false, "required": ["status"],
            "properties": { "status": status, "reason": { "type": "string" } } },
        "RoleAssignment": { "type": "object", "additionalProperties": false, "required": ["role", "person"],
            "properties": { "role": { "type": "string" }, "person": { "type": "string" } } },
        "Note": { "type": "object", "additionalProperties": false, "required": ["text"], "properties": { "text": { "type": "string" } } },
        "StatusUpdate": { "type": "object", "additionalProperties": false, "required": ["text"], "properties": {
            "text": { "type": "string" },
            "audience": { "type": "string", "enum": ["internal", "executives", "customers", "regulators"], "default": "internal" } } },
        "Resolution": { "type": "object", "additionalProperties": false, "required": ["summary"], "properties": { "summary": { "type": "string" } } },
        "Reopen": { "type": "object", "additionalProperties": false, "required": ["reason"], "properties": { "reason": { "type": "string" } } },
        "VerifyReport": { "type": "object", "properties": {
            "incidents_checked": { "type": "integer" }, "events_checked": { "type": "integer" }, "ok": { "type": "boolean" },
            "broken": { "type": "array", "items": { "type": "object", "properties": {
                "incident_id": { "type": "string" }, "seq": { "type": "integer" }, "reason": { "type": "string" } } } }
        }},
        "Token": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "role": role, "security": { "type": "boolean" },
            "created_at": time, "created_by": { "type": "string" }, "revoked_at": time, "last_used_at": time,
            "scope": scope, "expires_at": time
        }},
        "User": { "type": "object", "properties": {
            "name": { "type": "string" }, "role": role, "security": { "type": "boolean" },
            "created_at": time, "created_by": { "type": "string" },
            "disabled_at": time, "disabled_by": { "type": "string" }
        }},
        "PasswordRequest": { "type": "object", "additionalProperties": false, "required": ["password"],
            "properties": { "password": { "type": "string", "minLength": 12, "description": "hashed with argon2id; never stored or shown" } } },
        "UserList": { "type": "object", "properties": { "users": { "type": "array", "items": { "$ref": "#/components/schemas/User" } } } },
        "UserRequest": { "type": "object", "additionalProperties": false, "required": ["name", "role", "password"],
            "properties": { "name": { "type": "string" }, "role": role, "security": { "type": "boolean" },
                "password": { "type": "string", "minLength": 12, "description": "hashed with argon2id; never stored or shown" } } },
        "TokenList": { "type": "object", "properties": { "tokens": { "type": "array", "items": { "$ref": "#/components/schemas/Token" } } } },
        "TokenRequest": { "type": "object", "additionalProperties": false, "required": ["name", "role"],
            "properties": { "name": { "type": "string" }, "role": role, "security": { "type": "boolean" },
                "scope": scope, "expires_in": { "type": "string", "description": "lifetime, e.g. 90d or 12h; never expires when absent" } } },
        "NewToken": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "role": role, "security": { "type": "boolean" },
            "scope": scope, "expires_at": time,
            "created_at": time, "token": { "type": "string", "description": "the secret; shown only here" }
        }},
        "Playbook": { "type": "object", "required": ["id", "title", "phases"], "properties": {
            "id": { "type": "string" }, "title": { "type": "string" }, "description": { "type": "string" },
            "triggers": { "type": "object", "properties": {
                "types": { "type": "array", "items": { "type": "string" } },
                "services": { "type": "array", "items": { "type": "string" } },
                "severity": { "type": "string", "description": "P0..P2 or one id" },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } } } },
            "params": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "description": { "type": "string" } } } },
            "phases": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "string" }, "title": { "type": "string" }, "time_box": { "type": "string" },
                "tasks": { "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "text": { "type": "string" }, "owner": { "type": "string" },
                    "commands": { "type": "array", "items": { "type": "string" } },
                    "links": { "type": "array", "items": { "type": "string" } } } } } } } },
            "templates": { "type": "array", "items": { "type": "string" } }
        }},
        "PlaybookList": { "type": "object", "properties": { "playbooks": { "type": "array", "items": { "$ref": "#/components/schemas/Playbook" } } } },
        "PlaybookAttachment": { "type": "object", "additionalProperties": false, "required": ["playbook"], "properties": { "playbook": { "type": "string" } } },
        "Detachment": { "type": "object", "additionalProperties": false, "properties": { "reason": { "type": "string" } } },
        "Skip": { "type": "object", "additionalProperties": false, "required": ["reason"], "properties": { "reason": { "type": "string" } } },
        "Task": { "type": "object", "properties": {
            "number": { "type": "integer" }, "playbook": { "type": "string" }, "phase": { "type": "string" },
            "phase_title": { "type": "string" }, "time_box": { "type": "string" }, "task": { "type": "string" },
            "text": { "type": "string" }, "owner": { "type": "string" }, "owner_person": { "type": "string" },
            "state": { "type": "string", "enum": ["open", "done", "skipped"] }, "by": { "type": "string" }, "at": time,
            "reason": { "type": "string" }, "due_at": time, "overdue": { "type": "boolean" },
            "commands": { "type": "array", "items": { "type": "string" } }, "links": { "type": "array", "items": { "type": "string" } }
        }},
        "TaskList": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "overdue": { "type": "integer" },
            "tasks": { "type": "array", "items": { "$ref": "#/components/schemas/Task" } } } },
        "TriageQuestions": { "type": "object", "properties": { "questions": { "type": "array", "items": { "type": "object", "properties": {
            "key": { "type": "string" }, "question": { "type": "string" }, "help": { "type": "string" },
            "if_yes": { "type": "object", "properties": { "severity": { "type": "string" }, "rank": { "type": "integer" }, "adjust": { "type": "integer" } } } } } } } },
        "TriageAnswers": { "type": "object", "additionalProperties": false, "required": ["answers"],
            "properties": { "answers": { "type": "object", "additionalProperties": { "type": "boolean" } } } },
        "TriageSuggestion": { "type": "object", "properties": {
            "severity": { "type": "string" }, "reasons": { "type": "array", "items": { "type": "string" } },
            "unanswered": { "type": "array", "items": { "type": "string" } } } },
        "Delivery": { "type": "object",
            "required": ["id", "incident_id", "channel", "destination", "subject", "status", "attempts", "created_at"],
            "properties": {
                "id": { "type": "string", "description": "idempotency key, sent to receivers with every attempt" },
                "incident_id": { "type": "string" },
                "channel": { "type": "string", "enum": ["webhook", "slack", "email"] },
                "destination": { "type": "string", "description": "URL without credentials or query, Slack host, or email address" },
                "subject": { "type": "string" },
                "status": { "type": "string", "enum": ["pending", "sending", "delivered", "failed", "dead"] },
                "attempts": { "type": "integer", "minimum": 0 },
                "created_at": time,
                "next_attempt_at": { "type": "string", "format": "date-time", "description": "next retry (failed), lease end (sending), first attempt (pending)" },
                "last_attempt_at": time, "delivered_at": time,
                "last_error": { "type": "string" }
            }
        },
        "NewAction": { "type": "object", "additionalProperties": false, "required": ["title", "owner", "due"], "properties": {
            "title": { "type": "string", "maxLength": 200 }, "owner": { "type": "string", "description": "a configured person's handle" },
            "due": { "type": "string", "format": "date" }, "priority": priority,
            "ticket": { "type": "string", "description": "http:// or https:// URL" } } },
        "ActionPatch": { "type": "object", "additionalProperties": false, "properties": {
            "title": { "type": "string" }, "owner": { "type": "string" }, "due": { "type": "string", "format": "date" },
            "priority": priority, "status": action_status,
            "ticket": { "type": "string", "description": "empty removes the link" } } },
        "ActionItem": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "id": { "type": "string", "description": "A1, A2... within the incident" },
            "title": { "type": "string" }, "owner": { "type": "string" }, "due": { "type": "string", "format": "date" },
            "due_at": { "type": "string", "format": "date-time", "description": "end of the due date in the owner's time zone" },
            "priority": priority, "status": action_status, "ticket": { "type": "string" },
            "created_at": time, "created_by": { "type": "string" }, "updated_at": time,
            "overdue": { "type": "boolean", "description": "in lists only" } } },
        "EvidenceContent": { "type": "string", "format": "binary", "description": "the raw content (any media type), streamed" },
        "Evidence": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "sha256": { "type": "string", "description": "64 lowercase hex digits: the content's identity" },
            "size": { "type": "integer" }, "file_name": { "type": "string" }, "media_type": { "type": "string" },
            "description": { "type": "string" }, "collected_from": { "type": "string", "description": "as the collector said" },
            "source": { "type": "string", "description": "the uploader's address as the server saw it" },
            "collected_by": { "type": "string" }, "collected_at": time, "seq": { "type": "integer", "description": "its evidence_added event" } } },
        "EvidenceAdded": { "type": "object", "properties": {
            "evidence": { "$ref": "#/components/schemas/Evidence" },
            "duplicate": { "type": "boolean", "description": "the incident already held this content (200, nothing recorded)" } } },
        "EvidenceList": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "evidence": { "type": "array", "items": { "$ref": "#/components/schemas/Evidence" } } } },
        "EvidenceCustody": { "type": "object", "properties": {
            "evidence": { "$ref": "#/components/schemas/Evidence" },
            "custody": { "type": "array", "description": "evidence_added, _viewed, _downloaded and _transferred events of this content, oldest first", "items": { "$ref": "#/components/schemas/Event" } } } },
        "EvidenceTransfer": { "type": "object", "additionalProperties": false, "required": ["to"], "properties": {
            "to": { "type": "string", "maxLength": 200, "description": "who receives it" }, "reason": { "type": "string", "maxLength": 2000 } } },
        "EvidenceTransferred": { "type": "object", "properties": {
            "evidence": { "$ref": "#/components/schemas/Evidence" }, "event": { "$ref": "#/components/schemas/Event" } } },
        "EvidenceVerification": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "ok": { "type": "boolean" }, "checked": { "type": "integer" },
            "items": { "type": "array", "items": { "type": "object", "properties": {
                "sha256": { "type": "string" }, "file_name": { "type": "string" }, "size": { "type": "integer" },
                "status": { "type": "string", "enum": ["ok", "missing", "mismatch"] },
                "actual_sha256": { "type": "string", "description": "what a mismatched blob hashes to now" } } } } } },
        "NewIndicator": { "type": "object", "additionalProperties": false, "required": ["kind", "value"], "properties": {
            "kind": { "type": "string", "enum": ["ip", "domain", "url", "hash", "email", "account"] },
            "value": { "type": "string", "description": "normalised: addresses canonical, domains, hashes and emails lowercase, URL scheme and host lowercase" },
            "first_seen": time, "last_seen": time, "note": { "type": "string", "maxLength": 2000 } } },
        "Indicator": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "kind": { "type": "string" }, "value": { "type": "string" },
            "first_seen": time, "last_seen": time, "note": { "type": "string" },
            "recorded_by": { "type": "string" }, "recorded_at": time, "updated_at": time } },
        "IndicatorRecorded": { "type": "object", "properties": {
            "indicator": { "$ref": "#/components/schemas/Indicator" },
            "change": { "type": "string", "enum": ["new", "updated", "unchanged"], "description": "unchanged: the report added nothing and no event was recorded" } } },
        "IndicatorList": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "indicators": { "type": "array", "items": { "$ref": "#/components/schemas/Indicator" } } } },
        "IndicatorSearch": { "type": "object", "properties": {
            "searched": { "type": "array", "items": { "type": "object", "properties": { "kind": { "type": "string" }, "value": { "type": "string" } } } },
            "matches": { "type": "array", "items": { "$ref": "#/components/schemas/Indicator" } } } },
        "AuditEntry": { "type": "object", "properties": {
            "seq": { "type": "integer" }, "at": time, "actor": { "type": "string" },
            "action": { "type": "string", "enum": ["restricted_read", "evidence_view", "evidence_download", "evidence_transfer", "token_use", "auth_failure"] },
            "target": { "type": "string" }, "source": { "type": "string" }, "outcome": { "type": "string" },
            "prev_hash": { "type": "string" }, "hash": { "type": "string" } } },
        "AuditLog": { "type": "object", "properties": {
            "entries": { "type": "array", "items": { "$ref": "#/components/schemas/AuditEntry" } },
            "verified": { "type": "boolean", "description": "with ?verify=true: the whole chain checks out" },
            "broken": { "type": "object", "description": "with ?verify=true: the first entry that does not check out", "properties": {
                "seq": { "type": "integer" }, "reason": { "type": "string" } } } } },
        "ActionList": { "type": "object", "properties": {
            "actions": { "type": "array", "items": { "$ref": "#/components/schemas/ActionItem" } } } },
        "IncidentMetrics": { "type": "object", "description": "durations in whole seconds from the declaration; see ARCHITECTURE.md, Metrics and reports", "properties": {
            "incident_id": { "type": "string" }, "severity": { "type": "string" }, "type": { "type": "string" },
            "services": { "type": "array", "items": { "type": "string" } }, "status": status,
            "declared_at": time, "first_alert_at": time, "acknowledged_at": time, "contained_at": time, "resolved_at": time,
            "time_to_detect_secs": { "type": "integer" }, "time_to_acknowledge_secs": { "type": "integer" },
            "time_to_contain_secs": { "type": "integer" }, "time_to_resolve_secs": { "type": "integer" },
            "time_in_status_secs": { "type": "object", "additionalProperties": { "type": "integer" } },
            "pages": { "type": "integer" }, "escalations": { "type": "integer" }, "reopened": { "type": "integer" },
            "response_target_breached": { "type": "boolean" }, "rto_secs": { "type": "integer" }, "rto_met": { "type": "boolean" },
            "update_cadence_kept": { "type": "boolean" }, "updates_missed": { "type": "integer" },
            "longest_update_gap_secs": { "type": "integer" } } },
        "Report": { "type": "object", "description": "JSON by default; text/markdown or text/csv with ?format=md|csv", "properties": {
            "since": time, "until": time, "by": { "type": "string", "enum": ["severity", "service", "type"] },
            "total": { "$ref": "#/components/schemas/ReportGroup" },
            "groups": { "type": "array", "items": { "$ref": "#/components/schemas/ReportGroup" } },
            "weeks": { "type": "array", "items": { "$ref": "#/components/schemas/ReportGroup" } } } },
        "ReportGroup": { "type": "object", "properties": {
            "key": { "type": "string" }, "incidents": { "type": "integer" }, "open": { "type": "integer" },
            "resolved": { "type": "integer" }, "reopened": { "type": "integer" }, "unacknowledged": { "type": "integer" },
            "time_to_acknowledge": summary, "time_to_contain": summary, "time_to_resolve": summary, "time_to_detect": summary,
            "response_target_breaches": { "type": "integer" }, "rto_missed": { "type": "integer" },
            "update_cadence_missed": { "type": "integer" }, "escalations": { "type": "integer" },
            "actions_open": { "type": "integer" }, "actions_overdue": { "type": "integer" } } },
        "DeliveryList": { "type": "object", "properties": {
            "incident_id": { "type": "string" },
            "deliveries": { "type": "array", "items": { "$ref": "#/components/schemas/Delivery" } } } },
        "OnCall": { "type": "object", "properties": { "at": time, "on_call": { "type": "array", "items": { "type": "object", "properties": {
            "schedule": { "type": "string" }, "schedule_name": { "type": "string" }, "person": { "type": ["string", "null"] },
            "person_name": { "type": "string" }, "shift_start": time, "shift_end": time } } } } },
        "ScheduleList": { "type": "object", "properties": { "schedules": { "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "time_zone": { "type": "string" },
            "on_call_now": { "type": ["string", "null"] }, "calendar": { "type": "string" },
            "shifts": { "type": "array", "items": { "type": "object", "properties": {
                "person": { "type": "string" }, "person_name": { "type": "string" }, "start": time, "end": time } } } } } } } },
        "OverrideRequest": { "type": "object", "additionalProperties": false, "required": ["person", "start", "end"],
            "properties": { "person": { "type": "string" }, "start": time, "end": time } },
        "Override": { "type": "object", "properties": {
            "id": { "type": "string" }, "schedule": { "type": "string" }, "person": { "type": "string" }, "start": time, "end": time } },
        "OverrideList": { "type": "object", "properties": { "schedule": { "type": "string" },
            "overrides": { "type": "array", "items": { "$ref": "#/components/schemas/Override" } } } },
        "RemovedOverride": { "type": "object", "properties": {
            "id": { "type": "string" }, "schedule": { "type": "string" }, "person": { "type": "string" }, "start": time, "end": time,
            "removed_at": time, "removed_by": { "type": "string" } } },
        "RevokedToken": { "type": "object", "properties": { "id": { "type": "string" }, "revoked_at": time } },
        "PagerDutyEvent": { "type": "object", "required": ["routing_key", "event_action"],
            "description": "PagerDuty Events API v2 alert event; `payload` (summary <= 1024, source, severity) is required for triggers, `dedup_key` (<= 255) for acknowledge and resolve; at most 512,000 bytes",
            "properties": {
                "routing_key": { "type": "string" }, "event_action": { "type": "string", "enum": ["trigger", "acknowledge", "resolve"] },
                "dedup_key": { "type": "string", "maxLength": 255 },
                "payload": { "type": "object", "properties": {
                    "summary": { "type": "string", "maxLength": 1024 }, "source": { "type": "string" },
                    "severity": { "type": "string", "enum": ["critical", "error", "warning", "info"] },
                    "timestamp": { "type": "string" }, "component": { "type": "string" }, "group": { "type": "string" },
                    "class": { "type": "string" }, "custom_details": { "type": "object" } } },
                "images": { "type": "array", "items": { "type": "object" } }, "links": { "type": "array", "items": { "type": "object" } },
                "client": { "type": "string" }, "client_url": { "type": "string" } } },
        "PagerDutyChange": { "type": "object", "required": ["routing_key", "payload"], "properties": {
            "routing_key": { "type": "string" },
            "payload": { "type": "object", "required": ["summary"], "properties": {
                "summary": { "type": "string", "maxLength": 1024 }, "source": { "type": "string" },
                "timestamp": { "type": "string" }, "custom_details": { "type": "object" } } },
            "links": { "type": "array", "items": { "type": "object", "properties": { "href": { "type": "string" }, "text": { "type": "string" } } } } } },
        "PagerDutyResponse": { "type": "object", "required": ["status"], "description": "202 success; 400 `invalid event` with `errors`; 429 `throttle event` with Retry-After",
            "properties": { "status": { "type": "string" }, "message": { "type": "string" }, "dedup_key": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "string" } } } },
        "AlertmanagerWebhook": { "type": "object", "description": "Alertmanager webhook payload, version 4; unknown fields are ignored",
            "properties": { "version": { "type": "string" }, "groupKey": { "type": "string" }, "status": { "type": "string" },
            "alerts": { "type": "array", "items": { "type": "object" } } } },
        "GrafanaWebhook": { "type": "object", "description": "Grafana alerting webhook payload (Alertmanager's shape plus title, state, message, orgId)",
            "properties": { "alerts": { "type": "array", "items": { "type": "object" } } } },
        "GenericEvent": { "type": "object", "additionalProperties": false, "required": ["summary"], "properties": {
            "summary": { "type": "string" }, "severity": { "type": "string", "enum": ["critical", "error", "warning", "info"] },
            "source": { "type": "string" }, "dedup_key": { "type": "string" },
            "action": { "type": "string", "enum": ["trigger", "acknowledge", "resolve"] }, "service": { "type": "string" },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } }, "details": { "type": "object" },
            "timestamp": { "type": "string" } } },
        "IngestResult": { "type": "object", "properties": { "status": { "type": "string" }, "events": { "type": "integer" },
            "results": { "type": "array", "items": { "type": "object", "properties": {
                "dedup_key": { "type": "string" }, "alert_id": { "type": "string" }, "reason": { "type": "string" },
                "outcome": { "type": "string", "enum": ["opened", "suppressed", "repeated", "acknowledged", "resolved", "ignored", "dropped"] } } } } } },
        "Alert": { "type": "object", "properties": {
            "id": { "type": "string" }, "kind": { "type": "string" }, "dedup_key": { "type": "string" },
            "routing_key": { "type": "string", "description": "the integration's id" }, "integration_id": { "type": "string" },
            "status": { "type": "string", "enum": ["triggered", "acknowledged", "resolved"] },
            "summary": { "type": "string" }, "severity": { "type": "string" }, "service": { "type": ["string", "null"] },
            "labels": { "type": "object" }, "first_seen": time, "last_seen": time, "count": { "type": "integer" },
            "incident_id": { "type": ["string", "null"], "description": "null until linked; alerts of restricted incidents you may not see are not shown at all" },
            "acknowledged_at": time, "resolved_at": time, "incident_severity": { "type": "string" },
            "playbooks": { "type": "array", "items": { "type": "string" } }, "suppressed": { "type": "string" },
            "link": { "type": "string", "enum": ["none", "open", "resolve", "done"] },
            "events": { "type": "array", "items": { "type": "object" } } } },
        "AlertList": { "type": "object", "properties": { "alerts": { "type": "array", "items": { "$ref": "#/components/schemas/Alert" } } } },
        "IntegrationRequest": { "type": "object", "additionalProperties": false, "required": ["service"],
            "properties": { "service": { "type": "string" }, "name": { "type": "string" } } },
        "Integration": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "service": { "type": "string" },
            "created_at": time, "created_by": { "type": "string" }, "revoked_at": time,
            "rotated_at": time, "previous_key_until": time } },
        "IntegrationRotation": { "type": "object", "additionalProperties": false,
            "properties": { "grace": { "type": "string", "description": "how long the old key keeps working: 24h by default, 0s to 30d" } } },
        "NewIntegration": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "service": { "type": "string" },
            "created_at": time, "created_by": { "type": "string" },
            "rotated_at": time, "previous_key_until": time,
            "routing_key": { "type": "string", "description": "shown once; stored hashed" } } },
        "IntegrationList": { "type": "object", "properties": { "integrations": { "type": "array", "items": { "$ref": "#/components/schemas/Integration" } } } },
        "TemplateList": { "type": "object", "properties": { "templates": { "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" },
            "audience": { "type": "string", "enum": ["internal", "executives", "customers", "regulators", "affected-people", "public"] },
            "description": { "type": "string" } } } } } },
        "Draft": { "type": "object", "properties": {
            "template": { "type": "string" }, "audience": { "type": "string" }, "subject": { "type": "string" }, "body": { "type": "string" } } },
        "MessageRequest": { "type": "object", "additionalProperties": false, "required": ["template", "to"], "properties": {
            "template": { "type": "string" },
            "to": { "type": "array", "items": { "type": "string" }, "description": "channel ids, people's handles, or email:ADDRESS" },
            "subject": { "type": "string", "description": "edited subject; the draft's when absent" },
            "text": { "type": "string", "description": "edited text; the draft's when absent" },
            "meets": { "type": "array", "items": { "type": "string" }, "description": "deadline rules this message meets; every started, unmet, matching one when absent" } } },
        "SentMessage": { "type": "object", "properties": {
            "incident": { "$ref": "#/components/schemas/Incident" }, "event": { "type": "object" } } },
        "Deadline": { "type": "object", "properties": {
            "rule": { "type": "string" }, "name": { "type": "string" }, "reference": { "type": "string" }, "audience": { "type": "string" },
            "starts_from": { "type": "string" }, "started_at": time, "within": { "type": "string" }, "due_at": time, "remind_at": time,
            "guidance": { "type": "string" }, "met_at": time,
            "state": { "type": "string", "enum": ["not_started", "open", "due_soon", "overdue", "met", "met_late"] },
            "seconds_left": { "type": "integer" } } },
        "Deadlines": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "now": time,
            "updates": { "type": "object", "properties": { "every": { "type": "string" }, "last_update_at": time, "next_update_due": time, "overdue": { "type": "boolean" } } },
            "deadlines": { "type": "array", "items": { "$ref": "#/components/schemas/Deadline" } },
            "moments": { "type": "object", "additionalProperties": time } } },
        "Postmortem": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "version": { "type": ["integer", "null"] }, "sha256": { "type": ["string", "null"] },
            "markdown": { "type": "string" },
            "published": { "type": "array", "items": { "type": "object", "properties": {
                "version": { "type": "integer" }, "at": time, "by": { "type": "string" }, "sha256": { "type": "string" } } } },
            "review_due_at": { "type": ["string", "null"], "format": "date-time" }, "review_overdue": { "type": "boolean" } } },
        "Section": { "type": "object", "additionalProperties": false, "required": ["text"], "properties": { "text": { "type": "string" } } },
        "KeyMoment": { "type": "object", "additionalProperties": false, "required": ["seq"], "properties": {
            "seq": { "type": "integer", "minimum": 1 }, "marked": { "type": "boolean", "default": true } } },
        "PublishedPostmortem": { "type": "object", "properties": {
            "incident_id": { "type": "string" }, "version": { "type": "integer" }, "sha256": { "type": "string" }, "markdown": { "type": "string" } } },
        "Moment": { "type": "object", "additionalProperties": false, "required": ["moment"], "properties": {
            "moment": { "type": "string", "enum": ["aware", "discovered", "materiality-determined"] },
            "at": time } },
        "HostedPage": { "type": "object", "required": ["id", "name", "url", "time_zone", "updated_at"], "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "url": { "type": "string" },
            "time_zone": { "type": "string" }, "updated_at": time } },
        "HostedStatusObject": { "type": "object", "required": ["indicator", "description"], "properties": {
            "indicator": { "type": "string", "enum": ["none", "minor", "major", "critical"] }, "description": { "type": "string" } } },
        "HostedComponent": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "status": component_status.clone(),
            "created_at": time, "updated_at": time, "position": { "type": "integer" }, "description": { "type": ["string", "null"] },
            "showcase": { "type": "boolean" }, "start_date": { "type": ["string", "null"] }, "group_id": { "type": ["string", "null"] },
            "page_id": { "type": "string" }, "group": { "type": "boolean" }, "only_show_if_degraded": { "type": "boolean" },
            "components": { "type": "array", "items": { "type": "string" }, "description": "member ids, on groups only" } } },
        "HostedIncident": { "type": "object", "description": "an incident; maintenances add scheduled_for and scheduled_until", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" },
            "status": { "type": "string", "enum": ["investigating", "identified", "monitoring", "resolved", "scheduled", "in_progress", "verifying", "completed"] },
            "impact": { "type": "string", "enum": ["none", "minor", "major", "critical", "maintenance"] },
            "created_at": time, "updated_at": time, "monitoring_at": time, "resolved_at": time, "started_at": time,
            "scheduled_for": time, "scheduled_until": time, "shortlink": { "type": "string" }, "page_id": { "type": "string" },
            "incident_updates": { "type": "array", "items": { "type": "object" } },
            "components": { "type": "array", "items": { "$ref": "#/components/schemas/HostedComponent" } } } },
        "HostedStatus": { "type": "object", "properties": { "page": { "$ref": "#/components/schemas/HostedPage" }, "status": { "$ref": "#/components/schemas/HostedStatusObject" } } },
        "HostedComponents": { "type": "object", "properties": { "page": { "$ref": "#/components/schemas/HostedPage" },
            "components": { "type": "array", "items": { "$ref": "#/components/schemas/HostedComponent" } } } },
        "HostedIncidents": { "type": "object", "properties": { "page": { "$ref": "#/components/schemas/HostedPage" },
            "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/HostedIncident" } } } },
        "HostedMaintenances": { "type": "object", "properties": { "page": { "$ref": "#/components/schemas/HostedPage" },
            "scheduled_maintenances": { "type": "array", "items": { "$ref": "#/components/schemas/HostedIncident" } } } },
        "HostedSummary": { "type": "object", "properties": { "page": { "$ref": "#/components/schemas/HostedPage" },
            "status": { "$ref": "#/components/schemas/HostedStatusObject" },
            "components": { "type": "array", "items": { "$ref": "#/components/schemas/HostedComponent" } },
            "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/HostedIncident" } },
            "scheduled_maintenances": { "type": "array", "items": { "$ref": "#/components/schemas/HostedIncident" } } } },
        "PageComponent": { "type": "object", "properties": { "id": { "type": "string" }, "status": component_status.clone(), "updated_at": time } },
        "PageComponentList": { "type": "object", "properties": { "components": { "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "string" }, "name": { "type": "string" }, "group": { "type": ["string", "null"] },
            "status": component_status.clone(), "stored_status": component_status.clone(), "updated_at": time, "updated_by": { "type": ["string", "null"] } } } } } },
        "PageComponentChange": { "type": "object", "additionalProperties": false, "required": ["status"], "properties": { "status": component_status.clone() } },
        "PageEntry": { "type": "object", "properties": {
            "id": { "type": "string" }, "kind": { "type": "string", "enum": ["incident", "maintenance"] },
            "incident_id": { "type": ["string", "null"] }, "name": { "type": "string" }, "status": { "type": "string" },
            "impact": { "type": "string" }, "components": { "type": "array", "items": { "type": "string" } },
            "created_at": time, "updated_at": time, "monitoring_at": time, "resolved_at": time,
            "scheduled_for": time, "scheduled_until": time,
            "updates": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "string" }, "status": { "type": "string" }, "body": { "type": "string" }, "created_at": time,
                "affected": { "type": "array", "items": { "type": "object" } } } } } } },
        "PageEntryList": { "type": "object", "properties": { "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/PageEntry" } } } },
        "PageMaintenanceList": { "type": "object", "properties": { "maintenances": { "type": "array", "items": { "$ref": "#/components/schemas/PageEntry" } } } },
        "PagePublish": { "type": "object", "additionalProperties": false, "properties": {
            "title": { "type": "string", "description": "public title; default a neutral text, never the internal title" },
            "status": incident_status.clone(), "message": { "type": "string" },
            "components": { "type": "object", "additionalProperties": component_status.clone() },
            "impact": { "type": "string", "enum": ["none", "minor", "major", "critical"] } } },
        "PageUpdateRequest": { "type": "object", "additionalProperties": false, "required": ["message"], "properties": {
            "status": incident_status.clone(), "message": { "type": "string" },
            "components": { "type": "object", "additionalProperties": component_status.clone() },
            "impact": { "type": "string", "enum": ["none", "minor", "major", "critical"] } } },
        "PageMaintenanceRequest": { "type": "object", "additionalProperties": false, "required": ["title", "scheduled_for", "scheduled_until"], "properties": {
            "title": { "type": "string" }, "components": { "type": "array", "items": { "type": "string" } },
            "scheduled_for": time, "scheduled_until": time, "message": { "type": "string" } } },
        "PageMaintenanceUpdate": { "type": "object", "additionalProperties": false, "required": ["status", "message"], "properties": {
            "status": { "type": "string", "enum": ["scheduled", "in_progress", "verifying", "completed"] }, "message": { "type": "string" } } }
    })
}

fn parameters(path: &str) -> Vec<Value> {
    let mut params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if path == "/api/v1/incidents" {
        for (name, description) in [
            ("status", "Comma-separated statuses, or `open`"),
            ("severity", "Comma-separated severity ids"),
            ("type", "Comma-separated incident types"),
            ("service", "Comma-separated services"),
            ("label", "key=value; repeatable, all must match"),
            (
                "q",
                "Free text in id, title, description, root cause, resolution",
            ),
            (
                "since",
                "Declared at or after: RFC 3339 time or a duration ago (24h)",
            ),
            ("until", "Declared before: RFC 3339 time or a duration ago"),
            ("limit", "Page size, 1-500 (default 50)"),
            ("cursor", "next_cursor of the previous page"),
        ] {
            params.push(json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } }));
        }
    }
    if path.ends_with("/tasks") {
        params.push(json!({ "name": "param", "in": "query", "required": false, "description": "name=value for command placeholders; repeatable", "schema": { "type": "string" } }));
    }
    let query = |params: &mut Vec<Value>, list: &[(&str, &str)]| {
        for (name, description) in list {
            params.push(json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } }));
        }
    };
    if path == "/api/v1/actions" {
        query(
            &mut params,
            &[
                ("owner", "Owned by this person"),
                ("overdue", "true: only open items past their due instant"),
                ("open", "true: only open or in-progress items"),
                ("incident", "Only this incident's items"),
                ("limit", "1-1000 (default 200)"),
            ],
        );
    }
    if path == "/api/v1/reports" {
        query(
            &mut params,
            &[
                (
                    "since",
                    "Incidents declared at or after: RFC 3339 time or a duration ago (default 90d)",
                ),
                ("by", "severity, service or type"),
                ("format", "json (default), md or csv"),
            ],
        );
    }
    if path == "/api/v1/incidents/{id}/evidence" {
        query(
            &mut params,
            &[
                ("file_name", "POST: the file's name (required)"),
                ("media_type", "POST: media type (else Content-Type)"),
                ("description", "POST: what it is"),
                (
                    "collected_from",
                    "POST: where it was collected (host, system)",
                ),
            ],
        );
    }
    if path == "/api/v1/indicators" {
        query(
            &mut params,
            &[
                ("value", "The indicator (required)"),
                (
                    "kind",
                    "ip, domain, url, hash, email or account; else every kind the value can be",
                ),
            ],
        );
    }
    if path == "/api/v1/audit" {
        query(
            &mut params,
            &[
                (
                    "since",
                    "At or after: RFC 3339 time or a duration ago (default 24h)",
                ),
                ("actor", "Only this actor"),
                ("action", "Only this action"),
                ("limit", "1-10000 (default 1000)"),
                ("verify", "true: also recompute the whole chain"),
            ],
        );
    }
    if path.ends_with("/export") {
        params.push(json!({ "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["md", "csv", "json"] } }));
    }
    params
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{} {}", route.method, route.path),
            "parameters": parameters(route.path),
            "responses": {
                route.status.to_string(): {
                    "description": "Success",
                    "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{}", route.response) } } }
                },
                "default": {
                    "description": "Error",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }
            }
        });
        match route.role {
            Some(role) => {
                op["security"] = json!([{ "bearer": [] }]);
                op["x-required-role"] = json!(role.as_str());
            }
            None if crate::routes::INTEGRATION_ROUTES.contains(&route.path) => {
                op["security"] = json!([{ "routingKey": [] }, { "routingKeyBasic": [] }]);
            }
            None => op["security"] = json!([]),
        }
        if let Some(body) = route.body {
            let media = if body == "EvidenceContent" {
                "application/octet-stream"
            } else {
                "application/json"
            };
            op["requestBody"] = json!({
                "required": true,
                "content": { media: { "schema": { "$ref": format!("#/components/schemas/{body}") } } }
            });
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Warroom API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incident response: declare, coordinate and record incidents. Roles: viewer < responder < commander < admin."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "routingKey": { "type": "http", "scheme": "bearer", "description": "an integration's routing key (webhook receivers)" },
                "routingKeyBasic": { "type": "http", "scheme": "basic", "description": "any user name, the routing key as password" }
            }
        }
    })
}
