//! The wire types the services share, kept free of I/O so that fuzz targets
//! (`fuzz/`) build in seconds.
//!
//! - [`event`]: the record every sent message becomes on the `chat.messages`
//!   Kafka topic, with its schema version and the validation both sides apply;
//!   re-exported by chat-core as `chat_core::event`.
//! - [`client`]: the frames a client sends on its WebSocket and their parser;
//!   re-exported by the gateway as `chat_gateway::ws::protocol::ClientFrame`.

pub mod client;
pub mod event;

pub use client::ClientFrame;
pub use event::{ChatEvent, MessageKind, SequencedEvent};
