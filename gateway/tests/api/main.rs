//! The HTTP API, black-box: accounts and tokens, rooms and membership, history
//! and the OpenAPI document, each test against a stack of its own.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod helpers;
mod history;
mod openapi;
mod rooms;
mod sessions;
mod throttling;
mod tokens;
