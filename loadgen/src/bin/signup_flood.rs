//! `signup-flood`: runs one gateway process against a fresh database and a
//! Redis of its own, floods it with sign-ups from many client addresses (one
//! loopback address each), lets it idle, and prints its resident memory
//! (`VmRSS`) before, during and after: the figures of BENCHMARKS.md.
//!
//! Needs `TEST_DATABASE_URL` and `TEST_KAFKA_BROKERS` (the test stack).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::bench_gateway::BenchGateway;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Resident memory of a gateway during and after a sign-up flood")]
struct Args {
    /// The gateway binary.
    #[arg(long, default_value = "target/release/gateway")]
    gateway: PathBuf,
    /// How long the flood lasts, in seconds.
    #[arg(long, default_value_t = 60)]
    flood_secs: u64,
    /// How long the gateway idles after the flood before the last reading, in seconds.
    #[arg(long, default_value_t = 60)]
    settle_secs: u64,
    /// Concurrent clients, each from its own loopback address (127.0.1.N).
    #[arg(long, default_value_t = 96)]
    clients: usize,
    /// Sign-ups, one at a time, before the first reading: the gateway's pools
    /// and threads are then warm, as in service.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Extra gateway settings, `KEY=VALUE` (e.g. `SIGNUP_MAX_PER_MINUTE=100000`).
    #[arg(long = "set")]
    settings: Vec<String>,
}

/// The gateway's resident memory, in MB.
fn rss_mb(gateway: &BenchGateway) -> anyhow::Result<f64> {
    Ok(gateway.rss_kib()? as f64 / 1024.0)
}

#[derive(Debug, Default)]
struct Tally {
    created: AtomicU64,
    limited: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let gateway = BenchGateway::start(&args.gateway, &[], &args.settings).await?;
    let base = gateway.base.clone();
    let http = reqwest::Client::new();
    let cold = rss_mb(&gateway)?;
    for i in 0..args.warmup {
        http.post(format!("{base}/api/auth/signup"))
            .json(&json!({"username": format!("w{}_{i}", std::process::id()), "password": "correct horse battery staple"}))
            .send()
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = rss_mb(&gateway)?;

    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(args.flood_secs);
    let clients: Vec<_> = (0..args.clients)
        .map(|i| {
            let (base, tally) = (base.clone(), tally.clone());
            let ip = IpAddr::from([127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8]);
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .local_address(ip)
                    .build()
                    .expect("client");
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let name = format!("f{}_{i}_{n}", std::process::id());
                    let status = client
                        .post(format!("{base}/api/auth/signup"))
                        .json(
                            &json!({"username": name, "password": "correct horse battery staple"}),
                        )
                        .send()
                        .await
                        .map(|r| r.status().as_u16());
                    let counter = match status {
                        Ok(201) => &tally.created,
                        Ok(429) => &tally.limited,
                        Ok(503) => &tally.busy,
                        _ => &tally.other,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut peak = before;
    println!("t_s,rss_mb");
    let flood_start = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss = rss_mb(&gateway)?;
        peak = peak.max(rss);
        println!("{:.1},{rss:.0}", flood_start.elapsed().as_secs_f64());
    }
    for client in clients {
        let _ = client.await;
    }
    let at_end = rss_mb(&gateway)?;
    let settled_at = Instant::now() + Duration::from_secs(args.settle_secs);
    while Instant::now() < settled_at {
        tokio::time::sleep(Duration::from_secs(5)).await;
        println!(
            "{:.1},{:.0}",
            flood_start.elapsed().as_secs_f64(),
            rss_mb(&gateway)?
        );
    }
    let after = rss_mb(&gateway)?;
    gateway.stop().await;
    println!(
        "\n| RSS cold | before (warm) | peak during | at flood end | {} s after | after/before | created | 429 | 503 | other |",
        args.settle_secs
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {cold:.0} MB | {before:.0} MB | {peak:.0} MB | {at_end:.0} MB | {after:.0} MB | {:.0}% | {} | {} | {} | {} |",
        100.0 * after / before,
        tally.created.load(Ordering::Relaxed),
        tally.limited.load(Ordering::Relaxed),
        tally.busy.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed),
    );
    Ok(())
}
