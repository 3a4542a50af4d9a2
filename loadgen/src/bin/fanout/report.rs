//! The runs as one Markdown table (each run, then the median of each target
//! and rate), and optionally one JSON line per run.

use hdrhistogram::Histogram;
use serde_json::json;

use crate::procstat::Cost;
use crate::producer::ProducerOutcome;
use crate::run::Outcome;

pub const CHAT: &str = "chat";
pub const PRODUCER: &str = "bare producer";
pub const BARE: &str = "bare broadcast";

/// One run of one target at one rate.
#[derive(Debug, Clone)]
pub struct Row {
    pub target: &'static str,
    pub run: usize,
    pub rate: f64,
    /// Deliveries per second (records per second for the producer).
    pub throughput: f64,
    /// p50, p99, p99.9, max, in milliseconds.
    pub latency_ms: [f64; 4],
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub refused: u64,
    /// Messages sent during the measured window (records for the producer).
    pub sent_in_window: u64,
    /// e.g. `unavailable 12, rate_limited 3`.
    pub refused_by_code: String,
    pub resynced: u64,
    pub costs: Vec<Cost>,
}

/// p50, p99, p99.9 and max of a histogram of microseconds, in milliseconds.
pub fn quantiles(h: &Histogram<u64>) -> [f64; 4] {
    let ms = |us: u64| us as f64 / 1000.0;
    [
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
    ]
}

impl Row {
    pub fn chat(run: usize, rate: f64, (o, costs): (Outcome, Vec<Cost>)) -> Self {
        Self::from_outcome(CHAT, run, rate, o, costs)
    }

    pub fn bare(run: usize, rate: f64, (o, costs): (Outcome, Vec<Cost>)) -> Self {
        Self::from_outcome(BARE, run, rate, o, costs)
    }

    fn from_outcome(
        target: &'static str,
        run: usize,
        rate: f64,
        o: Outcome,
        costs: Vec<Cost>,
    ) -> Self {
        Self {
            target,
            run,
            rate,
            throughput: o.deliveries_per_sec,
            latency_ms: quantiles(&o.latency),
            lost: o.lost,
            duplicated: o.duplicated,
            out_of_order: o.out_of_order,
            refused: o.refused + o.sent.saturating_sub(o.acked + o.refused),
            sent_in_window: o.sent_in_window,
            refused_by_code: o
                .refused_by_code
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            resynced: o.resynced,
            costs,
        }
    }

    pub fn producer(
        run: usize,
        rate: f64,
        window_secs: f64,
        (o, costs): (ProducerOutcome, Vec<Cost>),
    ) -> Self {
        let records_per_sec = o.sent as f64 / window_secs;
        Self {
            target: PRODUCER,
            run,
            rate,
            throughput: records_per_sec,
            latency_ms: o.latency_ms,
            lost: o.failed,
            duplicated: 0,
            out_of_order: 0,
            refused: 0,
            sent_in_window: o.sent,
            refused_by_code: String::new(),
            resynced: 0,
            costs,
        }
    }

    /// Nothing lost, duplicated or reordered.
    pub fn clean(&self) -> bool {
        self.lost + self.duplicated + self.out_of_order == 0
    }

    /// CPU-µs per message sent in the window: the gateways' for the chat,
    /// the producer processes' per record for the bare producer; none for
    /// the others.
    pub fn cpu_us_per_message(&self) -> Option<f64> {
        let cpu = match self.target {
            CHAT => self.cpu("gateway"),
            PRODUCER => self.cpu(crate::producer::NAME),
            _ => return None,
        };
        (self.sent_in_window > 0).then(|| cpu * 1e6 / self.sent_in_window as f64)
    }

    fn cpu(&self, prefix: &str) -> f64 {
        self.costs
            .iter()
            .filter(|c| c.name.starts_with(prefix) && c.name != crate::procstat::CLIENT)
            .map(|c| c.cpu_seconds)
            .sum()
    }

    /// Deliveries per CPU-second of every server process measured.
    pub fn per_cpu_all(&self, window_secs: f64) -> f64 {
        self.throughput * window_secs / self.cpu("").max(1e-9)
    }

    pub fn per_cpu_gateways(&self, window_secs: f64) -> f64 {
        let gateways = self.cpu("gateway") + self.cpu("bare") + self.cpu(crate::producer::NAME);
        self.throughput * window_secs / gateways.max(1e-9)
    }
}

