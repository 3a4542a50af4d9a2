//! The gateway's SQL, one module per table group. Handlers call these functions;
//! no SQL lives in a handler.

pub mod blocks;
pub mod direct;
pub mod events;
pub mod held;
pub mod history;
pub mod messages;
pub mod moderation;
pub mod preview;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod tokens;
pub mod users;
