//! A dedicated `redis-server` process on a free port, without persistence
//! unless asked for snapshots (to restart it from one that lacks its last writes).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Redis that dies with this value. Restarting it loses every key,
/// as a Redis without persistence does.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Where snapshots are written and loaded from, if this server keeps them.
    snapshots: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// Starts a new server and waits until it answers.
    pub fn start() -> Self {
        let mut server = Self {
            port: crate::free_port(),
            child: None,
            snapshots: None,
        };
        server.spawn();
        server
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// Starts a server that writes a snapshot (RDB) when asked, and loads it
    /// when restarted: [`RedisServer::snapshot`], [`RedisServer::restart_from_snapshot`].
    pub fn start_with_snapshots() -> Self {
        let mut server = Self {
            port: crate::free_port(),
            child: None,
            snapshots: Some(tempfile::tempdir().expect("snapshot directory")),
        };
        server.spawn();
        server
    }

    /// Writes a snapshot of every key now (`SAVE`).
    pub fn snapshot(&self) {
        assert!(self.snapshots.is_some(), "started with snapshots");
        let client = redis::Client::open(self.url()).expect("valid redis url");
        let mut conn = client.get_connection().expect("redis answers");
        redis::cmd("SAVE").query::<()>(&mut conn).expect("SAVE");
    }

    /// Kills the server (SIGKILL, so nothing more is saved) and starts it again
    /// from the last snapshot: every write after it is lost, as after a crash
    /// of a Redis whose persistence lags (`appendfsync everysec`, RDB).
    pub fn restart_from_snapshot(&mut self) {
        assert!(self.snapshots.is_some(), "started with snapshots");
        self.kill();
        self.spawn();
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A connection manager to this server, as a gateway holds one.
    pub async fn manager(&self) -> redis::aio::ConnectionManager {
        let client = redis::Client::open(self.url()).expect("redis url");
        redis::aio::ConnectionManager::new(client)
            .await
            .expect("redis")
    }

    /// Kills the server (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills and starts it again on the same port, empty.
    pub fn restart_empty(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no"])
            .args(["--maxmemory-policy", "noeviction"]);
        if let Some(dir) = &self.snapshots {
            command.arg("--dir").arg(dir.path());
            command.args(["--dbfilename", "dump.rdb"]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/deps.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(self.url()).expect("valid redis url");
        loop {
            if let Ok(mut conn) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
