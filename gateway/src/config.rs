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
    /// Postgres connections held apart from the pool for the send path's one
    /// read (0: that read goes through the pool too). A query through the
    /// pool costs a second round trip: sqlx pings each connection it takes back.
    #[arg(long, env = "GATEWAY_DB_HELD_CONNECTIONS", default_value_t = 2)]
    pub db_held_connections: usize,
    #[command(flatten)]
    pub kafka: KafkaConfig,
    #[command(flatten)]
    pub sequencer: SequencerConfig,
    #[command(flatten)]
    pub rooms: RoomQuotas,

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
    /// Proxies whose `X-Forwarded-For` is believed, as CIDR blocks, comma-separated
    /// (e.g. `127.0.0.1/32,10.0.0.0/8`). From a peer in the list, the client address is
    /// the right-most `X-Forwarded-For` entry outside the list; from anyone else it is
    /// the TCP peer. Empty (the default): the header is never believed.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,
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

    /// Largest WebSocket message a client may send, in bytes; at least
    /// [`min_ws_message_bytes`] (any allowed `send`, its body fully `\u`-escaped, fits).
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub ws_max_message_bytes: usize,
    /// Each connection's read buffer, in bytes: held (zero-filled, so resident) for the
    /// connection's life, and one `read` takes at most this much. A larger message grows it
    /// up to `WS_MAX_MESSAGE_BYTES`. 512 holds a client's usual frame (a subscribe, a
    /// short message) in one read; a longer one takes a read per 512 bytes.
    #[arg(long, env = "WS_READ_BUFFER_BYTES", default_value_t = 512)]
    pub ws_read_buffer_bytes: usize,
    /// WebSockets one user may hold open on this instance; past it the upgrade is refused (429).
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub ws_max_connections_per_user: usize,
    /// WebSockets one client address may hold open on this instance; past it the upgrade
    /// is refused (429).
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 100)]
    pub ws_max_connections_per_address: usize,
    /// Most messages one `subscribe` replays; a client further behind gets `resync behind`
    /// and pages the rest over HTTP.
    #[arg(long, env = "WS_REPLAY_MAX", default_value_t = 500)]
    pub ws_replay_max: i64,
    /// Replaying subscribes per connection per minute (sustained); a burst of `WS_MAX_ROOMS`
    /// is always allowed, so a reconnect resumes every room at once.
    #[arg(long, env = "WS_REPLAYS_PER_MIN", default_value_t = 60)]
    pub ws_replays_per_min: u32,
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
    /// How long Kafka's producer waits for more records to batch with one
    /// (`linger.ms`, fractions allowed). Every send waits for its delivery
    /// report before the ack, so this is added to each send's latency; under
    /// load records batch anyway while earlier requests are in flight.
    #[arg(long, env = "KAFKA_LINGER_MS", default_value_t = 0.0)]
    pub kafka_linger_ms: f64,
    /// Seconds a presence entry lives without a heartbeat (a crashed gateway's users drop out after it).
    #[arg(long, env = "PRESENCE_TTL_SECS", default_value_t = 30)]
    pub presence_ttl_secs: u64,
    /// Threads running the gateway's tasks (1 to 1024); unset, one per core.
    /// Gateways that share a host's cores each spend less CPU on their share
    /// under a steady load: two on two cores, 8 % less with one thread each.
    /// But a gateway then uses that many cores at most, also when a peer is
    /// down and its clients all come here (BENCHMARKS.md, session 17).
    #[arg(long, env = "GATEWAY_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub worker_threads: Option<u16>,
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

/// How many rooms a user may create (direct rooms are not counted).
#[derive(Debug, Clone, clap::Args)]
pub struct RoomQuotas {
    /// Public and private rooms one user may create per rolling hour; past it `429`.
    #[arg(long = "rooms-created-per-hour", env = "ROOMS_CREATED_PER_HOUR", default_value_t = RoomQuotas::CREATED_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub created_per_hour: u32,
    /// Rooms one user may own at once (leaving one hands it over); past it `429`.
    #[arg(long = "rooms-owned-max", env = "ROOMS_OWNED_MAX", default_value_t = RoomQuotas::OWNED_MAX)]
    pub owned_max: u32,
}

