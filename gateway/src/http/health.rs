//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// The process is up.
pub async fn live() -> &'static str {
    "ok"
}

/// Ready when Postgres and Redis answer: without them no request can succeed.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if sqlx::query("SELECT 1").execute(&state.pool).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "postgres unavailable");
    }
    let pong: Result<String, _> = redis::cmd("PING")
        .query_async(&mut state.redis.clone())
        .await;
    if pong.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable");
    }
    (StatusCode::OK, "ready")
}

/// Prometheus text exposition.
pub async fn metrics() -> String {
    let handle = crate::metrics::handle();
    handle.run_upkeep();
    handle.render()
}
