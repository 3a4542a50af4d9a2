//! A load generator for the chat: N users over M rooms sending at a steady
//! rate through the site (nginx), each reconnecting with resume and resending
//! with the same `client_msg_id` until acknowledged, and recording what it saw
//! so that a run can be checked against what was stored.
//!
//! - [`setup`]: sign up the users, create the rooms, join them (HTTP).
//! - [`client`]: one user's connection loop (WebSocket): send, ack, resend,
//!   reconnect, resume.
//! - [`view`]: one client's view of one room, checked frame by frame.
//! - [`record`]: shared counters and what each client saw.
//! - [`child`]: a gateway or the writer run as a child process, restartable.
//!
//! The `soak` binary runs it against a whole stack while killing its parts;
//! `storm` restarts a gateway under 10,000 idle connections and times their resume.
//! `signup_flood` and `idle_memory` measure one gateway's memory (BENCHMARKS.md),
//! started by [`bench_gateway`].

pub mod bench_gateway;
pub mod child;
pub mod client;
pub mod record;
pub mod setup;
pub mod view;

pub use client::{ClientPlan, Phase, run_client};
pub use record::{Ack, ClientRecord, Stats};
pub use setup::{Site, User, setup};
pub use view::{RoomView, Seen};
