//! What every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use warroom_core::alert::grafana::SignatureConfig;
use warroom_core::{Clock, Config};
use warroom_store::{Integration, Store};

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
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

impl AppState {
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

/// Live integrations seen so far, by the SHA-256 of their routing key. Revocation is not
/// offered yet, so a cached integration never goes stale.
#[derive(Clone, Default)]
pub struct IntegrationCache(Arc<RwLock<HashMap<String, Integration>>>);

impl IntegrationCache {
    /// The integration for `key_hash`, if cached.
    pub fn get(&self, key_hash: &str) -> Option<Integration> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_hash)
            .cloned()
    }

    /// Remembers an integration.
    pub fn put(&self, key_hash: String, integration: Integration) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key_hash, integration);
    }
}
