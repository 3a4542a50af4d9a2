//! The `bot` binary: reads its config from the environment and runs the service.

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    chat_core::telemetry::init("info,librdkafka=warn,rdkafka=warn");
    let config = chat_bot::BotConfig::parse();
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http_addr))?;
    let shutdown = CancellationToken::new();
    chat_core::shutdown::cancel_on_signal(shutdown.clone());
    chat_bot::run(config, listener, shutdown).await?;
    Ok(())
}
