//! Password hashing under a sign-up flood: a bounded number of hashes at once,
//! a short queue, and a prompt `503` with `Retry-After` past it. (A test binary
//! of its own: it reads the process-wide metrics.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Gateway, Stack};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const IN_FLIGHT: &str = "gateway_password_hashes_in_flight";

/// Counts the events logged at WARN or above (the test installs it before
/// the gateway starts; the process's only subscriber).
struct Loud(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Loud {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The in-flight gauge as `/metrics` shows it, if it is there.
async fn in_flight(client: &reqwest::Client, metrics_url: &str) -> Option<u64> {
    let text = client
        .get(metrics_url)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(IN_FLIGHT)?.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

#[tokio::test]
async fn a_sign_up_flood_gets_prompt_503s_and_never_more_hashes_than_the_limit() {
    use tracing_subscriber::layer::SubscriberExt;
    let loud = Arc::new(AtomicU64::new(0));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Loud(loud.clone())),
    )
    .expect("the first subscriber of this test binary");
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.password_hash_concurrency = 1;
    config.password_hash_queue = 1;
    let gateway = Gateway::start(config).await;
    let client = reqwest::Client::new();
    let peak = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let sampler = tokio::spawn({
        let (client, url, peak, seen, stop) = (
            client.clone(),
            gateway.url("/metrics"),
            peak.clone(),
            seen.clone(),
            stop.clone(),
        );
        async move {
            while !stop.is_cancelled() {
                if let Some(n) = in_flight(&client, &url).await {
                    peak.fetch_max(n, Ordering::SeqCst);
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    });

    let flood = (0..16).map(|_| {
        let client = client.clone();
        let url = gateway.url("/api/auth/signup");
        async move {
            let started = Instant::now();
            let username = format!("flood_{}", &Uuid::new_v4().simple().to_string()[..8]);
            let response = client
                .post(url)
                .json(&json!({ "username": username, "password": "correct horse battery staple" }))
                .send()
                .await
                .expect("request");
            let status = response.status();
            let retry_after = response.headers().get(RETRY_AFTER).cloned();
            let body: Value = response.json().await.expect("json body");
            (status, retry_after, body, started.elapsed())
        }
    });
    let answers = futures::future::join_all(flood).await;
    stop.cancel();
    sampler.await.expect("sampler");

    let created = answers
        .iter()
        .filter(|a| a.0 == StatusCode::CREATED)
        .count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(created + busy.len(), 16, "only 201 or 503: {answers:?}");
    assert!(created >= 1, "the flood does not starve every sign-up");
    assert!(
        busy.len() >= 8,
        "past one hash and one waiting, sign-ups are refused: {created} created"
    );
    for (_, retry_after, body, elapsed) in busy {
        assert!(retry_after.is_some(), "a 503 says when to retry");
        assert_eq!(body["error"]["code"], "busy");
        assert!(
            *elapsed < Duration::from_secs(5),
            "refused promptly, not after waiting: {elapsed:?}"
        );
    }
    assert!(
        seen.load(Ordering::SeqCst) > 0,
        "the gauge {IN_FLIGHT} is exported"
    );
    assert!(
        peak.load(Ordering::SeqCst) <= 1,
        "never more hashes at once than PASSWORD_HASH_CONCURRENCY"
    );
    // A refusal a client can cause at will is counted (the metric), not
    // logged once per request: a flood must not become a log flood.
    assert_eq!(
        loud.load(Ordering::SeqCst),
        0,
        "warnings or errors logged during a flood of {} refusals",
        answers.len() - created
    );
}
