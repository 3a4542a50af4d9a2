//! What the gateway, the writer and the bot share.
//!
//! - [`event`]: the record every sent message becomes on the `chat.messages`
//!   Kafka topic, with its schema version and the validation both sides apply
//!   (it lives in the chat-wire crate, re-exported here).
//! - [`sequencer`]: the Redis Lua step that gives a message its per-room `seq`,
//!   remembers it, appends it to the room's recent tail and publishes it, all
//!   in one atomic, idempotent step (guarantees G4 and G5). Its `Sequencer` is
//!   the whole sequencing protocol: callers sequence a new event, an event that
//!   may be stored (its stored seq wins), or hold rooms while inserting.
//! - [`live`]: a room's ephemeral channel and the bot's `draft` frame.
//! - [`db`]: the Postgres pool and the embedded migrations.
//! - [`redis_client`]: Redis clients and connections, Nagle's algorithm off.
//! - [`kafka`]: Kafka client settings shared by producers and consumers, and
//!   the group consumer scaffolding of the writer and the bot (partition
//!   ownership by generation, lag metrics, closing off the runtime).
//! - [`health`]: the health, readiness and metrics endpoint of the writer and the bot.
//! - [`telemetry`]: tracing set-up for the binaries.
//! - [`shutdown`]: turning SIGTERM and Ctrl-C into a cancellation token.

pub mod db;
pub mod health;
pub mod kafka;
pub mod live;
pub mod redis_client;
pub mod sequencer;
pub mod shutdown;
pub mod telemetry;

pub use chat_wire::event;
pub use event::{ChatEvent, MessageKind, SequencedEvent};
pub use sequencer::{Sequencer, SequencerConfig, SequencerError};
