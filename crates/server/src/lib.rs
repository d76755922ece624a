//! Warroom's HTTP server: the JSON API under `/api/v1`, bearer-token auth, and the wiring
//! that opens the store, makes the first admin token and serves.
//!
//! Handlers are thin: they authenticate, parse, call `warroom-core` to decide, and call the
//! store to commit. A 2xx is only sent after the store's transaction committed.

#![recursion_limit = "512"] // the OpenAPI schemas are one large json! literal

pub mod audit;
pub mod auth;
mod demo;
pub mod error;
pub mod ingest;
pub mod json;
pub mod openapi;
pub mod passwords;
pub mod ratelimit;
pub mod routes;
pub mod security;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod ui;
pub mod vault;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use warroom_core::{Clock, Config, Role};
use warroom_engine::Engine;
use warroom_store::{Backend, Store, StoreError, redact_url};

pub use security::{LimitOptions, SecurityOptions};
pub use state::AppState;
pub use tls::TlsFiles;
pub use warroom_engine::{DeliveryOptions, SmtpSettings};

/// What `warroom serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Directory for the SQLite file and `admin.token`.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: SQLite file in the data directory.
    pub database_url: Option<String>,
    /// Effective configuration.
    pub config: Config,
    /// Seed a realistic demo incident when the database has none.
    pub demo: bool,
    /// Run the timer engine in this process (off for API-only replicas and for tests that
    /// tick it by hand).
    pub engine: bool,
    /// Check Grafana webhook signatures with this secret and header.
    pub grafana_signature: Option<warroom_core::alert::grafana::SignatureConfig>,
    /// Serve `/metrics` without a token (for scrapers on a trusted network).
    pub metrics_public: bool,
    /// Mark web UI cookies `Secure`: set it when browsers reach the server over HTTPS (a TLS
    /// proxy in front); the server itself speaks plain HTTP.
    pub secure_cookies: bool,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory or the token file could not be written.
    #[error("{path}: {source}")]
    DataDir {
        /// The path involved.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The notification channels could not be set up (a bad SMTP URL or sender).
    #[error("notifications: {0}")]
    Delivery(#[from] warroom_engine::ChannelError),
    /// The database could not be opened or migrated.
    #[error("database {url}: {source}")]
    Store {
        /// Redacted database URL.
        url: String,
        /// What went wrong.
        source: StoreError,
    },
    /// Seeding the demo failed.
    #[error("seeding the demo: {0}")]
    Demo(String),
    /// TLS could not be set up from the given files.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Plain HTTP beyond this machine without a TLS proxy.
    #[error(transparent)]
    Cleartext(#[from] security::CleartextRefused),
    /// The engine's thread could not be started.
    #[error("starting the engine: {0}")]
    Engine(std::io::Error),
    /// The listen address is unusable.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// A server running in the background (for `serve` and for tests).
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The admin token, when this start created it.
    pub created_admin_token: Option<String>,
    /// The timer engine this server runs (tests tick it by hand after moving the clock).
    pub engine: Engine,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    engine_shutdown: tokio::sync::oneshot::Sender<()>,
    engine_task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests and the engine's current tick, and waits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.engine_shutdown.send(());
        let _ = self.task.await;
        let _ = self.engine_task.await;
    }
}

/// Runs the engine on a thread and runtime of its own; the task ends when the engine has.
///
/// On SQLite the linking pass's transactions hold the database's only write lock, which
/// ingestion batches wait for. Each of their statements is a hand-off between the runtime and
/// sqlx's connection thread, and on the server's runtime every hand-off back queued behind the
/// request handlers of an alert storm, lock held (see PERFORMANCE.md).
fn engine_thread(
    engine: Engine,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<tokio::task::JoinHandle<()>, ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Engine)?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("warroom-engine".into())
        .spawn(move || {
            runtime.block_on(engine.run(Duration::from_secs(1), async {
                let _ = stop.await;
            }));
            let _ = done_tx.send(());
        })
        .map_err(ServeError::Engine)?;
    Ok(tokio::spawn(async move {
        let _ = done_rx.await;
    }))
}

