//! The generic JSON event (`/api/v1/events`). Properties: never panics; a refusal names a
//! field or says the body is unreadable; an accepted event keeps the limits and survives the
//! queue's JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_core::alert::generic::parse_event;
use warroom_core::alert::{Action, AlertEvent, MAX_DEDUP_KEY_CHARS, MAX_SUMMARY_CHARS};

fuzz_target!(|data: &[u8]| {
    match parse_event(data) {
        Ok(event) => {
            assert!(event.summary.chars().count() <= MAX_SUMMARY_CHARS);
            if let Some(key) = &event.dedup_key {
                assert!(key.chars().count() <= MAX_DEDUP_KEY_CHARS);
            }
            if event.action == Action::Trigger {
                assert!(
                    !event.summary.trim().is_empty(),
                    "a trigger without a summary"
                );
            }
            let text = serde_json::to_string(&event).expect("an event serialises");
            let back: AlertEvent = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("an accepted event does not read back: {e}\n{text}"));
            assert_eq!(back, event, "{text}");
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});
