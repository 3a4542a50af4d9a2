//! The gateway's settings, read from the environment (see `env.sample`).

use std::net::SocketAddr;
use std::time::Duration;

use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;

/// Everything one gateway instance needs to run.
#[derive(Clone, clap::Parser)]
#[command(name = "gateway", about = "HTTP and WebSocket gateway of the chat")]
pub struct GatewayConfig {
    /// Address the HTTP and WebSocket server listens on.
    #[arg(long, env = "GATEWAY_ADDR", default_value = "127.0.0.1:18080")]
    pub addr: SocketAddr,
    /// Name of this instance in logs and presence (defaults to a random one).
    #[arg(long, env = "GATEWAY_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Postgres with the accounts, rooms and messages.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Connections this instance keeps to Postgres.
    #[arg(long, env = "GATEWAY_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    #[command(flatten)]
    pub kafka: KafkaConfig,
    #[command(flatten)]
    pub sequencer: SequencerConfig,

    /// HMAC key for access tokens: at least 32 random bytes (e.g. `openssl rand -hex 32`). Required.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// `iss` of the tokens this gateway issues and accepts.
    #[arg(long, env = "JWT_ISSUER", default_value = "chat")]
    pub jwt_issuer: String,
    /// `aud` of the tokens this gateway issues and accepts.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "chat-web")]
    pub jwt_audience: String,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,
    /// Lifetime of a refresh token (the login session), in seconds.
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl_secs: u64,
    /// Mark the refresh cookie `Secure` (turn off only for plain-HTTP local development).
    #[arg(long, env = "COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// Origins allowed to open WebSockets and to call the API from a browser, comma-separated.
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:8080"
    )]
    pub allowed_origins: Vec<String>,
    /// Take the client address from the last `X-Forwarded-For` hop (set when behind nginx).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,
    /// Argon2id memory cost in KiB (OWASP minimum: 19456).
    #[arg(long, env = "ARGON2_MEMORY_KIB", default_value_t = 19456)]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP minimum with 19 MiB: 2).
    #[arg(long, env = "ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Failed logins allowed per account from one client address per 15 minutes
    /// (the guesser is throttled; the owner at another address is not).
    #[arg(
        long,
        env = "LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS",
        default_value_t = 5
    )]
    pub login_max_failures_per_account_address: u32,
    /// Failed logins allowed per account from all addresses together per hour; past
    /// it, only addresses the account logged in from before (30 days) may still try.
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_ACCOUNT", default_value_t = 50)]
    pub login_max_failures_per_account: u32,
    /// Login attempts allowed per client address per 15 minutes.
    #[arg(long, env = "LOGIN_MAX_ATTEMPTS_PER_ADDRESS", default_value_t = 30)]
    pub login_max_attempts_per_address: u32,
    /// Sign-ups allowed per client address per hour.
    #[arg(long, env = "SIGNUP_MAX_PER_ADDRESS", default_value_t = 10)]
    pub signup_max_per_address: u32,
    /// Sign-ups allowed per minute from all addresses together (shared by every gateway).
    #[arg(long, env = "SIGNUP_MAX_PER_MINUTE", default_value_t = 120)]
    pub signup_max_per_minute: u32,
    /// Password hashes (sign-ups, logins) computed at once by this instance; 0 = one per core.
    /// Each holds `ARGON2_MEMORY_KIB` of memory while it runs.
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,
    /// Password hashes that may wait for a free slot; past it the request gets `503` at once.
    #[arg(long, env = "PASSWORD_HASH_QUEUE", default_value_t = 16)]
    pub password_hash_queue: usize,
    /// Longest wait for a hashing slot, in milliseconds, before the request gets `503`.
    #[arg(long, env = "PASSWORD_HASH_WAIT_MS", default_value_t = 2_000)]
    pub password_hash_wait_ms: u64,
    /// Seconds a just-rotated refresh token still works (two racing refreshes, or a
    /// retry after a lost response); presented later, it ends its login as stolen.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECS", default_value_t = 20)]
    pub refresh_reuse_grace_secs: u64,

    /// Largest WebSocket message a client may send, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 32 * 1024)]
    pub ws_max_message_bytes: usize,
    /// Direct frames (acks, errors, replay) queued for a connection's writer; a full queue
    /// holds the connection's reader back. (Room feeds lag per room and end in a resync.)
    #[arg(long, env = "WS_SEND_QUEUE", default_value_t = 256)]
    pub ws_send_queue: usize,
    /// Messages a user may send per second (sustained), counted per gateway instance.
    #[arg(long, env = "WS_MESSAGES_PER_SEC", default_value_t = 10)]
    pub ws_messages_per_sec: u32,
    /// Messages a user may send in a burst, counted per gateway instance.
    #[arg(long, env = "WS_MESSAGES_BURST", default_value_t = 30)]
    pub ws_messages_burst: u32,
    /// Sends one connection may have waiting for their ack; past it, sends are refused.
    #[arg(long, env = "WS_MAX_IN_FLIGHT", default_value_t = 64)]
    pub ws_max_in_flight: usize,
    /// Rooms one connection may subscribe to.
    #[arg(long, env = "WS_MAX_ROOMS", default_value_t = 100)]
    pub ws_max_rooms: usize,
    /// Seconds between server pings; keep well inside the proxy's read timeout.
    #[arg(long, env = "WS_PING_SECS", default_value_t = 20)]
    pub ws_ping_secs: u64,
    /// Longest wait for Kafka to make a sent message durable, in milliseconds.
    #[arg(long, env = "SEND_TIMEOUT_MS", default_value_t = 10_000)]
    pub send_timeout_ms: u64,
    /// Seconds a presence entry lives without a heartbeat (a crashed gateway's users drop out after it).
    #[arg(long, env = "PRESENCE_TTL_SECS", default_value_t = 30)]
    pub presence_ttl_secs: u64,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("addr", &self.addr)
            .field("instance_id", &self.instance_id)
            .field("kafka", &self.kafka)
            .field("jwt_secret", &"<redacted>")
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

/// Why a configuration is refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("JWT_SECRET must be at least 32 bytes of random data (e.g. `openssl rand -hex 32`)")]
    WeakJwtSecret,
    #[error("ARGON2_MEMORY_KIB and ARGON2_ITERATIONS are below OWASP's minimum (19456 KiB, 2)")]
    WeakArgon2,
}

impl GatewayConfig {
    /// Refuses settings that would make the service unsafe.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.jwt_secret.as_bytes();
        let distinct = secret
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if secret.len() < 32 || distinct < 8 {
            return Err(ConfigError::WeakJwtSecret);
        }
        if self.argon2_memory_kib < 19456 || self.argon2_iterations < 2 {
            return Err(ConfigError::WeakArgon2);
        }
        Ok(())
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }
}
