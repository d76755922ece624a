//! The `warroom` binary: `warroom serve` and the command-line client of the HTTP API.
//!
//! This crate owns the command line only: parsing arguments, finding the server and a token,
//! reading config files from disk for `config check`/`serve`, and printing answers for people
//! (tables, one-line summaries) or scripts (`--json`). Incident rules live in `warroom-core`,
//! storage in `warroom-store`, and the HTTP API in `warroom-server`; the client talks to the
//! server only through the documented API (docs/API.md).
//!
//! Every failure ends as one `error: ...` line on stderr and exit code 1 (2 for usage errors),
//! except an invalid config, which lists each problem as `file:line:col: message`.

mod args;
mod client;
mod commands;
mod config_files;
mod input;
mod output;

use std::io;
use std::process::ExitCode;

use clap::Parser;
use warroom_core::config::ConfigError;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    // reqwest is built without a TLS provider of its own; ring is the one the workspace uses.
    // An Err only means one is installed already, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return report(&anyhow::Error::new(err).context("cannot start the runtime")),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

fn report(err: &anyhow::Error) -> ExitCode {
    // The reader went away (`warroom list | head`): nothing left to say to anyone.
    if let Some(io) = err.downcast_ref::<io::Error>()
        && io.kind() == io::ErrorKind::BrokenPipe
    {
        return ExitCode::SUCCESS;
    }
    if let Some(config) = err.downcast_ref::<ConfigError>() {
        eprintln!("{config}");
        return ExitCode::FAILURE;
    }
    eprintln!("error: {}", one_line(&format!("{err:#}")));
    ExitCode::FAILURE
}

/// Scripts count on a single stderr line per failure, whatever the server's message holds.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_fit_on_one_line() {
        assert_eq!(one_line("a\n  b\r\nc"), "a b c");
    }
}
