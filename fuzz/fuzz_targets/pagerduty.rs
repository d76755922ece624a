//! PagerDuty Events API v2 bodies (`/v2/enqueue`) and change events (`/v2/change/enqueue`).
//! Properties: never panics; an accepted event keeps the documented limits (summary, dedup
//! key), has its routing key, and survives the JSON round trip the ingestion queue puts it
//! through unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_core::alert::pagerduty::{parse_change_event, parse_event};
use warroom_core::alert::{Action, AlertEvent, MAX_DEDUP_KEY_CHARS, MAX_SUMMARY_CHARS};

fuzz_target!(|data: &[u8]| {
    match parse_event(data) {
        Ok(event) => {
            assert!(event.routing_key.as_deref().is_some_and(|k| !k.is_empty()));
            assert!(event.summary.chars().count() <= MAX_SUMMARY_CHARS);
            if let Some(key) = &event.dedup_key {
                assert!(key.chars().count() <= MAX_DEDUP_KEY_CHARS);
            }
            if event.action != Action::Trigger {
                assert!(
                    event.dedup_key.is_some(),
                    "acknowledge/resolve without a dedup key"
                );
            }
            let text = serde_json::to_string(&event).expect("an event serialises");
            let back: AlertEvent = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("an accepted event does not read back: {e}\n{text}"));
            assert_eq!(back, event, "{text}");
        }
        Err(invalid) => assert!(!invalid.errors.is_empty(), "refused without a reason"),
    }
    match parse_change_event(data) {
        Ok(change) => {
            assert!(!change.routing_key.is_empty());
            assert!(change.summary.chars().count() <= MAX_SUMMARY_CHARS);
            let text = serde_json::to_string(&change).expect("a change serialises");
            let back: warroom_core::alert::pagerduty::ChangeEvent = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("an accepted change does not read back: {e}\n{text}"));
            assert_eq!(back, change, "{text}");
        }
        Err(invalid) => assert!(!invalid.errors.is_empty(), "refused without a reason"),
    }
});
