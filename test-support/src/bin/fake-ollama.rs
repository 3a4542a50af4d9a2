//! The fake Ollama server (`test_support::FakeOllama`) as a process, for the
//! browser tests (`scripts/e2e.sh`): every chat request gets the same reply,
//! streamed in small chunks so that a browser sees it being written.
//!
//! Settings: `FAKE_OLLAMA_ADDR` (default `127.0.0.1:11434`), `FAKE_OLLAMA_MODEL`
//! (`tiny:latest`), `FAKE_OLLAMA_REPLY` (a fixed sentence), `FAKE_OLLAMA_GAP_MS`
//! (milliseconds between chunks, 120). Serves until it is killed.

use std::net::SocketAddr;
use std::time::Duration;

use test_support::{FakeOllama, Script};

#[tokio::main]
async fn main() {
    let addr: SocketAddr = std::env::var("FAKE_OLLAMA_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:11434".into())
        .parse()
        .unwrap_or_else(|e| panic!("FAKE_OLLAMA_ADDR is not an address: {e}"));
    let model = std::env::var("FAKE_OLLAMA_MODEL").unwrap_or_else(|_| "tiny:latest".into());
    let reply = std::env::var("FAKE_OLLAMA_REPLY")
        .unwrap_or_else(|_| "Hello from the fake model, written a few letters at a time.".into());
    let gap = std::env::var("FAKE_OLLAMA_GAP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let server = FakeOllama::start_at(addr, &[&model]).await;
    server.set_default(Script::paced_reply(&reply, Duration::from_millis(gap)));
    println!("fake Ollama listening on {} with {model}", server.url());
    std::future::pending::<()>().await;
}
