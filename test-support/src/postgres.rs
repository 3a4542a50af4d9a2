//! Postgres for tests: a fresh database on the shared server, or a dedicated
//! server process that a test may stop and start.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use uuid::Uuid;

/// A new, migrated database on the shared test server, named after nothing
/// but a fresh uuid so that tests never see each other's rows.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub pool: PgPool,
}

impl TestDatabase {
    /// Creates and migrates a database on the server of `TEST_DATABASE_URL`.
    pub async fn new() -> Self {
        Self::on_server(&crate::required_env("TEST_DATABASE_URL")).await
    }

    /// Creates and migrates a database on the server `admin_url` points at.
    pub async fn on_server(admin_url: &str) -> Self {
        let name = format!("t_{}", Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .expect("the test Postgres is reachable");
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(admin_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .expect("connect to the test database");
        chat_core::db::migrate(&pool)
            .await
            .expect("migrations apply");
        Self { url, pool }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rsplit_once('/') {
        Some((server, _db)) if server.contains("//") && !server.ends_with('/') => server,
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A Postgres server of its own, in a temporary directory, on a free port.
#[derive(Debug)]
pub struct PostgresServer {
    port: u16,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl PostgresServer {
    /// Initialises and starts a new cluster (a second or two).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("chat-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        give_to_postgres_user(dir.path());
        give_to_postgres_user(&data);
        run(pg_command("initdb")
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(&data));
        let server = Self {
            port: crate::free_port(),
            data,
            _dir: dir,
        };
        server.start_again();
        server
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn stop(&self) {
        run(pg_command("pg_ctl")
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.data));
    }

    /// Starts the stopped server on the same port and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' -c fsync=off",
            self.port,
            self.data.display()
        );
        run(pg_command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-o", &options]));
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = pg_command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output();
    }
}

/// The directory of the newest installed Postgres' binaries.
fn pg_bindir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .expect("Postgres is installed under /usr/lib/postgresql (scripts/deps.sh)")
}

/// Postgres refuses to run as root: as root, commands run as the `postgres` user.
fn pg_command(program: &str) -> Command {
    let mut command = Command::new(pg_bindir().join(program));
    if let Some(user) = postgres_user() {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    command
}

fn postgres_user() -> Option<nix::unistd::User> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .or_else(|| panic!("running as root needs the `postgres` user (scripts/deps.sh)"))
}

fn give_to_postgres_user(path: &Path) {
    if let Some(user) = postgres_user() {
        nix::unistd::chown(path, Some(user.uid), Some(user.gid)).expect("chown to postgres");
    }
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("postgres tool runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}
