//! The produce cost: the gateways' CPU per message sent against the bare
//! producer's CPU per record at the same rate in the same run, the durable
//! path's cost over its floor (issue 15's goal: at most 1.5×). The gateways'
//! figure is the send path's alone when every room has one member
//! (`--room-size 1 --senders-per-room 1`); in larger rooms it holds the
//! fan-out too.

use crate::report::{CHAT, PRODUCER, Row};

/// One chat run beside the producer run of the same invocation and rate.
#[derive(Debug, Clone)]
pub struct ProduceCost {
    pub run: usize,
    pub rate: f64,
    /// Gateways' CPU-µs per message sent.
    pub gateway_us: f64,
    /// The bare producer's CPU-µs per record.
    pub producer_us: f64,
}

impl ProduceCost {
    /// Gateway CPU per message ÷ producer CPU per record; none when the
    /// producer used less than one clock tick of `/proc` (a very short run).
    pub fn ratio(&self) -> Option<f64> {
        (self.producer_us > 0.0).then(|| self.gateway_us / self.producer_us)
    }
}

/// The chat run `chat`'s produce cost, if the producer ran beside it.
fn pair(rows: &[Row], chat: &Row) -> Option<ProduceCost> {
    if chat.target != CHAT || chat.run == 0 {
        return None;
    }
    let producer = rows
        .iter()
        .find(|r| r.target == PRODUCER && r.run == chat.run && r.rate == chat.rate)?;
    Some(ProduceCost {
        run: chat.run,
        rate: chat.rate,
        gateway_us: chat.cpu_us_per_message()?,
        producer_us: producer.cpu_us_per_message()?,
    })
}

/// The ratio for a chat row (none for another target, or without a producer run).
pub fn ratio_of(rows: &[Row], row: &Row) -> Option<f64> {
    pair(rows, row)?.ratio()
}

/// Every chat run's produce cost, in run order.
pub fn produce_costs(rows: &[Row]) -> Vec<ProduceCost> {
    rows.iter().filter_map(|r| pair(rows, r)).collect()
}

/// Prints the produce costs, with each rate's median when there are several runs.
pub fn print(rows: &[Row]) {
    let costs = produce_costs(rows);
    if costs.is_empty() {
        return;
    }
    println!();
    println!(
        "| chat run | msgs/s | gateway CPU µs per sent message | bare producer CPU µs per record | produce cost ratio |"
    );
    println!("|---|---|---|---|---|");
    let ratio = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"));
    for c in &costs {
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {} |",
            c.run,
            c.rate,
            c.gateway_us,
            c.producer_us,
            ratio(c.ratio())
        );
    }
    let mut rates: Vec<f64> = costs.iter().map(|c| c.rate).collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    for rate in rates {
        let runs: Vec<&ProduceCost> = costs.iter().filter(|c| c.rate == rate).collect();
        if runs.len() > 1 {
            let med = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied()
            };
            // the median of the ratios, not the ratio of the medians
            let ratios = med(runs.iter().filter_map(|c| c.ratio()).collect());
            println!(
                "| median | {rate:.0} | {:.1} | {:.1} | {} |",
                med(runs.iter().map(|c| c.gateway_us).collect()).unwrap_or_default(),
                med(runs.iter().map(|c| c.producer_us).collect()).unwrap_or_default(),
                ratio(ratios)
            );
        }
    }
}
