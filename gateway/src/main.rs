//! The `gateway` binary: reads its config from the environment and runs the service.

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

/// mimalloc gives freed memory back to the system: after a sign-up flood the
/// gateway shrinks again (BENCHMARKS.md has the figures with and without it).
/// The `system-allocator` feature leaves it out, for heap profilers.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // the allocator's settings first: this may start the binary again
    #[cfg(not(feature = "system-allocator"))]
    chat_gateway::allocator::settle();
    let config = chat_gateway::GatewayConfig::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.worker_threads {
        runtime.worker_threads(threads.into());
    }
    runtime
        .enable_all()
        .build()
        .context("cannot start the runtime")?
        .block_on(serve(config))
}

async fn serve(config: chat_gateway::GatewayConfig) -> anyhow::Result<()> {
    chat_core::telemetry::init("info,librdkafka=warn,rdkafka=warn");
    // crash points from FAILPOINTS, for fault tests only
    #[cfg(feature = "failpoints")]
    let _crash_points = fail::FailScenario::setup();
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let shutdown = CancellationToken::new();
    chat_core::shutdown::cancel_on_signal(shutdown.clone());
    chat_gateway::run(config, listener, shutdown).await?;
    Ok(())
}
