//! The soak's settings, from the environment (`scripts/soak.sh` sets the
//! stack's; the rest have defaults).

use std::path::PathBuf;
use std::time::Duration;

use crate::faults::{KINDS, Services};
use crate::procs::{Proc, Stack};

/// `soak`'s configuration.
#[derive(Debug, clap::Parser)]
pub struct SoakConfig {
    /// How long to send and inject faults.
    #[arg(long, env = "SOAK_SECONDS", default_value_t = 300)]
    pub seconds: u64,
    /// The RNG seed of the fault schedule and the clients (default: the time).
    #[arg(long, env = "SOAK_SEED")]
    pub seed: Option<u64>,
    /// Connected users, one connection each.
    #[arg(long, env = "SOAK_CLIENTS", default_value_t = 20)]
    pub clients: usize,
    /// Rooms of the run.
    #[arg(long, env = "SOAK_ROOMS", default_value_t = 5)]
    pub rooms: usize,
    /// Rooms each user joins and sends to.
    #[arg(long, env = "SOAK_ROOMS_PER_CLIENT", default_value_t = 2)]
    pub rooms_per_client: usize,
    /// New messages per second, all clients together.
    #[arg(long, env = "SOAK_RATE", default_value_t = 60.0)]
    pub rate: f64,
    /// Shortest time between two faults.
    #[arg(long, env = "SOAK_FAULT_GAP_MIN_SECS", default_value_t = 15)]
    pub fault_gap_min_secs: u64,
    /// Longest time between two faults.
    #[arg(long, env = "SOAK_FAULT_GAP_MAX_SECS", default_value_t = 45)]
    pub fault_gap_max_secs: u64,
    /// Longest outage (a killed service stays down 0.5 s to this long).
    #[arg(long, env = "SOAK_OUTAGE_MAX_SECS", default_value_t = 8.0)]
    pub outage_max_secs: f64,
    /// The kinds of fault to draw from, comma-separated (default: all of
    /// gateway, writer, redis, redis-rollback, kafka, postgres).
    #[arg(
        long,
        env = "SOAK_FAULTS",
        default_value = "gateway,writer,redis,redis-rollback,kafka,postgres"
    )]
    pub faults: String,
    /// Bytes a `redis-rollback` cuts from the end of Redis' append-only file
    /// (about a second of writes at the default rate).
    #[arg(long, env = "SOAK_REDIS_LOSS_BYTES", default_value_t = 131_072)]
    pub redis_loss_bytes: u64,
    /// How long the drain (resend until acknowledged) and the writer's catch-up may take, each.
    #[arg(long, env = "SOAK_DRAIN_SECS", default_value_t = 180)]
    pub drain_secs: u64,
    /// Directory with the `gateway` and `writer` binaries.
    #[arg(long, env = "SOAK_BIN_DIR")]
    pub bin_dir: PathBuf,
    /// Where logs go.
    #[arg(long, env = "SOAK_LOG_DIR")]
    pub log_dir: PathBuf,
    /// The soak's stack directory (`STACK_DIR` of `scripts/stack.sh`).
    #[arg(long, env = "STACK_DIR")]
    pub stack_dir: PathBuf,
    /// `scripts/stack.sh`, run to start a killed Postgres, Redis or Kafka.
    #[arg(long, env = "SOAK_STACK_SCRIPT")]
    pub stack_script: PathBuf,
    /// nginx's site port.
    #[arg(long, env = "SOAK_SITE_PORT")]
    pub site_port: u16,
    #[arg(long, env = "SOAK_GATEWAY_1_PORT")]
    pub gateway_1_port: u16,
    #[arg(long, env = "SOAK_GATEWAY_2_PORT")]
    pub gateway_2_port: u16,
    #[arg(long, env = "SOAK_WRITER_PORT")]
    pub writer_port: u16,
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,
    #[arg(long, env = "KAFKA_BROKERS")]
    pub kafka_brokers: String,
    #[arg(long, env = "KAFKA_TOPIC", default_value = "chat.messages")]
    pub kafka_topic: String,
}

impl SoakConfig {
    /// `SOAK_FAULTS` as names of [`KINDS`].
    pub fn fault_kinds(&self) -> anyhow::Result<Vec<&'static str>> {
        let mut kinds = Vec::new();
        for name in self
            .faults
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let kind = KINDS.iter().find(|k| **k == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "SOAK_FAULTS: unknown fault {name:?} (known: {})",
                    KINDS.join(", ")
                )
            })?;
            kinds.push(*kind);
        }
        anyhow::ensure!(!kinds.is_empty(), "SOAK_FAULTS names no fault");
        Ok(kinds)
    }

    pub fn ready_timeout(&self) -> Duration {
        Duration::from_secs(90)
    }

    /// The writer and the two gateways, not started yet. They inherit this
    /// process' environment (the stack's URLs); these settings come on top.
    pub fn services(&self) -> Services {
        let gateway = |n: u8, port: u16| {
            Proc::new(
                &format!("gateway-{n}"),
                self.bin_dir.join("gateway"),
                vec![
                    ("GATEWAY_ADDR".into(), format!("127.0.0.1:{port}")),
                    ("GATEWAY_INSTANCE_ID".into(), format!("gateway-{n}")),
                ],
                &self.log_dir,
                port,
            )
        };
        Services {
            gateways: vec![
                gateway(1, self.gateway_1_port),
                gateway(2, self.gateway_2_port),
            ],
            writer: Proc::new(
                "writer",
                self.bin_dir.join("writer"),
                vec![
                    (
                        "WRITER_HTTP_ADDR".into(),
                        format!("127.0.0.1:{}", self.writer_port),
                    ),
                    ("WRITER_GROUP_INSTANCE_ID".into(), "writer-1".into()),
                ],
                &self.log_dir,
                self.writer_port,
            ),
            stack: Stack::new(&self.stack_dir, self.stack_script.clone(), &self.log_dir),
        }
    }
}
