//! The figures of a run held against the performance goals (issue 15), each
//! rate's median over the runs, appended to `make bench`'s summary
//! (test-support's `bench_summary`, when `BENCH_SUMMARY` is set).

use test_support::bench_summary::{Figure, record};

use crate::report::{self, BARE, CHAT, Row};
use crate::stages::Stage;

/// Records the goals' figures of `rows` (all runs) and `stages` (per chat run).
/// `room_size` picks the goals that apply: fan-out's in rooms of many, the
/// produce cost's in rooms of one (where a gateway's CPU is the send path's).
pub fn record_all(
    rows: &[Row],
    stages: &[(usize, f64, Vec<Stage>)],
    (shape, room_size): (&str, usize),
    window: f64,
) {
    let mut rates: Vec<f64> = rows
        .iter()
        .filter(|r| r.target == CHAT)
        .map(|r| r.rate)
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    for rate in rates {
        let of = |target: &str| report::median_at(rows, target, rate);
        let Some(chat) = of(CHAT) else { continue };
        let bare = of(BARE);
        let runs = rows
            .iter()
            .filter(|r| r.target == CHAT && r.rate == rate)
            .count();
        let at = format!(
            "{shape}, {:.0} deliveries/s, median of {runs}",
            chat.throughput
        );
        let [p50, p99, p999, _] = chat.latency_ms;
        let bare_latency = bare.as_ref().map_or_else(String::new, |b| {
            format!(
                "bare broadcast p50 {:.1} / p99 {:.1} ms",
                b.latency_ms[0], b.latency_ms[1]
            )
        });
        // the goal at 20k deliveries/s is a latency; above it, a rate sustained
        let at_20k = (15_000.0..25_000.0).contains(&chat.throughput);
        // both are fan-out's: rooms of one measure the send path's cost
        if room_size > 1 {
            record(&Figure {
                measure: &format!("send → delivery latency ({at})"),
                value: format!("p50 {p50:.1} / p99 {p99:.1} / p99.9 {p999:.1} ms"),
                baseline: bare_latency,
                goal: if at_20k {
                    "p50 ≤ 2.5, p99 ≤ 5 ms"
                } else {
                    "p99 < 250 ms, nothing lost (sustained up to 250k/s)"
                },
                met: if at_20k {
                    chat.clean() && p50 <= 2.5 && p99 <= 5.0
                } else {
                    crate::saturation::holds(&chat)
                },
            });
        }
        if let Some(bare) = &bare {
            let share = chat.per_cpu_gateways(window) / bare.per_cpu_gateways(window).max(1e-9);
            record(&Figure {
                measure: &format!("deliveries per gateway CPU-second ({at})"),
                value: format!(
                    "{:.0} ({:.0} % of the bare broadcast's)",
                    chat.per_cpu_gateways(window),
                    100.0 * share
                ),
                baseline: format!("bare broadcast {:.0}", bare.per_cpu_gateways(window)),
                goal: "≥ 60 % of the bare broadcast's",
                met: share >= 0.6,
            });
        }
        let all = chat.per_cpu_all(window);
        if room_size > 1 {
            record(&Figure {
                measure: &format!("deliveries per CPU-second of all server processes ({at})"),
                value: format!("{all:.0}"),
                baseline: String::new(),
                goal: "≥ 200,000",
                met: all >= 200_000.0,
            });
        }
        let ratios: Vec<f64> = crate::cost::produce_costs(rows)
            .iter()
            .filter(|c| c.rate == rate)
            .filter_map(|c| c.ratio())
            .collect();
        if let Some(ratio) = median(ratios).filter(|_| room_size == 1) {
            record(&Figure {
                measure: &format!("gateway CPU per sent message over the bare producer's ({at})"),
                value: format!("{ratio:.2}×"),
                baseline: "bare rdkafka producers, same settings, one per gateway at its share of the rate".into(),
                goal: "≤ 1.5×",
                met: ratio <= 1.5,
            });
        }
        let committed: Vec<f64> = stages
            .iter()
            .filter(|(_, r, _)| *r == rate)
            .flat_map(|(_, _, s)| s.iter().filter(|s| s.name.contains("row committed")))
            .map(|s| s.p99_ms)
            .collect();
        // the goal's rate: 1,000 messages a second
        if let Some(p99) = median(committed).filter(|_| rate == 1000.0) {
            record(&Figure {
                measure: &format!("send → row committed, p99 ({at})"),
                value: format!("under {p99:.0} ms (histogram bucket)"),
                baseline: String::new(),
                goal: "≤ 500 ms at 1,000 messages/s",
                met: p99 <= 500.0,
            });
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}
