//! The HTTP API, black-box: accounts and tokens, rooms and membership, history
//! and the OpenAPI document, each test against a stack of its own.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod consent;
mod errors;
mod helpers;
mod history;
mod names;
mod openapi;
mod preview;
mod quotas;
mod rooms;
mod sessions;
mod throttling;
mod tokens;
mod unread;
