//! The processes a soak kills: the writer and the gateways (children of this
//! process, [`Proc`]), and Postgres, Redis and Kafka (run by `scripts/stack.sh` from
//! the soak's own stack directory, found by their pid files).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub use loadgen::child::Proc;
use tokio::process::Command;

/// A service of the soak's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Infra {
    Postgres,
    Redis,
    Kafka,
}

impl Infra {
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redis => "redis",
            Self::Kafka => "kafka",
        }
    }
}

/// Postgres, Redis and Kafka of the soak's stack directory.
#[derive(Debug)]
pub struct Stack {
    /// `$STACK_DIR/dev`.
    profile_dir: PathBuf,
    /// `scripts/stack.sh`.
    script: PathBuf,
    log: PathBuf,
}

impl Stack {
    pub fn new(stack_dir: &Path, script: PathBuf, logs: &Path) -> Self {
        Self {
            profile_dir: stack_dir.join("dev"),
            script,
            log: logs.join("stack-restarts.log"),
        }
    }

    fn pidfile(&self, infra: Infra) -> PathBuf {
        match infra {
            Infra::Postgres => self.profile_dir.join("postgres/data/postmaster.pid"),
            Infra::Redis => self.profile_dir.join("redis/redis.pid"),
            Infra::Kafka => self.profile_dir.join("kafka/kafka.pid"),
        }
    }

    /// `kill -9` of the service's main process (Postgres: the postmaster,
    /// whose backends then exit); returns its pid.
    pub fn kill(&self, infra: Infra) -> anyhow::Result<i32> {
        let text = std::fs::read_to_string(self.pidfile(infra))?;
        let pid: i32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no pid in {}", self.pidfile(infra).display()))?;
        kill(Pid::from_raw(pid), Signal::SIGKILL)?;
        Ok(pid)
    }

    /// Cuts the last `bytes` of Redis' newest incremental append-only file
    /// (Redis is down): Redis comes back without its last writes, as after
    /// a power loss with `appendfsync everysec`, or as a lagging replica
    /// promoted. Redis loads a file cut mid-command (`aof-load-truncated`).
    /// Returns the bytes cut.
    pub fn drop_aof_tail(&self, bytes: u64) -> anyhow::Result<u64> {
        let dir = self.profile_dir.join("redis/appendonlydir");
        let mut newest: Option<(u64, PathBuf)> = None;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(n) = name
                .strip_suffix(".incr.aof")
                .and_then(|rest| rest.rsplit('.').next())
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if newest.as_ref().is_none_or(|(m, _)| n > *m) {
                newest = Some((n, path));
            }
        }
        let (_, path) =
            newest.ok_or_else(|| anyhow::anyhow!("no *.incr.aof in {}", dir.display()))?;
        let file = std::fs::OpenOptions::new().write(true).open(&path)?;
        let len = file.metadata()?.len();
        let cut = bytes.min(len);
        file.set_len(len - cut)?;
        Ok(cut)
    }

    /// `scripts/stack.sh up dev`: starts whatever is not running and waits
    /// for it; retried (a killed postmaster's backends take a moment to go).
    pub async fn start(&self) -> anyhow::Result<()> {
        let mut last = None;
        for _ in 0..10 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)?;
            let status = Command::new(&self.script)
                .args(["up", "dev"])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .status()
                .await?;
            if status.success() {
                return Ok(());
            }
            last = Some(status);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        anyhow::bail!(
            "stack.sh up dev failed ({last:?}), see {}",
            self.log.display()
        )
    }
}
