//! The storm's settings, from the environment (`scripts/storm.sh` sets the
//! stack's and the ports; the rest have defaults).

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Parser)]
pub struct StormConfig {
    /// Idle connections through nginx, each subscribed to one room.
    #[arg(long, env = "STORM_CONNECTIONS", default_value_t = 10_000)]
    pub connections: usize,
    /// Users the connections belong to (round robin).
    #[arg(long, env = "STORM_USERS", default_value_t = 100)]
    pub users: usize,
    /// Rooms; every user joins every room.
    #[arg(long, env = "STORM_ROOMS", default_value_t = 100)]
    pub rooms: usize,
    /// Messages per second over all rooms, before, during and after the restart.
    #[arg(long, env = "STORM_RATE", default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds of steady state before the restart.
    #[arg(long, env = "STORM_WARMUP_SECS", default_value_t = 5)]
    pub warmup_secs: u64,
    /// The goal: every dropped connection resumed within this many seconds.
    #[arg(long, env = "STORM_GOAL_SECS", default_value_t = 5.0)]
    pub goal_secs: f64,
    /// How long the storm may take before the run gives up on it.
    #[arg(long, env = "STORM_DEADLINE_SECS", default_value_t = 120)]
    pub deadline_secs: u64,
    /// Connections opened at once while the run sets up (not during the storm).
    #[arg(long, env = "STORM_OPEN_CONCURRENCY", default_value_t = 64)]
    pub open_concurrency: usize,
    #[arg(long, env = "STORM_SEED", default_value_t = 1)]
    pub seed: u64,
    #[arg(long, env = "STORM_BIN_DIR")]
    pub bin_dir: PathBuf,
    #[arg(long, env = "STORM_LOG_DIR")]
    pub log_dir: PathBuf,
    #[arg(long, env = "STORM_SITE_PORT")]
    pub site_port: u16,
    #[arg(long, env = "STORM_GATEWAY_1_PORT")]
    pub gateway_1_port: u16,
    #[arg(long, env = "STORM_GATEWAY_2_PORT")]
    pub gateway_2_port: u16,
    #[arg(long, env = "STORM_WRITER_PORT")]
    pub writer_port: u16,
}

impl StormConfig {
    pub fn ready_timeout(&self) -> Duration {
        Duration::from_secs(90)
    }

    pub fn site(&self) -> String {
        format!("http://127.0.0.1:{}", self.site_port)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.users > 0 && self.rooms > 0,
            "users and rooms must be positive"
        );
        anyhow::ensure!(
            self.connections >= self.users,
            "at least one connection per user"
        );
        anyhow::ensure!(self.rate > 0.0, "STORM_RATE must be positive");
        Ok(())
    }
}