/// The router with all middleware, for a given state.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
        .layer(axum::middleware::from_fn(time_limit))
        // A bug in one handler answers 500 in the usual JSON shape instead of dropping the
        // connection; the panic itself is logged.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Only the public status page sets its own (short, public) caching; everything else
        // is private to its caller and never stored.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// How long a request may take to be answered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers 503 to a request not answered within [`REQUEST_TIMEOUT`], except evidence uploads,
/// whose handler reads the whole body before answering (a large file over a slow link takes
/// as long as it takes; the vault abandons an upload that stalls instead), and evidence
/// verification, which re-reads every blob of an incident.
async fn time_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let long = req.method() == axum::http::Method::POST
        && (path.ends_with("/evidence") || path.ends_with("/evidence/verify"));
    if long {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => axum::response::IntoResponse::into_response(StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// The request's span names the method and the path only: the query string can carry a
/// secret (calendar apps send their token as `?token=`), and secrets are never logged.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
}

fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let text = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    axum::response::IntoResponse::into_response(error::ApiError::internal(&format!(
        "handler panicked: {text}"
    )))
}

/// Opens the store named by the options (default: SQLite in the data directory).
pub async fn open_store(options: &ServeOptions) -> Result<Arc<dyn Store>, ServeError> {
    create_private_dir(&options.data_dir)?;
    let url = match &options.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", options.data_dir.join("warroom.db").display()),
    };
    tracing::info!(database = %redact_url(&url), "opening database");
    warroom_store::open(&url)
        .await
        .map_err(|source| ServeError::Store {
            url: redact_url(&url),
            source,
        })
}

fn create_private_dir(dir: &Path) -> Result<(), ServeError> {
    let err = |source| ServeError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// On first start (no live token) creates an admin token and writes it to
/// `DATA_DIR/admin.token`, readable by the owner only. Returns the secret when it did.
pub async fn bootstrap_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    data_dir: &Path,
) -> Result<Option<String>, ServeError> {
    let store_err = |source| ServeError::Store {
        url: "(tokens)".into(),
        source,
    };
    if store.live_token_count().await.map_err(store_err)? > 0 {
        return Ok(None);
    }
    let minted = auth::mint("admin", Role::Admin, false, "warroom", clock.now());
    let path = data_dir.join("admin.token");
    write_secret_file(&path, &minted.secret).map_err(|source| ServeError::DataDir {
        path: path.clone(),
        source,
    })?;
    // On the record like every other token: who made it (the server itself) and where its
    // secret went.
    let audit = warroom_core::audit::NewAuditEntry {
        at: clock.now(),
        actor: "warroom".into(),
        action: warroom_core::audit::AuditAction::CredentialChange,
        target: format!(
            "{} created (first admin token, {})",
            minted.record.id,
            path.display()
        ),
        source: "local".into(),
        outcome: "ok".into(),
    };
    store
        .create_token(minted.record, Some(audit))
        .await
        .map_err(store_err)?;
    Ok(Some(minted.secret))
}

