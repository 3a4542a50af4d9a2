//! A small run of the `fanout` load generator against the chat (two
//! gateways and a writer from this build) and its bare baselines: every
//! acknowledged message reaches every subscriber once and in seq order, and
//! the report carries each figure. Needs the test stack (`make test`) and
//! the workspace's binaries built (`cargo build --workspace`).

use std::process::Command;

use serde_json::Value;

#[test]
fn a_small_fanout_run_loses_duplicates_and_reorders_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args([
            "--connections",
            "20",
            "--room-size",
            "10",
            "--senders-per-room",
            "2",
        ])
        // two runs: the second reuses the first's users and connections' numbers
        .args([
            "--rates",
            "20",
            "--seconds",
            "2",
            "--warmup",
            "1",
            // the priming's path, briefly (its default is a minute)
            "--prime",
            "1",
            "--prime-rate",
            "10",
            // the ladder's figures, of a ladder of one rate
            "--saturation",
            "--runs",
            "2",
            "--json",
        ])
        .output()
        .expect("fanout runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "fanout failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for target in ["chat", "bare broadcast", "bare producer"] {
        let runs: Vec<&Value> = rows.iter().filter(|r| r["target"] == target).collect();
        assert_eq!(runs.len(), 2, "{target}: two runs in:\n{stdout}");
        for row in runs {
            for field in ["lost", "duplicated", "out_of_order", "refused", "resynced"] {
                assert_eq!(row[field], 0, "{target}: {field} in {row}");
            }
            assert!(
                row["throughput"].as_f64().is_some_and(|t| t > 0.0),
                "{target}: {row}"
            );
            if target != "bare producer" {
                // the open-loop rate, every message to its room's 10 members:
                // 20 a second over 4 senders, each due 10 times (±1) in the
                // 2 s window
                let delivered = row["throughput"].as_f64().unwrap_or_default();
                assert!(
                    (180.0..=220.0).contains(&delivered),
                    "{target}: {delivered} deliveries/s, not 20 messages/s × 10 members: {row}"
                );
            }
            assert!(
                row["p99_ms"].as_f64().is_some_and(|t| t > 0.0),
                "{target}: {row}"
            );
        }
    }
    // the produce cost: CPU per message of each chat run and of the producer
    // run beside it, and their ratio (null when a run this short used less
    // than the one clock tick /proc counts in)
    for row in rows
        .iter()
        .filter(|r| r["target"] == "chat" || r["target"] == "bare producer")
    {
        assert!(
            row["cpu_us_per_message"].as_f64().is_some_and(|v| v >= 0.0),
            "no cpu_us_per_message in {row}"
        );
        if row["target"] == "chat" {
            let ratio = &row["produce_cost_ratio"];
            assert!(
                ratio.is_null() || ratio.as_f64().is_some_and(|v| v > 0.0),
                "produce_cost_ratio in {row}"
            );
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("priming: the chat at 10 messages/s"),
        "the priming not at --prime-rate:\n{stderr}"
    );
    // 20 messages/s into rooms of 10 held, and no rate above it failed
    assert!(
        stdout.lines().any(|l| l.starts_with("highest rate held")
            && l.contains(": at least 200 deliveries/s (every rate run held)")),
        "no highest rate held in:\n{stdout}"
    );
    assert!(
        stdout.contains("| produce cost ratio |"),
        "no produce cost table in:\n{stdout}"
    );
    assert!(
        stdout.contains("| sent_at → row committed (writer) |"),
        "no writer stage in:\n{stdout}"
    );
    let chat = rows
        .iter()
        .find(|r| r["target"] == "chat")
        .expect("chat row");
    let costs = chat["costs"].as_array().expect("costs");
    for process in ["gateway-1", "gateway-2", "writer", "redis"] {
        assert!(
            costs
                .iter()
                .any(|c| c["name"] == process && c["peak_rss_kib"].as_u64() > Some(0)),
            "no cost of {process} in {chat}"
        );
    }
    // the floor has the chat's shape: one bare producer per gateway, each
    // at its share of the rate, each costed
    let producer = rows
        .iter()
        .find(|r| r["target"] == "bare producer")
        .expect("producer row");
    let costs = producer["costs"].as_array().expect("costs");
    for process in ["producer-1", "producer-2"] {
        assert!(
            costs
                .iter()
                .any(|c| c["name"] == process && c["peak_rss_kib"].as_u64() > Some(0)),
            "no cost of {process} in {producer}"
        );
    }
}
