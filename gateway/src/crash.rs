//! Crash points for fault tests. Built with the `failpoints` feature (the
//! tests turn it on), `FAILPOINTS=gateway::after_produce=return` makes the
//! process abort at that point, as a SIGKILL there would; without the feature
//! a crash point compiles to nothing.
//!
//! - `gateway::after_produce`: the message is durable in Kafka, not sequenced.
//! - `gateway::before_ack`: the message is sequenced and published, its
//!   sender not told.

/// Aborts the process here when the named fail point is configured `return`.
macro_rules! crash_point {
    ($name:literal) => {
        fail::fail_point!($name, |_| std::process::abort())
    };
}
pub(crate) use crash_point;
