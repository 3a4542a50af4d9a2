//! The Postgres pool and the schema migrations embedded in every binary.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// The migrations in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pooled connection idle for less than this is handed out without a
/// check: sqlx pings each connection as it comes back to the pool, so it was
/// alive this recently (HikariCP's `aliveBypassWindowMs`, same value).
pub const CHECKED_WITHIN: Duration = Duration::from_millis(500);

/// Whether a connection idle for `idle_for` is pinged before it is handed out.
pub fn check_before_use(idle_for: Duration) -> bool {
    idle_for >= CHECKED_WITHIN
}

/// Opens a pool without connecting yet, so a service can start while Postgres is down
/// and wait for it instead of exiting.
///
/// sqlx's default pings every connection as it is acquired, a round trip
/// before each query's own. Here only a connection idle for
/// [`CHECKED_WITHIN`] or longer is pinged: under load, a query costs one
/// round trip. (One that Postgres dropped within that window fails its
/// query once, and is not returned to the pool.)
pub fn lazy_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if check_before_use(meta.idle_for) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options.application_name("chat")))
}

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
