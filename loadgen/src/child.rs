//! A service binary (a gateway, the writer) run as a child of a benchmark or
//! the soak, restarted with the same settings, killed with `kill -9`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A service binary run as a child, restarted with the same settings.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    program: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    ready_url: String,
    child: Option<Child>,
}

impl Proc {
    pub fn new(
        name: &str,
        program: PathBuf,
        env: Vec<(String, String)>,
        logs: &Path,
        port: u16,
    ) -> Self {
        Self {
            name: name.to_owned(),
            program,
            env,
            log: logs.join(format!("{name}.log")),
            ready_url: format!("http://127.0.0.1:{port}/readyz"),
            child: None,
        }
    }

    /// Starts it and waits until `/readyz` answers 200 (up to `timeout`).
    pub async fn start(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.program)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                anyhow::bail!(
                    "{} exited at start ({status}), see {}",
                    self.name,
                    self.log.display()
                );
            }
            let ready = http
                .get(&self.ready_url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} not ready on {} after {timeout:?}, see {}",
                self.name,
                self.ready_url,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `kill -9`; returns the pid it killed.
    pub async fn kill(&mut self) -> Option<u32> {
        let mut child = self.child.take()?;
        let pid = child.id();
        let _ = child.start_kill();
        let _ = child.wait().await;
        pid
    }
}
