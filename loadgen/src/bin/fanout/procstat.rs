//! What a server process costs during a run, from `/proc`: CPU seconds
//! (user + system, the process and its threads) between two readings, and
//! the peak resident memory seen by a sampler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One server process, or a group of them (Postgres: the postmaster and its backends).
#[derive(Debug, Clone)]
pub struct Watched {
    pub name: String,
    pub pid: u32,
    /// Count the process's children too (a postmaster's backends).
    pub with_children: bool,
}

/// The load generator's own process: reported beside the servers, never
/// counted in their cost (on one machine it takes its share of the cores).
pub const CLIENT: &str = "loadgen";

/// Clock ticks per second of `/proc/<pid>/stat`'s times: Linux's `USER_HZ`,
/// which the kernel fixes at 100 for user space whatever its own tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// How often resident memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// A group's memory (Postgres's backends) is sampled once every this many
/// samples. Its `Pss` comes from `smaps_rollup`, which walks each backend's
/// page tables under the backend's memory map lock: read every 200 ms it was
/// a fifth of the load generator's CPU (`perf`: `smaps_account`,
/// `smaps_pte_range`), taken from the cores the servers share, and a
/// backend that faulted a page meanwhile waited on the walk.
const GROUP_EVERY: u64 = 10;

/// `(ppid, utime + stime ticks)` of a process, `None` once it is gone.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name may hold spaces: fields are counted after its ')'
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// A `KEY:   N kB` field of a `/proc/<pid>` file.
fn field_kib(pid: u32, file: &str, key: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resident memory of one process. In a group (Postgres) each process's
/// proportional share (`Pss`), so shared buffers count once, not per backend.
fn memory_kib(pid: u32, in_group: bool) -> u64 {
    if in_group && let Some(pss) = field_kib(pid, "smaps_rollup", "Pss:") {
        return pss;
    }
    field_kib(pid, "status", "VmRSS:").unwrap_or(0)
}

/// The pids of `root` and, if asked, of its children.
fn group(root: u32, with_children: bool) -> Vec<u32> {
    let mut pids = vec![root];
    if with_children && let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok())
                && stat(pid).is_some_and(|(ppid, _)| ppid == root)
            {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Ticks used so far by each process of a group (by pid, so a backend that
/// exits mid-run does not make the total go down).
fn ticks(w: &Watched) -> HashMap<u32, u64> {
    group(w.pid, w.with_children)
        .into_iter()
        .filter_map(|pid| stat(pid).map(|(_, t)| (pid, t)))
        .collect()
}

/// A measurement in progress over a set of processes.
#[derive(Debug)]
pub struct Meter {
    watched: Vec<Watched>,
    start: Vec<HashMap<u32, u64>>,
    peaks: Arc<Mutex<Vec<u64>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<()>,
}

/// One process's cost over the window.
#[derive(Debug, Clone)]
pub struct Cost {
    pub name: String,
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
}

impl Meter {
    /// Starts counting now; resident memory is sampled every
    /// [`SAMPLE_EVERY`] (a group's every [`GROUP_EVERY`] samples), on a
    /// thread of its own: a sweep of `/proc` blocks, and on the runtime's
    /// workers it would hold up the deliveries being timed.
    pub fn start(watched: Vec<Watched>) -> Self {
        let start = watched.iter().map(ticks).collect();
        let peaks = Arc::new(Mutex::new(vec![0u64; watched.len()]));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (watched, peaks, stop) = (watched.clone(), peaks.clone(), stop.clone());
            std::thread::spawn(move || {
                for tick in 0u64.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let groups_too = tick % GROUP_EVERY == 0;
                    let now: Vec<Option<u64>> = watched
                        .iter()
                        .map(|w| {
                            (groups_too || !w.with_children).then(|| {
                                group(w.pid, w.with_children)
                                    .into_iter()
                                    .map(|pid| memory_kib(pid, w.with_children))
                                    .sum()
                            })
                        })
                        .collect();
                    if let Ok(mut peaks) = peaks.lock() {
                        for (peak, now) in peaks.iter_mut().zip(now) {
                            *peak = (*peak).max(now.unwrap_or(0));
                        }
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        Self {
            watched,
            start,
            peaks,
            stop,
            sampler,
        }
    }

    /// Stops and returns each process's CPU seconds and peak memory.
    pub fn stop(self) -> Vec<Cost> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // the sampler ends within one period, on its own: joining it here
        // would block a worker of the runtime that still delivers
        drop(self.sampler);
        let peaks = self.peaks.lock().map(|p| p.clone()).unwrap_or_default();
        self.watched
            .iter()
            .zip(&self.start)
            .zip(peaks)
            .map(|((w, before), peak)| {
                let after = ticks(w);
                let used: u64 = after
                    .iter()
                    .map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0)))
                    .sum();
                Cost {
                    name: w.name.clone(),
                    cpu_seconds: used as f64 / TICKS_PER_SECOND,
                    peak_rss_kib: peak,
                }
            })
            .collect()
    }
}

/// The pid in the first line of a pid file (`postmaster.pid`, `redis.pid`, `kafka.pid`).
pub fn pid_from_file(path: &std::path::Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}