fn write_secret_file(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its old mode on open; tighten it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Opens everything and starts serving in the background, with default delivery options (no
/// SMTP server).
pub async fn start(options: ServeOptions, clock: Arc<dyn Clock>) -> Result<Running, ServeError> {
    start_with(options, clock, DeliveryOptions::default()).await
}

/// [`start`] with the given notification delivery options.
pub async fn start_with(
    options: ServeOptions,
    clock: Arc<dyn Clock>,
    delivery: DeliveryOptions,
) -> Result<Running, ServeError> {
    start_secure(options, SecurityOptions::default(), clock, delivery).await
}

/// [`start_with`] with TLS, the listen guard and rate limits.
pub async fn start_secure(
    options: ServeOptions,
    security: SecurityOptions,
    clock: Arc<dyn Clock>,
    delivery: DeliveryOptions,
) -> Result<Running, ServeError> {
    // Bad certificate files fail before anything is opened or written.
    let tls_config = security.tls.as_ref().map(TlsFiles::load).transpose()?;
    // So is listening in the clear where it is refused: before the database is touched.
    let listener =
        TcpListener::bind(&options.listen)
            .await
            .map_err(|source| ServeError::Listen {
                addr: options.listen.clone(),
                source,
            })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: options.listen.clone(),
        source,
    })?;
    security::check_cleartext(addr, &security)?;
    let store = open_store(&options).await?;
    // Pages and sent messages are written to the outbox in the same transaction as the
    // `paged` and `update_posted` events that cause them.
    let paging = Arc::new(options.config.clone());
    store.set_notifier(Arc::new(move |incident, events| {
        warroom_core::outbox::event_messages(&paging, incident, events)
    }));
    let created_admin_token = bootstrap_admin(&*store, &*clock, &options.data_dir).await?;
    // Every configured component gets a row, so its creation time (in the JSON) is stable.
    let component_ids: Vec<String> = options
        .config
        .status_page
        .components
        .iter()
        .map(|c| c.id.clone())
        .collect();
    store
        .sync_components(&component_ids, clock.now())
        .await
        .map_err(|source| ServeError::Store {
            url: "(status page)".into(),
            source,
        })?;
    let config = Arc::new(options.config.clone());
    if options.demo {
        demo::seed(&*store, &config, &*clock)
            .await
            .map_err(ServeError::Demo)?;
    }
    let engine = Engine::with_delivery(store.clone(), config.clone(), clock.clone(), delivery)?;
    let (engine_tx, engine_rx) = tokio::sync::oneshot::channel::<()>();
    let engine_task = if !options.engine {
        tokio::spawn(async {})
    } else if store.backend() == Backend::Sqlite {
        engine_thread(engine.clone(), engine_rx)?
    } else {
        let background = engine.clone();
        tokio::spawn(async move {
            background
                .run(Duration::from_secs(1), async {
                    let _ = engine_rx.await;
                })
                .await;
        })
    };
    let mut state = state::Shared::new(
        store,
        config,
        clock,
        engine.clone(),
        options.grafana_signature.clone(),
    );
    state.metrics_public = options.metrics_public;
    state.secure_cookies = options.secure_cookies;
    state.guards = Arc::new(security::Guards::new(&security));
    state.vault = Arc::new(vault::Vault::new(
        options.data_dir.join("evidence"),
        security.evidence_max_bytes,
    ));
    let state = AppState::from(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let closing = state.closing.clone();
    let shutdown = async move {
        let _ = rx.await;
        // Event streams never finish on their own; tell them to.
        closing.send_replace(true);
    };
    // The peer address reaches handlers as `ConnectInfo<SocketAddr>` for the per-address
    // limits, over TLS as in the clear.
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let task = match tls_config {
        Some(config) => {
            let listener =
                tls::TlsListener::new(listener, config).map_err(|source| ServeError::Listen {
                    addr: options.listen.clone(),
                    source,
                })?;
            let listener = axum::serve::ListenerExt::tap_io(listener, |_| {});
            tokio::spawn(async move {
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }),
    };
    Ok(Running {
        addr,
        created_admin_token,
        engine,
        shutdown: tx,
        task,
        engine_shutdown: engine_tx,
        engine_task,
    })
}

/// `warroom serve`: starts, says where the admin token is, and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    options: ServeOptions,
    security: SecurityOptions,
    delivery: DeliveryOptions,
) -> Result<(), ServeError> {
    let token_path = options.data_dir.join("admin.token");
    let scheme = if security.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let running = start_secure(
        options,
        security,
        Arc::new(warroom_core::SystemClock),
        delivery,
    )
    .await?;
    if running.created_admin_token.is_some() {
        tracing::info!(path = %token_path.display(), "created the first admin token; the CLI reads it from there on this machine");
    }
    tracing::info!(address = %running.addr, "Warroom is listening on {scheme}://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