impl RoomQuotas {
    pub const CREATED_PER_HOUR: u32 = 20;
    pub const OWNED_MAX: u32 = 100;
}

impl Default for RoomQuotas {
    fn default() -> Self {
        Self {
            created_per_hour: Self::CREATED_PER_HOUR,
            owned_max: Self::OWNED_MAX,
        }
    }
}

/// Why a configuration is refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("JWT_SECRET must be at least 32 bytes of random data (e.g. `openssl rand -hex 32`)")]
    WeakJwtSecret,
    #[error("ARGON2_MEMORY_KIB and ARGON2_ITERATIONS are below OWASP's minimum (19456 KiB, 2)")]
    WeakArgon2,
    #[error(
        "WS_MAX_MESSAGE_BYTES must be at least {0}: an allowed message, fully escaped, must fit"
    )]
    FrameLimitTooSmall(usize),
    #[error("KAFKA_LINGER_MS must be a number of milliseconds from 0 to 1000")]
    BadLinger,
}

/// Bytes a `send` frame's fields other than its body may take, escaped:
/// the type, the room and a `client_msg_id` of 64 bytes, each byte `\u`-escaped.
const SEND_ENVELOPE_BYTES: usize = 1024;

/// The smallest frame limit that lets every allowed `send` through: a body of
/// `MAX_BODY_CHARS` characters takes at most 12 bytes each in JSON (a
/// character outside the BMP written as two `\uXXXX` escapes), plus the envelope.
pub const fn min_ws_message_bytes() -> usize {
    chat_core::event::MAX_BODY_CHARS * 12 + SEND_ENVELOPE_BYTES
}

/// `TRUSTED_PROXIES`: address blocks (`10.0.0.0/8`) or single addresses
/// (`127.0.0.1`, taken as `/32` or `/128`), comma-separated; blanks are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses the comma-separated list.
    pub fn parse(list: &str) -> Result<Self, ipnet::AddrParseError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse::<ipnet::IpNet>() {
                Ok(net) => Ok(net.trunc()),
                Err(error) => s
                    .parse::<std::net::IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| error),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// True when `ip` is in one of the blocks.
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
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
        if self.ws_max_message_bytes < min_ws_message_bytes() {
            return Err(ConfigError::FrameLimitTooSmall(min_ws_message_bytes()));
        }
        // every send waits out the linger: more than a second is a mistake
        if !(0.0..=1000.0).contains(&self.kafka_linger_ms) {
            return Err(ConfigError::BadLinger);
        }
        Ok(())
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parsed(extra: &[&str]) -> GatewayConfig {
        try_parsed(extra).expect("parses")
    }

    fn try_parsed(extra: &[&str]) -> Result<GatewayConfig, clap::Error> {
        let mut args = vec![
            "gateway",
            "--database-url",
            "postgres://localhost/chat",
            "--kafka-brokers",
            "127.0.0.1:9092",
            "--redis-url",
            "redis://127.0.0.1/",
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
        ];
        args.extend_from_slice(extra);
        GatewayConfig::try_parse_from(args)
    }

    #[test]
    fn the_producer_lingers_for_no_time_unless_told() {
        let config = parsed(&[]);
        assert_eq!(config.kafka_linger_ms, 0.0);
        assert!(config.validate().is_ok());
        assert_eq!(parsed(&["--kafka-linger-ms", "0.5"]).kafka_linger_ms, 0.5);
    }

    #[test]
    fn worker_threads_are_one_per_core_unless_told_and_bounded() {
        assert_eq!(parsed(&[]).worker_threads, None);
        assert_eq!(parsed(&["--worker-threads", "1"]).worker_threads, Some(1));
        for bad in ["0", "1025", "two"] {
            assert!(
                try_parsed(&["--worker-threads", bad]).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn a_linger_out_of_range_is_refused() {
        for bad in ["-1", "1001", "NaN"] {
            let config = parsed(&[&format!("--kafka-linger-ms={bad}")]);
            assert!(
                matches!(config.validate(), Err(ConfigError::BadLinger)),
                "{bad} accepted"
            );
        }
    }
}
