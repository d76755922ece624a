//! What every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use warroom_core::alert::grafana::SignatureConfig;
use warroom_core::{Clock, Config};
use warroom_store::{KeyedIntegration, Store};

/// Shared application state: one reference-counted pointer, since axum clones the state for
/// every extractor and middleware layer of every request (cloning a dozen `Arc`s each time
/// showed in ingestion profiles).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl From<Shared> for AppState {
    fn from(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Effective configuration, fixed for the life of the process.
    pub config: Arc<Config>,
    /// The only source of "now".
    pub clock: Arc<dyn Clock>,
    /// Group commit for alert events.
    pub ingest: crate::ingest::Ingestor,
    /// Integrations by routing-key hash, so events do not read the key table each time.
    pub integrations: IntegrationCache,
    /// Grafana webhook signature check, when configured.
    pub grafana_signature: Option<Arc<SignatureConfig>>,
    /// The engine, to wake it when alerts need linking.
    pub engine: warroom_engine::Engine,
    /// Request durations for `/metrics`.
    pub http: Arc<crate::telemetry::HttpMetrics>,
    /// `/metrics` answers without a token (`serve --metrics-public`).
    pub metrics_public: bool,
    /// Web UI cookies carry `Secure` (`serve --secure-cookies`, behind a TLS proxy).
    pub secure_cookies: bool,
    /// Turns true when the server starts shutting down, so endless responses (the UI's event
    /// streams) end and graceful shutdown does not wait for browsers to close them.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Rate limits and the authentication lockout (none unless `serve` sets them).
    pub guards: Arc<crate::security::Guards>,
    /// Evidence content on disk (`DATA_DIR/evidence`) and the upload limit.
    pub vault: Arc<crate::vault::Vault>,
    /// When each token's use was last written to the audit log.
    pub token_uses: Arc<crate::audit::TokenUses>,
}

impl Shared {
    /// The state of a server over `store`, starting its ingestion writer (inside a Tokio
    /// runtime); `engine` is woken when alerts need linking.
    pub fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        clock: Arc<dyn Clock>,
        engine: warroom_engine::Engine,
        grafana_signature: Option<SignatureConfig>,
    ) -> Self {
        let nudge = engine.clone();
        let ingest =
            crate::ingest::Ingestor::start(store.clone(), Arc::new(move || nudge.nudge_alerts()));
        Self {
            store,
            config,
            clock,
            ingest,
            integrations: IntegrationCache::default(),
            grafana_signature: grafana_signature.map(Arc::new),
            engine,
            http: Arc::default(),
            metrics_public: false,
            secure_cookies: false,
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            guards: Arc::default(),
            // `start` puts the vault in the data directory; this default only serves states
            // built by hand (tests that never upload).
            vault: Arc::new(crate::vault::Vault::new(
                std::env::temp_dir().join("warroom-evidence"),
                crate::vault::DEFAULT_MAX_BYTES,
            )),
            token_uses: Arc::default(),
        }
    }

    /// Wakes the engine to link or settle alerts now.
    pub fn nudge_alerts(&self) {
        self.engine.nudge_alerts();
    }
}

/// How long a cached routing key is trusted before the store is asked again: the bound on how
/// long another server process sharing the database keeps accepting a key revoked or rotated
/// out there (this process drops its entries at once).
pub const INTEGRATION_CACHE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// Integrations found by routing-key hash, each with when it was read, so events do not read
/// the key table each time.
#[derive(Clone, Default)]
pub struct IntegrationCache(Arc<RwLock<HashMap<String, (KeyedIntegration, Timestamp)>>>);

impl IntegrationCache {
    /// The integration for `key_hash`, if it was read less than [`INTEGRATION_CACHE_TTL`]
    /// before `now`.
    pub fn get(&self, key_hash: &str, now: Timestamp) -> Option<KeyedIntegration> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        let (found, read_at) = map.get(key_hash)?;
        (now.duration_since(*read_at) < INTEGRATION_CACHE_TTL).then(|| found.clone())
    }

    /// Remembers an integration read at `now`.
    pub fn put(&self, key_hash: String, integration: KeyedIntegration, now: Timestamp) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key_hash, (integration, now));
    }

    /// Forgets every key of integration `id` (after it was rotated or revoked here).
    pub fn forget(&self, id: &str) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (found, _)| found.integration.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warroom_store::Integration;

    fn keyed(id: &str) -> KeyedIntegration {
        KeyedIntegration {
            integration: Integration {
                id: id.into(),
                name: id.into(),
                service: "api".into(),
                created_at: Timestamp::UNIX_EPOCH,
                created_by: "admin".into(),
                revoked_at: None,
                rotated_at: None,
                previous_key_until: None,
            },
            previous_key: false,
        }
    }

    #[test]
    fn cached_keys_expire_and_are_forgotten_by_integration() {
        let cache = IntegrationCache::default();
        let t0 = Timestamp::UNIX_EPOCH;
        cache.put("h1".into(), keyed("int_a"), t0);
        cache.put("h2".into(), keyed("int_a"), t0);
        cache.put("h3".into(), keyed("int_b"), t0);
        let just_before = t0 + INTEGRATION_CACHE_TTL - jiff::SignedDuration::from_millis(1);
        assert!(cache.get("h1", just_before).is_some());
        assert!(cache.get("h1", t0 + INTEGRATION_CACHE_TTL).is_none());
        cache.forget("int_a");
        assert!(cache.get("h1", t0).is_none());
        assert!(cache.get("h2", t0).is_none());
        assert_eq!(
            cache.get("h3", t0).map(|k| k.integration.id),
            Some("int_b".into())
        );
    }
}
