//! The writer's HTTP endpoint: liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct HealthState {
    pool: PgPool,
}

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
        .with_state(HealthState { pool });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Ready when Postgres answers: without it the writer cannot make progress.
async fn ready(State(state): State<HealthState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "postgres unavailable"),
    }
}

async fn render_metrics() -> String {
    let handle = crate::metrics::handle();
    handle.run_upkeep();
    handle.render()
}
