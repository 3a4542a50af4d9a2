//! Applies the schema migrations to `DATABASE_URL` and exits.

use anyhow::Context;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    chat_core::telemetry::init("info");
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is required")?;
    let pool = sqlx::PgPool::connect(&url)
        .await
        .context("cannot connect to Postgres")?;
    chat_core::db::migrate(&pool)
        .await
        .context("migration failed")?;
    tracing::info!("migrations applied");
    Ok(())
}
