//! Crash and stall points for fault tests. Built with the `failpoints`
//! feature (the tests turn it on), `FAILPOINTS=writer::after_db_commit=return`
//! makes the process abort at that point, as a SIGKILL there would, and
//! `...=return(5000)` stalls that task there for 5 s without blocking the
//! others. Without the feature a crash point compiles to nothing.
//!
//! - `writer::after_fetch`: a batch was gathered, nothing of it is prepared.
//! - `writer::during_insert`: the rows are inserted, the transaction is open.
//! - `writer::after_db_commit`: the rows are committed, the offsets are not.

/// Aborts the process here (`return`), or waits (`return(<ms>)`), when the
/// named fail point is configured. Only in async code.
macro_rules! crash_point {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        if let Some(stall) = fail::eval($name, |arg| arg) {
            match stall.and_then(|ms| ms.parse::<u64>().ok()) {
                Some(ms) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
                None => std::process::abort(),
            }
        }
    };
}
pub(crate) use crash_point;
