//! Where a send's milliseconds go: the gateways' stage histograms
//! (`/metrics`: the whole send, its check, dedupe, produce and sequence
//! stages, and the lag from `sent_at` to the relay) and the writer's (from
//! `sent_at` to the row's commit) read before and after a measured window,
//! the difference summed over the gateways, and each stage's p50 and p99
//! given as the bucket bound they fall under.

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
        "check (membership ‖ stored lookup ‖ a plain message's claim)",
    ),
    (
        "gateway_send_stage_seconds_bucket{stage=\"dedupe\"",
        "dedupe (slow mode slot; else event checks, claim)",
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

/// The writer's: from an event's `sent_at` to its row's database commit.
const WRITER_STAGES: [(&str, &str); 1] = [(
    "writer_commit_lag_seconds_bucket{",
    "sent_at → row committed (writer)",
)];

/// A service to read (its base URL) and the stages it serves.
pub type Source<'a> = (&'a str, &'a [(&'a str, &'a str)]);

/// What to read of the chat: the gateways' stages, and the writer's.
pub fn sources<'a>(gateways: &'a [String], writer: Option<&'a str>) -> Vec<Source<'a>> {
    let gateways = gateways.iter().map(|base| (base.as_str(), &STAGES[..]));
    gateways
        .chain(writer.map(|w| (w, &WRITER_STAGES[..])))
        .collect()
}

/// Reads every source's histograms, summed by stage.
pub async fn scrape(http: &reqwest::Client, sources: &[Source<'_>]) -> Scrape {
    let mut total = Scrape::default();
    for &(base, stages) in sources {
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
            let Some((_, label)) = stages.iter().find(|(prefix, _)| line.starts_with(prefix))
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
        .chain(&WRITER_STAGES)
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
