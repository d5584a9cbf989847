//! `zktx apikey new`: a fresh API key and the hash a server configuration holds.

use zktx_server::tenants::{hash_api_key, new_api_key};

/// `zktx apikey` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Print a new random API key and its SHA-256 (only the hash goes in the config).
    #[command(after_help = "\
Example:
  zktx apikey new --tenant acme --plan pro     # prints the key and a [[tenants]] block

Give the key to the tenant over a secure channel; paste the [[tenants]] block into the server's
configuration file. The server stores and compares only the SHA-256.")]
    New {
        /// The tenant id to put in the printed configuration snippet.
        #[arg(long, default_value = "acme")]
        tenant: String,
        /// The plan to put in the snippet.
        #[arg(long, default_value = "starter")]
        plan: String,
    },
}

/// Runs `zktx apikey`.
pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::New { tenant, plan } = command;
    let key = new_api_key();
    println!("API key (give it to the tenant; it is not stored anywhere): {key}");
    println!();
    println!(
        "[[tenants]]\nid = \"{tenant}\"\nplan = \"{plan}\"\napi_key_sha256 = [\"{}\"]",
        hex::encode(hash_api_key(&key))
    );
    Ok(())
}
