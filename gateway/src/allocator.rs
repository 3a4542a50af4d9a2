//! The allocator's settings, fixed before the process allocates: mimalloc
//! reads its options from the environment when it starts, so the binary
//! sets the ones it needs and starts itself again (once, before any thread).

use std::ffi::OsString;

/// mimalloc's options the gateway runs with, unless the environment sets them.
///
/// - `MIMALLOC_ARENA_EAGER_COMMIT=0`: arenas are committed as they are used,
///   so memory freed is decommitted (gone from the resident set) rather than
///   reset (still counted until the kernel wants it back).
/// - `MIMALLOC_PURGE_DELAY=0`: freed pages go back at once, not 10 ms later.
///
/// Together: 10,000 idle connections held 10.2 KiB each instead of 12.8, with
/// no measurable CPU cost per delivery (BENCHMARKS.md, "Memory per idle
/// WebSocket connection").
pub const OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

/// The options the environment lacks (an operator's own value is kept).
pub fn missing(env: impl Fn(&str) -> Option<OsString>) -> Vec<(&'static str, &'static str)> {
    OPTIONS
        .into_iter()
        .filter(|(name, _)| env(name).is_none())
        .collect()
}

/// Starts this binary again with [`OPTIONS`] in its environment when one is
/// missing; returns only when nothing was missing or the restart failed
/// (then the process goes on with mimalloc's defaults). Call it first in
/// `main`, before the runtime starts.
#[cfg(unix)]
pub fn settle() {
    use std::os::unix::process::CommandExt;

    let missing = missing(|name| std::env::var_os(name));
    if missing.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(missing)
        .exec();
    eprintln!("gateway: not restarted with the allocator's settings ({error}); going on without");
}

/// Elsewhere the options are left to the environment.
#[cfg(not(unix))]
pub fn settle() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_options_the_environment_lacks_are_added() {
        assert_eq!(missing(|_| None), OPTIONS.to_vec());
        let operator = |name: &str| (name == "MIMALLOC_PURGE_DELAY").then(|| "5".into());
        assert_eq!(
            missing(operator),
            vec![("MIMALLOC_ARENA_EAGER_COMMIT", "0")]
        );
        assert!(missing(|_| Some("1".into())).is_empty());
    }
}
