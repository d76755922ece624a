//! `warroom config check` and `warroom config show`: local, no server needed.

use anyhow::Result;

use crate::args::ConfigCommand;
use crate::config_files::{load_config, render, summary};
use crate::output::emit;

pub fn run(cmd: ConfigCommand, json: bool) -> Result<()> {
    match cmd {
        ConfigCommand::Check { dir, config } => {
            let config = load_config(dir.or(config).as_deref())?;
            emit(&summary(&config))
        }
        ConfigCommand::Show { config } => {
            let config = load_config(config.as_deref())?;
            emit(&render(&config, json)?)
        }
    }
}
