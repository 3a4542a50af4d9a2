//! Room moderation, reports and search, black-box over HTTP and live frames,
//! across two gateways where it matters; each test against a stack of its own.

#[path = "../common/mod.rs"]
mod common;

mod helpers;
mod openapi;
mod publish_failure;
mod reports;
mod roles_and_bans;
mod search;
mod slow_mode;
mod topic_and_events;
