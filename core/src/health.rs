//! What every background service (writer, bot) serves over HTTP: liveness,
//! readiness (Postgres answers) and its Prometheus metrics, plus the
//! process-wide Prometheus recorder they render.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `/healthz`, `/readyz` (200 while Postgres answers) and `/metrics`
/// (the recorder of [`recorder`]) until `shutdown`.
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

async fn ready(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "postgres unavailable"),
    }
}

async fn render_metrics() -> String {
    match RECORDER.get() {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Bucket bounds, in seconds, of histograms without buckets of their own.
const DEFAULT_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process-wide recorder, installed by the first caller with its histogram
/// `buckets` (metric name, upper bounds); `describe` runs once, after install.
/// Tests start several services in one process: they share it.
pub fn recorder(buckets: &[(&str, &[f64])], describe: fn()) -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        // every histogram gets buckets (not a summary), also those of a
        // service that did not install the recorder (tests run several in one process)
        let base = PrometheusBuilder::new()
            .set_buckets(DEFAULT_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let builder = buckets
            .iter()
            .try_fold(base, |b, (name, bounds)| {
                b.set_buckets_for_metric(Matcher::Full((*name).to_owned()), bounds)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            describe();
        }
        handle
    })
}
