//! The writer's error type: what can go wrong between Kafka and Postgres.

/// Errors of the writer. `is_transient` sorts them: a transient error makes the
/// writer wait and try the same batch again, committing nothing meanwhile.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("sequencer: {0}")]
    Sequencer(#[from] chat_core::SequencerError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("the sequencer state changed during the batch; sequencing again")]
    EpochChanged,
    #[error("{} messages got a seq that is stored already: their rooms' sequencer state was stale", .0.len())]
    StaleSequence(Vec<(uuid::Uuid, uuid::Uuid)>),
    #[error("shut down before the batch could be stored")]
    Abandoned,
    #[error("the batch could not be prepared (sequenced) before it reached the store stage")]
    NotPrepared,
    #[error("internal: {0}")]
    Internal(String),
}

impl WriterError {
    /// True for an outage that will pass (the batch is retried); false for a bug or shutdown.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Abandoned | Self::Internal(_))
    }
}

/// True when the row clashes with a stored one on (room, seq): not poison, but a
/// sign that the room's sequencer state is stale.
pub fn is_seq_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some("messages_room_seq_key"))
}

/// True when the row's `(sender_id, client_msg_id)` is stored under another id:
/// not poison, but a copy of a stored message (a resend that a gateway produced
/// as a new message because Redis had lost its claim).
pub fn is_resend_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some("messages_sender_client_msg_id_key"))
}

/// True when Postgres refused the data itself (SQLSTATE class 22 or 23): trying
/// again can never succeed, so the row is poison.
pub fn is_data_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("22") || code.starts_with("23")),
        _ => false,
    }
}
