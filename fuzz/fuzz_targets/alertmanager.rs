//! Alertmanager webhook bodies. Properties: never panics; a body that parses re-serialises to
//! a body that parses to the same webhook; every event it yields keeps the summary limit and
//! survives the queue's JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_core::alert::alertmanager::Webhook;
use warroom_core::alert::{AlertEvent, MAX_SUMMARY_CHARS};

fuzz_target!(|data: &[u8]| {
    let Ok(hook) = Webhook::parse(data) else {
        return;
    };
    let text = serde_json::to_vec(&hook).expect("a webhook serialises");
    let again = Webhook::parse(&text).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&text));
    });
    assert_eq!(again, hook);
    let events = hook.events();
    assert_eq!(events.len(), hook.alerts.len());
    for event in events {
        assert!(event.summary.chars().count() <= MAX_SUMMARY_CHARS);
        let text = serde_json::to_string(&event).expect("an event serialises");
        let back: AlertEvent = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("an event does not read back: {e}\n{text}"));
        assert_eq!(back, event, "{text}");
    }
});
