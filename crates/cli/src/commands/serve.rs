//! `warroom serve`: validate the config here, where problems can be listed per file, then hand
//! over to `warroom_server::serve`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Result;
use tracing_subscriber::EnvFilter;
use warroom_core::alert::grafana::SignatureConfig;
use warroom_server::{DeliveryOptions, ServeOptions, SmtpSettings};

use crate::args::ServeArgs;
use crate::config_files::load_config;

pub async fn run(args: ServeArgs, data_dir: PathBuf) -> Result<()> {
    let config = load_config(args.config.as_deref())?;
    // Only the server logs; client commands keep stderr for their one error line.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only help a terminal; in a log file or journal they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let options = ServeOptions {
        listen: args.listen,
        data_dir,
        database_url: args.database_url,
        config,
        demo: args.demo,
        engine: !args.no_engine,
        grafana_signature: args.grafana_secret.map(|secret| SignatureConfig {
            header: args.grafana_signature_header,
            timestamp_header: args.grafana_timestamp_header,
            ..SignatureConfig::new(secret)
        }),
        metrics_public: args.metrics_public,
        secure_cookies: args.secure_cookies,
    };
    let delivery = DeliveryOptions {
        smtp: args.smtp_url.map(|url| SmtpSettings {
            url,
            from: args.smtp_from,
        }),
        ..DeliveryOptions::default()
    };
    warroom_server::serve(options, delivery).await?;
    Ok(())
}
