//! Crash points for fault tests. Built with the `failpoints` feature (the
//! tests turn it on), `FAILPOINTS=writer::after_db_commit=return` makes the
//! process abort at that point, as a SIGKILL there would; without the feature
//! a crash point compiles to nothing.
//!
//! - `writer::after_fetch`: a batch was gathered, nothing of it is prepared.
//! - `writer::during_insert`: the rows are inserted, the transaction is open.
//! - `writer::after_db_commit`: the rows are committed, the offsets are not.

/// Aborts the process here when the named fail point is configured `return`.
macro_rules! crash_point {
    ($name:literal) => {
        fail::fail_point!($name, |_| std::process::abort())
    };
}
pub(crate) use crash_point;
