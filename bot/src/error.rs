//! The bot's error type. A failing *model* is not an error here (it is an
//! outcome the bot answers with a notice, see [`crate::model::Failure`]);
//! these are the dependencies the bot cannot work without.

/// Errors of the bot. All but `Config` and `BadClaim` are outages that pass: the
/// mention is tried again, and its offset is not committed meanwhile.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("sequencer: {0}")]
    Sequencer(#[from] chat_core::SequencerError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("a stored reply claim is not a chat event: {0}")]
    BadClaim(String),
}

impl BotError {
    /// True for an outage worth waiting out; false for a mistake that waiting cannot fix.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Config(_) | Self::BadClaim(_))
    }
}
