//! What every handler shares.

use std::sync::Arc;

use warroom_core::{Clock, Config};
use warroom_store::Store;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Effective configuration, fixed for the life of the process.
    pub config: Arc<Config>,
    /// The only source of "now".
    pub clock: Arc<dyn Clock>,
}
