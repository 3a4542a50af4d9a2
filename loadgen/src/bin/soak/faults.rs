//! Faults at random moments, one at a time: `kill -9` of a gateway, the
//! writer, Redis (back from its append-only file), Kafka or Postgres, each
//! started again after a short random outage.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use crate::procs::{Infra, Proc, Stack};

/// Everything a fault can hit.
#[derive(Debug)]
pub struct Services {
    pub gateways: Vec<Proc>,
    pub writer: Proc,
    pub stack: Stack,
}

/// When and how long faults come.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub gap_min: Duration,
    pub gap_max: Duration,
    pub outage_max: Duration,
    pub ready_timeout: Duration,
    /// The kinds to draw from (names of [`KINDS`]).
    pub kinds: Vec<&'static str>,
    /// Bytes cut from Redis' append-only file by `redis-rollback`.
    pub redis_loss_bytes: u64,
}

/// Every kind of fault: `kill -9` of a gateway (either), the writer, Redis,
/// Redis with the last writes of its append-only file cut, the Kafka broker,
/// the Postgres postmaster.
pub const KINDS: [&str; 6] = [
    "gateway",
    "writer",
    "redis",
    "redis-rollback",
    "kafka",
    "postgres",
];

/// The faults so far, for progress lines and the summary.
#[derive(Debug, Default)]
pub struct FaultLog {
    pub by_kind: BTreeMap<String, u64>,
    pub lines: Vec<String>,
    pub failures: Vec<String>,
}

impl FaultLog {
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
}

/// Injects faults until `stop` turns true; every service is running again when it returns.
pub async fn run_faults(
    mut services: Services,
    plan: FaultPlan,
    mut rng: StdRng,
    log: Arc<Mutex<FaultLog>>,
    mut stop: watch::Receiver<bool>,
    started: Instant,
) -> Services {
    loop {
        let gap = rng.random_range(plan.gap_min..=plan.gap_max);
        tokio::select! {
            () = tokio::time::sleep(gap) => {}
            _ = stop.wait_for(|s| *s) => return services,
        }
        let kind = plan.kinds[rng.random_range(0..plan.kinds.len())];
        let gateway = rng.random_range(0..services.gateways.len());
        let outage = rng.random_range(Duration::from_millis(500)..=plan.outage_max);
        let at = started.elapsed().as_secs();
        let (name, killed) = match kind {
            "gateway" => {
                let g = &mut services.gateways[gateway];
                (g.name.clone(), g.kill().await.map(|p| p.to_string()))
            }
            "writer" => (
                "writer".to_owned(),
                services.writer.kill().await.map(|p| p.to_string()),
            ),
            "redis" => kill_infra(&services.stack, Infra::Redis),
            "redis-rollback" => {
                let (name, mut killed) = kill_infra(&services.stack, Infra::Redis);
                // the AOF is complete once the process is gone
                tokio::time::sleep(Duration::from_millis(200)).await;
                let cut = services.stack.drop_aof_tail(plan.redis_loss_bytes);
                let what = match cut {
                    Ok(bytes) => format!("; its AOF's last {bytes} bytes cut"),
                    Err(e) => format!("; cutting its AOF failed: {e:#}"),
                };
                killed = killed.map(|k| k + &what);
                (name, killed)
            }
            "kafka" => kill_infra(&services.stack, Infra::Kafka),
            _ => kill_infra(&services.stack, Infra::Postgres),
        };
        println!(
            "[soak +{at}s] fault: kill -9 {name} (pid {}), down for {:.1}s",
            killed.as_deref().unwrap_or("?"),
            outage.as_secs_f64()
        );
        tokio::time::sleep(outage).await;
        let restart_started = Instant::now();
        let restarted = match kind {
            "gateway" => services.gateways[gateway].start(plan.ready_timeout).await,
            "writer" => services.writer.start(plan.ready_timeout).await,
            _ => services.stack.start().await,
        };
        let kind_name = kind.to_owned();
        let line = format!(
            "+{at}s kill -9 {name} (pid {}), down {:.1}s, {}",
            killed.as_deref().unwrap_or("?"),
            outage.as_secs_f64(),
            match &restarted {
                Ok(()) => format!("back in {:.1}s", restart_started.elapsed().as_secs_f64()),
                Err(e) => format!("RESTART FAILED: {e:#}"),
            }
        );
        println!("[soak +{}s] fault: {line}", started.elapsed().as_secs());
        if let Ok(mut log) = log.lock() {
            *log.by_kind.entry(kind_name).or_default() += 1;
            if restarted.is_err() {
                log.failures.push(line.clone());
            }
            log.lines.push(line);
        }
    }
}

fn kill_infra(stack: &Stack, infra: Infra) -> (String, Option<String>) {
    match stack.kill(infra) {
        Ok(pid) => (infra.name().to_owned(), Some(pid.to_string())),
        Err(e) => (infra.name().to_owned(), Some(format!("not killed: {e}"))),
    }
}
