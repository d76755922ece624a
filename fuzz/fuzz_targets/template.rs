//! Message template rendering with a hostile template and a hostile incident. The input is up
//! to five parts split on NUL: subject template, body template, then the incident's title,
//! description and a note as any responder could type them.
//! Properties: never panics, never hangs (fuel), and a draft never exceeds the output limit;
//! the incident's own text is data, never template code.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use warroom_core::comms::context;
use warroom_core::comms::template::{MAX_OUTPUT_BYTES, MessageTemplate};
use warroom_core::event::{Declared, GENESIS_HASH};
use warroom_core::{Config, Event, EventKind, Incident, NewEvent};

fn config() -> &'static Config {
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    CONFIG.get_or_init(Config::builtin)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let subject = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let title = parts.next().unwrap_or("{{ incident.title }}");
    let description = parts
        .next()
        .unwrap_or("{% for i in range(10) %}x{% endfor %}");
    let note = parts.next().unwrap_or("{{ 'x' * 1000 }}");

    let at: jiff::Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
    let id: warroom_core::IncidentId = "INC-20261122-001".parse().expect("id");
    let kinds = [
        EventKind::Declared(Declared {
            title: title.to_string(),
            description: Some(description.to_string()),
            incident_type: "security".into(),
            severity: "P1".into(),
            services: vec![title.to_string()],
            labels: BTreeMap::from([(note.to_string(), title.to_string())]),
            restricted: false,
            impact: None,
            links: None,
        }),
        EventKind::NoteAdded {
            text: note.to_string(),
        },
        EventKind::RoleAssigned {
            role: "incident-commander".into(),
            person: title.to_string(),
            replaced: None,
        },
    ];
    let mut events: Vec<Event> = Vec::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let prev = events
            .last()
            .map_or(GENESIS_HASH, |e| e.hash.as_str())
            .to_string();
        let new = NewEvent {
            at,
            actor: title.to_string(),
            kind,
        };
        events.push(Event::seal(id.clone(), i as u64 + 1, new, &prev));
    }
    let incident = Incident::fold(&events)
        .expect("a declared incident folds")
        .expect("an incident");
    let ctx = context::full(&incident, &events, config(), at);

    let template = MessageTemplate {
        id: "fuzz".into(),
        name: "Fuzz".into(),
        audience: "internal".into(),
        description: String::new(),
        subject: subject.to_string(),
        body: body.to_string(),
    };
    let _ = template.check_syntax();
    if let Ok(draft) = template.render(&ctx) {
        assert!(
            draft.subject.len() <= MAX_OUTPUT_BYTES,
            "subject of {} bytes",
            draft.subject.len()
        );
        assert!(
            draft.body.len() <= MAX_OUTPUT_BYTES + 1,
            "body of {} bytes",
            draft.body.len()
        );
        // Hostile incident text is printed, never evaluated: a template that only prints the
        // title gives the title back as it was typed.
        if subject == "{{ incident.title }}" {
            let expected = title.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(draft.subject, expected);
        }
    }
});
