//! `warroom serve`: validate the config here, where problems can be listed per file, then hand
//! over to `warroom_server::serve`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use tracing_subscriber::EnvFilter;
use warroom_core::alert::grafana::SignatureConfig;
use warroom_server::ratelimit::{LockoutPolicy, Rate};
use warroom_server::{
    DeliveryOptions, LimitOptions, SecurityOptions, ServeOptions, SmtpSettings, TlsFiles,
};

use crate::args::ServeArgs;
use crate::config_files::load_config;

pub async fn run(args: ServeArgs, data_dir: PathBuf) -> Result<()> {
    let config = load_config(args.config.as_deref())?;
    let security = security_options(&args)?;
    let database_url = secret_option(
        args.database_url,
        args.database_url_file.as_deref(),
        "database-url",
    )?;
    let smtp_url = secret_option(args.smtp_url, args.smtp_url_file.as_deref(), "smtp-url")?;
    let grafana_secret = secret_option(
        args.grafana_secret,
        args.grafana_secret_file.as_deref(),
        "grafana-secret",
    )?;
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
        database_url,
        config,
        demo: args.demo,
        engine: !args.no_engine,
        grafana_signature: grafana_secret.map(|secret| SignatureConfig {
            header: args.grafana_signature_header,
            timestamp_header: args.grafana_timestamp_header,
            ..SignatureConfig::new(secret)
        }),
        metrics_public: args.metrics_public,
        // Browsers reach the server over HTTPS when it serves TLS itself or sits behind a TLS
        // proxy: session cookies must then never travel in the clear.
        secure_cookies: args.secure_cookies || args.tls_cert.is_some() || args.behind_tls_proxy,
    };
    let delivery = DeliveryOptions {
        smtp: smtp_url.map(|url| SmtpSettings {
            url,
            from: args.smtp_from,
        }),
        ..DeliveryOptions::default()
    };
    warroom_server::serve(options, security, delivery).await?;
    Ok(())
}

/// A secret given directly (flag or environment) or as `--NAME-file`: the file's contents
/// without the trailing newline editors add. The error names the file, never the contents.
fn secret_option(
    direct: Option<String>,
    file: Option<&std::path::Path>,
    name: &str,
) -> Result<Option<String>> {
    let Some(path) = file else {
        return Ok(direct);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--{name}-file {}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.trim().is_empty() {
        anyhow::bail!("--{name}-file {}: the file is empty", path.display());
    }
    Ok(Some(secret.to_string()))
}

fn security_options(args: &ServeArgs) -> Result<SecurityOptions> {
    let rate = |name: &str, per_second: f64, burst: u32| -> Result<Rate> {
        if !per_second.is_finite() || per_second < 0.0 {
            anyhow::bail!("--{name}: must be 0 (no limit) or a positive number, not {per_second}");
        }
        Ok(Rate { per_second, burst })
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    let ingest = rate(
        "ingest-rate-limit-per-second",
        args.ingest_rate_limit_per_second,
        args.ingest_rate_limit_burst,
    )?;
    Ok(SecurityOptions {
        tls,
        behind_tls_proxy: args.behind_tls_proxy,
        trust_forwarded_for: args.trust_forwarded_for,
        evidence_max_bytes: args.evidence_max_bytes,
        limits: LimitOptions {
            api_per_token: rate(
                "rate-limit-per-second",
                args.rate_limit_per_second,
                args.rate_limit_burst,
            )?,
            api_per_source: rate(
                "source-rate-limit-per-second",
                args.source_rate_limit_per_second,
                args.source_rate_limit_burst,
            )?,
            // One pair of flags for both: a sender is usually one key from one address.
            ingest_per_key: ingest,
            ingest_per_source: ingest,
            lockout: LockoutPolicy {
                max_failures: args.auth_lockout_failures,
                window_secs: args.auth_lockout_seconds,
                lockout_secs: args.auth_lockout_seconds,
            },
        },
    })
}
