//! The bot's HTTP endpoint: liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `/healthz`, `/readyz` and `/metrics` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    pool: PgPool,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(pool);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Ready when Postgres answers (membership and history come from it). A
/// model that is down does not make the bot unready: it answers with notices.
async fn ready(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "postgres unavailable"),
    }
}

async fn render_metrics() -> String {
    let handle = crate::metrics::handle();
    handle.run_upkeep();
    handle.render()
}
