//! `soak`: steady load over both gateways (through nginx) for a set time while
//! Postgres, Redis, Kafka, the writer and the gateways are killed at random
//! moments; then the checks. `scripts/soak.sh` (`make soak`) starts the stack
//! and nginx and runs it; exits 1 listing the violations if there are any.

mod checks;
mod config;
mod faults;
mod procs;
mod report;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::{ClientPlan, Phase, Site, Stats, run_client, setup};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::watch;

use crate::config::SoakConfig;
use crate::faults::{FaultLog, FaultPlan, run_faults};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = SoakConfig::parse();
    let seed = config.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    println!(
        "[soak] seed {seed} (SOAK_SEED={seed} repeats the fault schedule); {} s, {} clients, {} rooms ({} each), {} msgs/s",
        config.seconds, config.clients, config.rooms, config.rooms_per_client, config.rate
    );
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);

    let mut services = config.services();
    services.writer.start(config.ready_timeout()).await?;
    for gateway in &mut services.gateways {
        gateway.start(config.ready_timeout()).await?;
    }
    println!("[soak] writer and gateways ready");

    let site = Site {
        base: format!("http://127.0.0.1:{}", config.site_port),
        origin: format!("http://127.0.0.1:{}", config.site_port),
    };
    let users = setup(
        &site,
        config.clients,
        config.rooms,
        config.rooms_per_client,
        &mut rng,
    )
    .await?;
    let mut rooms: Vec<uuid::Uuid> = users.iter().flat_map(|u| u.rooms.clone()).collect();
    rooms.sort_unstable();
    rooms.dedup();
    println!("[soak] {} users in {} rooms", users.len(), rooms.len());

    let stats = Arc::new(Stats::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Sending);
    let plan = ClientPlan {
        period: Duration::from_secs_f64(config.clients as f64 / config.rate),
        resend_after: Duration::from_secs(20),
        silence: Duration::from_secs(60),
    };
    let mut clients = Vec::new();
    for (i, user) in users.into_iter().enumerate() {
        let client_rng = StdRng::seed_from_u64(seed.wrapping_add(1 + i as u64));
        clients.push(tokio::spawn(run_client(
            site.clone(),
            user,
            plan.clone(),
            client_rng,
            stats.clone(),
            phase_rx.clone(),
        )));
    }

    let fault_log = Arc::new(Mutex::new(FaultLog::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let fault_plan = FaultPlan {
        gap_min: Duration::from_secs(config.fault_gap_min_secs),
        gap_max: Duration::from_secs(config.fault_gap_max_secs.max(config.fault_gap_min_secs)),
        outage_max: Duration::from_secs_f64(config.outage_max_secs.max(1.0)),
        ready_timeout: config.ready_timeout(),
        kinds: config.fault_kinds()?,
        redis_loss_bytes: config.redis_loss_bytes,
    };
    let faults = tokio::spawn(run_faults(
        services,
        fault_plan,
        StdRng::seed_from_u64(seed),
        fault_log.clone(),
        stop_rx,
        started,
    ));

    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(&config.database_url)?;
    let run_for = Duration::from_secs(config.seconds);
    let mut progress = tokio::time::interval(Duration::from_secs(30));
    progress.tick().await;
    while started.elapsed() < run_for {
        tokio::select! {
            _ = progress.tick() => report::progress(&stats, &pool, &rooms, &fault_log, started).await,
            () = tokio::time::sleep(run_for.saturating_sub(started.elapsed())) => {}
        }
    }

    println!("[soak] time is up: no more faults; waiting for the current one to end");
    let _ = stop_tx.send(true);
    let services = faults.await?;
    println!("[soak] draining: no new messages, resending until every one is acknowledged");
    let _ = phase_tx.send(Phase::Draining);
    let drain_deadline = Instant::now() + Duration::from_secs(config.drain_secs);
    let mut records = Vec::new();
    for client in clients {
        let left = drain_deadline.saturating_duration_since(Instant::now());
        let mut client = client;
        match tokio::time::timeout(left, &mut client).await {
            Ok(record) => records.push(record?),
            Err(_) => {
                let _ = phase_tx.send(Phase::Done);
                records.push(client.await?);
            }
        }
    }
    let sending_time = started.elapsed();

    println!("[soak] waiting for the writer to catch up");
    report::wait_caught_up(&config, Duration::from_secs(config.drain_secs)).await?;
    let findings = checks::check(&pool, &config.redis_url, &rooms, &records).await?;
    let ok = report::summary(&stats, &fault_log, &findings, sending_time, seed);
    drop(services);
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
