//! The event-chain verifier (`warroom verify`). The input drives two things:
//!
//! 1. A chain built from the input (actors, times, note texts, labels) and stored as the
//!    store stores it: the verifier must accept it untouched, and must reject it after any one
//!    mutation that changes what it records (a field edited, an event removed from the middle,
//!    two events swapped, an event duplicated, a hash rewritten).
//! 2. The same bytes as raw stored rows: the verifier never panics on whatever a damaged or
//!    tampered database holds, and the event kinds read back from it round-trip.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use warroom_core::event::{GENESIS_HASH, StoredEvent, verify_chain};
use warroom_core::{Event, EventKind, IncidentId, NewEvent};

/// Reads the input a piece at a time; runs dry into zeros and empty strings.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.byte()))
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 24);
        let take = len.min(self.0.len());
        let (head, rest) = self.0.split_at(take);
        self.0 = rest;
        String::from_utf8_lossy(head).into_owned()
    }
}

fn stored(e: &Event) -> StoredEvent {
    let (kind, data) = e.kind.to_parts();
    StoredEvent {
        incident_id: e.incident_id.to_string(),
        seq: e.seq as i64,
        at_micros: e.at.as_microsecond(),
        actor: e.actor.clone(),
        kind: kind.to_string(),
        payload: data.to_string(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

fn build(input: &mut Input) -> Vec<StoredEvent> {
    let id: IncidentId = "INC-20261122-001".parse().expect("id");
    let count = 1 + usize::from(input.byte() % 8);
    let mut at: jiff::Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
    let mut prev = GENESIS_HASH.to_string();
    let mut out = Vec::new();
    for seq in 1..=count as u64 {
        at = at
            .checked_add(jiff::SignedDuration::from_micros(i64::from(input.byte())))
            .expect("in range");
        let kind = match input.byte() % 4 {
            0 => EventKind::NoteAdded { text: input.text() },
            1 => EventKind::Acknowledged {},
            2 => EventKind::LabelsChanged {
                set: BTreeMap::from([(input.text(), input.text())]),
                removed: vec![input.text()],
            },
            _ => EventKind::TitleChanged {
                from: input.text(),
                to: input.text(),
            },
        };
        let actor = input.text();
        let event = Event::seal(id.clone(), seq, NewEvent { at, actor, kind }, &prev);
        prev = event.hash.clone();
        out.push(stored(&event));
    }
    out
}

/// A different JSON value of the same shape: what an attacker editing the row would write.
fn altered(payload: &str, salt: u8) -> String {
    let mut value: serde_json::Value = serde_json::from_str(payload).expect("stored JSON");
    match &mut value {
        serde_json::Value::Object(map) => {
            map.insert(format!("x{salt}"), serde_json::Value::from(salt));
        }
        other => *other = serde_json::json!({ "x": salt }),
    }
    value.to_string()
}

fn mutate(chain: &mut Vec<StoredEvent>, input: &mut Input) {
    let n = chain.len();
    let i = usize::from(input.byte()) % n;
    let salt = input.byte();
    match input.byte() % 10 {
        0 => chain[i].actor.push(char::from(b'a' + salt % 26)),
        1 => chain[i].at_micros += 1 + i64::from(salt),
        2 => chain[i].kind.push('x'),
        3 => chain[i].payload = altered(&chain[i].payload, salt),
        4 => chain[i].incident_id = "INC-20261122-002".into(),
        5 => chain[i].seq += 1 + i64::from(salt),
        6 => chain[i].hash = format!("{:064x}", u64::from(salt) + 1),
        7 if n > 1 => {
            // Removing any event but the last: the chain has no anchor beyond its own
            // head, so a cut tail is the store's row counts' business, not the hashes'.
            chain.remove(i.min(n - 2));
        }
        8 if n > 1 => {
            let j = (i + 1 + usize::from(salt)) % n;
            let j = if j == i { (i + 1) % n } else { j };
            chain.swap(i, j);
        }
        _ => {
            let copy = chain[i].clone();
            chain.insert(i, copy);
        }
    }
}

fn raw_rows(input: &mut Input) -> Vec<StoredEvent> {
    let count = usize::from(input.byte() % 4);
    (0..count)
        .map(|_| StoredEvent {
            incident_id: input.text(),
            seq: input.u64() as i64,
            at_micros: input.u64() as i64,
            actor: input.text(),
            kind: input.text(),
            payload: input.text(),
            prev_hash: input.text(),
            hash: input.text(),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let chain = build(&mut input);
    if let Err(b) = verify_chain(&chain) {
        panic!("an untouched chain was rejected: {b:?}\n{chain:#?}");
    }
    let mut tampered = chain.clone();
    mutate(&mut tampered, &mut input);
    if tampered != chain {
        assert!(
            verify_chain(&tampered).is_err(),
            "a tampered chain was accepted:\n{tampered:#?}"
        );
    }

    let rows = raw_rows(&mut input);
    let _ = verify_chain(&rows);
    // The rest of the input as the data column of one row, so whole event bodies are explored.
    let kind = input.text();
    let payload = String::from_utf8_lossy(input.0).into_owned();
    let parts = rows
        .iter()
        .map(|r| (r.kind.as_str(), r.payload.as_str()))
        .chain([(kind.as_str(), payload.as_str())]);
    for (kind, payload) in parts {
        let Ok(data) = serde_json::from_str::<serde_json::Value>(payload) else {
            continue;
        };
        if let Ok(kind) = EventKind::from_parts(kind, data) {
            let (name, data) = kind.to_parts();
            let again = EventKind::from_parts(name, data.clone())
                .unwrap_or_else(|e| panic!("{name} {data} does not read back: {e}"));
            assert_eq!(again, kind);
            let _ = kind.describe();
        }
    }
});
