//! Gateways as real processes (the `gateway` binary), which a test can SIGKILL.

use std::process::{Child, Command, Stdio};

use super::{ORIGIN, SECRET, Stack, WAIT};

/// A gateway process, SIGKILLed when dropped (a failing test leaves none behind).
#[derive(Debug)]
pub struct GatewayProcess(Child);

impl GatewayProcess {
    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }

    /// Its process id (the same after the binary starts itself again).
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL, and reap it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `gateway` binary as a real process on `port` with the stack's config in
/// its environment.
pub fn spawn_gateway(stack: &Stack, port: u16, instance: &str) -> GatewayProcess {
    spawn_gateway_with(stack, port, instance, &[])
}

/// [`spawn_gateway`] with more environment, e.g. `FAILPOINTS`.
pub fn spawn_gateway_with(
    stack: &Stack,
    port: u16,
    instance: &str,
    extra_env: &[(&str, &str)],
) -> GatewayProcess {
    let config = stack.gateway_config();
    // set in the gateway's own tests; the bot's tests share this module but
    // never start a gateway process (the bare name would then be looked up on PATH)
    let binary = option_env!("CARGO_BIN_EXE_gateway").unwrap_or("gateway");
    let child = Command::new(binary)
        .env_clear()
        .env("GATEWAY_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEWAY_INSTANCE_ID", instance)
        .env("DATABASE_URL", &config.database_url)
        .env("KAFKA_BROKERS", &config.kafka.brokers)
        .env("KAFKA_TOPIC", &config.kafka.topic)
        .env("KAFKA_DLQ_TOPIC", &config.kafka.dlq_topic)
        .env("REDIS_URL", &config.sequencer.redis_url)
        .env("SEQUENCER_TAIL_LEN", config.sequencer.tail_len.to_string())
        .env("SEND_TIMEOUT_MS", config.send_timeout_ms.to_string())
        .env(
            "WS_MESSAGES_PER_SEC",
            config.ws_messages_per_sec.to_string(),
        )
        .env("WS_MESSAGES_BURST", config.ws_messages_burst.to_string())
        .env("JWT_SECRET", SECRET)
        .env("ALLOWED_ORIGINS", ORIGIN)
        .env("COOKIE_SECURE", "false")
        .env("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
        .env("WS_MAX_CONNECTIONS_PER_ADDRESS", "10000")
        .env("PRESENCE_TTL_SECS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .envs(extra_env.iter().copied())
        .spawn()
        .expect("start the gateway binary");
    GatewayProcess(child)
}

/// Waits until the gateway on `port` answers `/readyz`.
pub async fn ready(port: u16) {
    test_support::wait_until("gateway ready", WAIT, || async move {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;
}
