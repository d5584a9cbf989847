//! One module per subcommand.

pub mod apikey;
pub mod attest;
pub mod audit;
pub mod auditor;
pub mod billing;
pub mod circuit;
pub mod commit;
pub mod evidence;
pub mod export;
pub mod keys;
pub mod load;
pub mod pilot;
pub mod policy;
pub mod prove;
pub mod receipt;
pub mod serve;
pub mod setup;
pub mod store;
pub mod supply_chain;
pub mod verify;
pub mod verify_batch;

/// Parses a tier capacity for clap, with the library's range check.
pub fn parse_tier(text: &str) -> Result<zktx_circuits::Tier, String> {
    let capacity: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))?;
    zktx_circuits::Tier::new(capacity).map_err(|e| e.to_string())
}

/// Runs `future` on a multi-threaded tokio runtime whose threads are named `thread_name`.
pub fn block_on<F: std::future::Future>(thread_name: &str, future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    Ok(runtime.block_on(future))
}

/// Runs `future` on a current-thread tokio runtime: a load generator's calls,
/// timers and I/O then share one thread and wake no other, which keeps its
/// CPU per call small beside the server it drives. Blocking work belongs
/// before it (a current-thread runtime has no `block_in_place`).
pub fn block_on_current_thread<F: std::future::Future>(
    thread_name: &str,
    future: F,
) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    Ok(runtime.block_on(future))
}
