//! The gateway's send metrics, measured exactly.
//!
//! The metrics recorder is process-wide, so this file holds this one test and
//! nothing else: every value it reads can only move by what this test does.
//! Keep other tests out of this file.

mod common;

use common::*;

const SENT: &str = "gateway_messages_sent_total";
const FAILED: &str = "gateway_send_failures_total";
const TIMED: &str = "gateway_send_duration_seconds_count";

/// The gateway's metrics page.
async fn scrape(gateway: &Gateway) -> String {
    reqwest::get(gateway.url("/metrics"))
        .await
        .expect("metrics request")
        .text()
        .await
        .expect("metrics text")
}

/// The sum of `name` over its label sets in `page` (0 when absent).
fn value(page: &str, name: &str) -> f64 {
    page.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn every_send_is_counted_and_timed_in_the_metrics() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("metrics", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let before = scrape(&gateway).await;

    for (id, body) in [("timed", "how long did I take?"), ("again", "and I?")] {
        let ack = socket.send_message(room, id, body).await;
        assert_eq!(ack["type"], "ack");
    }
    let refused = socket.send_message(room, "empty", "   ").await;
    assert_eq!(refused["type"], "error");

    let after = scrape(&gateway).await;
    let moved = |name: &str| value(&after, name) - value(&before, name);
    assert_eq!(moved(SENT), 2.0, "each acknowledged send is counted once");
    assert_eq!(moved(FAILED), 1.0, "the refused send is counted once");
    assert_eq!(moved(TIMED), 3.0, "every send is timed:\n{after}");
    // a histogram with buckets, so that dashboards can take quantiles
    assert!(after.contains("gateway_send_duration_seconds_bucket{le="));
    // each stage of the two sends that went through, under its own label
    // (the refused one stopped before the first stage ended)
    for stage in ["check", "dedupe", "produce", "sequence"] {
        let name = format!("gateway_send_stage_seconds_count{{stage=\"{stage}\"}}");
        assert_eq!(moved(&name), 2.0, "stage {stage}:\n{after}");
    }
}
