//! Where a send's milliseconds go: the gateways' stage histograms
//! (`/metrics`: the whole send, its check, dedupe, produce and sequence
//! stages, and the lag
//! from `sent_at` to the relay) read before and after a measured window, the
//! difference summed over the gateways, and each stage's p50 and p99 given
//! as the bucket bound they fall under.

use std::collections::BTreeMap;

/// Bucket counts (cumulative, by upper bound in seconds) of each stage.
#[derive(Debug, Clone, Default)]
pub struct Scrape(BTreeMap<String, Vec<(f64, f64)>>);

const STAGES: [(&str, &str); 6] = [
    (
        "gateway_send_duration_seconds_bucket{",
        "send → ack (whole)",
    ),
    (
        "gateway_send_stage_seconds_bucket{stage=\"check\"",
        "check (membership ‖ stored lookup, slow mode)",
    ),
    (
        "gateway_send_stage_seconds_bucket{stage=\"dedupe\"",
        "dedupe (claim)",
    ),
    (
        "gateway_send_stage_seconds_bucket{stage=\"produce\"",
        "produce → delivery report",
    ),
    (
        "gateway_send_stage_seconds_bucket{stage=\"sequence\"",
        "sequence (Redis script)",
    ),
    (
        "gateway_relay_lag_seconds_bucket{",
        "sent_at → relay (pub/sub)",
    ),
];

/// Reads every gateway's histograms, summed.
pub async fn scrape(http: &reqwest::Client, bases: &[String]) -> Scrape {
    let mut total = Scrape::default();
    for base in bases {
        let Ok(text) = async {
            http.get(format!("{base}/metrics"))
                .send()
                .await?
                .text()
                .await
        }
        .await
        else {
            continue;
        };
        for line in text.lines() {
            let Some((_, label)) = STAGES.iter().find(|(prefix, _)| line.starts_with(prefix))
            else {
                continue;
            };
            let le = line
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|v| {
                    if v == "+Inf" {
                        Some(f64::INFINITY)
                    } else {
                        v.parse().ok()
                    }
                });
            let count = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
            if let (Some(le), Some(count)) = (le, count) {
                let buckets = total.0.entry((*label).to_owned()).or_default();
                match buckets.iter_mut().find(|(b, _)| *b == le) {
                    Some((_, c)) => *c += count,
                    None => buckets.push((le, count)),
                }
            }
        }
    }
    for buckets in total.0.values_mut() {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    total
}

/// One stage over a window: its count and the bucket bounds of p50 and p99 (ms).
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub count: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The stages of `after - before`.
pub fn window(before: &Scrape, after: &Scrape) -> Vec<Stage> {
    STAGES
        .iter()
        .filter_map(|(_, name)| {
            let after = after.0.get(*name)?;
            let before = before.0.get(*name);
            let diff: Vec<(f64, f64)> = after
                .iter()
                .map(|(le, c)| {
                    let b = before
                        .and_then(|b| b.iter().find(|(l, _)| l == le))
                        .map_or(0.0, |(_, c)| *c);
                    (*le, c - b)
                })
                .collect();
            let count = diff.last()?.1;
            let bound = |q: f64| {
                diff.iter()
                    .find(|(_, c)| *c >= q * count)
                    .map_or(f64::INFINITY, |(le, _)| le * 1000.0)
            };
            (count > 0.0).then(|| Stage {
                name: (*name).to_owned(),
                count,
                p50_ms: bound(0.5),
                p99_ms: bound(0.99),
            })
        })
        .collect()
}
