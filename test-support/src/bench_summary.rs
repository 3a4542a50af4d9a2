//! The figures `make bench` holds against the performance goals: each
//! benchmark appends its rows to the file named by `BENCH_SUMMARY` (when set),
//! and `scripts/bench.sh` prints them as one table at the end.

use std::io::Write;

/// One measured figure against its goal.
#[derive(Debug, Clone)]
pub struct Figure<'a> {
    /// What was measured, e.g. "idle memory per subscribed connection".
    pub measure: &'a str,
    /// The figure, with its unit.
    pub value: String,
    /// The same run's baseline, when there is one.
    pub baseline: String,
    /// The goal, e.g. "≤ 8 KiB".
    pub goal: &'a str,
    /// Whether the goal is met.
    pub met: bool,
}

/// Appends `figure` to `$BENCH_SUMMARY` (nothing when unset). A benchmark's
/// own table is its output; a summary that cannot be written is reported
/// and skipped.
pub fn record(figure: &Figure<'_>) {
    let Some(path) = std::env::var_os("BENCH_SUMMARY") else {
        return;
    };
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let line = format!(
        "{}\t{}\t{}\t{}\t{}\n",
        clean(figure.measure),
        clean(&figure.value),
        clean(&figure.baseline),
        clean(figure.goal),
        if figure.met { "met" } else { "missed" }
    );
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "bench summary not written to {}: {error}",
            path.to_string_lossy()
        );
    }
}