/// Prints the table (and the JSON lines) to stdout.
pub fn print(rows: &[Row], window_secs: f64, json_lines: bool) {
    println!(
        "| target | run | msgs/s | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | lost | dup | out of order | refused | resynced | deliveries per CPU-s (all) | per gateway CPU-s | CPU s per process (peak RSS MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let line = |r: &Row, run: String| {
        let costs: Vec<String> = r
            .costs
            .iter()
            .map(|c| {
                format!(
                    "{} {:.2} ({:.0})",
                    c.name,
                    c.cpu_seconds,
                    c.peak_rss_kib as f64 / 1024.0
                )
            })
            .collect();
        let [p50, p99, p999, max] = r.latency_ms;
        let refused = if r.refused_by_code.is_empty() {
            r.refused.to_string()
        } else {
            format!("{} ({})", r.refused, r.refused_by_code)
        };
        println!(
            "| {} | {run} | {:.0} | {:.0} | {p50:.2} | {p99:.2} | {p999:.2} | {max:.2} | {} | {} | {} | {refused} | {} | {:.0} | {:.0} | {} |",
            r.target,
            r.rate,
            r.throughput,
            r.lost,
            r.duplicated,
            r.out_of_order,
            r.resynced,
            r.per_cpu_all(window_secs),
            r.per_cpu_gateways(window_secs),
            costs.join(", ")
        );
    };
    for r in rows {
        line(r, r.run.to_string());
    }
    let mut keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.target, r.rate as u64)).collect();
    keys.sort();
    keys.dedup();
    for (target, rate) in keys {
        let runs: Vec<&Row> = rows
            .iter()
            .filter(|r| r.target == target && r.rate as u64 == rate)
            .collect();
        if runs.len() > 1 {
            line(&median(&runs), "median".into());
        }
    }
    if json_lines {
        for r in rows {
            println!(
                "{}",
                json!({
                    "target": r.target, "run": r.run, "rate": r.rate, "throughput": r.throughput,
                    "p50_ms": r.latency_ms[0], "p99_ms": r.latency_ms[1], "p999_ms": r.latency_ms[2],
                    "max_ms": r.latency_ms[3], "lost": r.lost, "duplicated": r.duplicated,
                    "out_of_order": r.out_of_order, "refused": r.refused, "resynced": r.resynced,
                    "cpu_us_per_message": r.cpu_us_per_message(),
                    "produce_cost_ratio": crate::cost::ratio_of(rows, r),
                    "costs": r.costs.iter().map(|c| json!({"name": c.name, "cpu_seconds": c.cpu_seconds, "peak_rss_kib": c.peak_rss_kib})).collect::<Vec<_>>(),
                })
            );
        }
    }
}

/// The median of `target`'s runs at `rate`, if it ran there.
pub fn median_at(rows: &[Row], target: &str, rate: f64) -> Option<Row> {
    let runs: Vec<&Row> = rows
        .iter()
        .filter(|r| r.target == target && r.rate == rate)
        .collect();
    (!runs.is_empty()).then(|| median(&runs))
}

/// Each figure's median over the runs (costs by process name).
pub fn median(runs: &[&Row]) -> Row {
    let med = |f: &dyn Fn(&Row) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(|r| f(r)).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let first = runs[0];
    Row {
        target: first.target,
        run: 0,
        rate: first.rate,
        throughput: med(&|r| r.throughput),
        latency_ms: [0, 1, 2, 3].map(|i| med(&|r| r.latency_ms[i])),
        lost: runs.iter().map(|r| r.lost).sum(),
        duplicated: runs.iter().map(|r| r.duplicated).sum(),
        out_of_order: runs.iter().map(|r| r.out_of_order).sum(),
        refused: runs.iter().map(|r| r.refused).sum(),
        sent_in_window: med(&|r| r.sent_in_window as f64) as u64,
        refused_by_code: String::new(),
        resynced: runs.iter().map(|r| r.resynced).sum(),
        costs: first
            .costs
            .iter()
            .map(|c| Cost {
                name: c.name.clone(),
                cpu_seconds: med(&|r| {
                    r.costs
                        .iter()
                        .find(|x| x.name == c.name)
                        .map_or(0.0, |x| x.cpu_seconds)
                }),
                peak_rss_kib: runs
                    .iter()
                    .flat_map(|r| r.costs.iter().filter(|x| x.name == c.name))
                    .map(|x| x.peak_rss_kib)
                    .max()
                    .unwrap_or(0),
            })
            .collect(),
    }
}

/// Where the chat's send time went in each run (bucket bounds: "under X ms").
pub fn print_stages(runs: &[(usize, f64, Vec<crate::stages::Stage>)]) {
    if runs.iter().all(|(_, _, s)| s.is_empty()) {
        return;
    }
    println!();
    println!(
        "| chat run | msgs/s | stage (gateways' /metrics) | count | p50 under ms | p99 under ms |"
    );
    println!("|---|---|---|---|---|---|");
    for (run, rate, stages) in runs {
        for s in stages {
            println!(
                "| {run} | {rate:.0} | {} | {:.0} | {} | {} |",
                s.name, s.count, s.p50_ms, s.p99_ms
            );
        }
    }
}
