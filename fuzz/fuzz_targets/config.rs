//! The config loader: YAML text from an operator's file -> a validated config.
//! Properties: never panics; a config that loads renders to YAML that loads back to an equal
//! config (what `warroom config show` prints must be a config `serve` accepts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_core::config::{SourceFile, load};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = load(&[SourceFile::new("fuzz.yaml", text)]) else {
        return;
    };
    let shown = config.to_yaml();
    let again = load(&[SourceFile::new("shown.yaml", &shown)])
        .unwrap_or_else(|e| panic!("the effective config does not load back: {e}\n{shown}"));
    assert!(
        again == config,
        "the effective config changed on reload:\n{shown}"
    );
});
