//! Chat latency with and without a bot waiting on a stalled model, measured
//! in one run against the same services (`make bench`, see BENCHMARKS.md).
//!
//! Two users share a room on one gateway; one sends `BENCH_MESSAGES` messages
//! one after another, and the time from each send to the other user's
//! receipt is recorded. Baseline: no bot. Then the same with the bot in the
//! room, every one of its reply slots taken by a mention whose model request
//! is stalled (the fake Ollama never answers), and more mentions queued.
//! Settings: `BENCH_MESSAGES` (default 500).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use test_support::{FakeOllama, Script, bench_setting, wait_until};
use uuid::Uuid;

const REPLY_SLOTS: usize = 4;

/// Send-to-receipt latencies of `count` messages from `from` to `to`.
async fn measure(from: &mut Socket, to: &mut Socket, room: Uuid, count: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let client_msg_id = Uuid::new_v4().to_string();
        let started = Instant::now();
        from.send(json!({"type": "send", "room": room, "client_msg_id": client_msg_id, "body": format!("message {i}")}))
            .await;
        to.next_matching("the message", |f| {
            f["type"] == "message" && f["client_msg_id"] == client_msg_id.as_str()
        })
        .await;
        latencies.push(started.elapsed());
        if (i + 1) % 100 == 0 {
            eprintln!("  {}/{count} messages", i + 1);
        }
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn row(name: &str, mut latencies: Vec<Duration>, total: Duration) -> String {
    latencies.sort();
    format!(
        "| {name} | {:.2} | {:.2} | {:.2} | {:.0} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.len() as f64 / total.as_secs_f64()
    )
}

#[tokio::main]
async fn main() {
    let messages = bench_setting("BENCH_MESSAGES", 500);
    eprintln!("bench: {messages} messages per path, one at a time, alice -> bob");
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    ollama.set_default(Script::Stall {
        chunks: vec!["Thinking".into()],
    });
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("bench", "private").await;
    let mut b = invite_and_subscribe(&gateway, &alice, &bob, room).await;
    let mut a = alice.connect(gateway.addr).await;
    a.subscribe(room, None).await;
    // warm-up: connections, the room's sequencer state, the writer's group
    measure(&mut a, &mut b, room, 50).await;

    eprintln!("path 1/2: no bot");
    let started = Instant::now();
    let baseline = measure(&mut a, &mut b, room, messages).await;
    let baseline_total = started.elapsed();

    eprintln!("path 2/2: the bot waiting on a stalled model in every reply slot");
    let mut config = bot_config(&stack, &ollama);
    config.max_concurrent_replies = REPLY_SLOTS;
    config.stall_timeout_secs = 3600;
    config.reply_timeout_secs = 3600;
    config.user_replies_per_window = 1000;
    config.room_replies_per_window = 1000;
    let bot = Bot::start(config).await;
    invite_bot(&alice, room).await;
    for i in 0..REPLY_SLOTS * 2 {
        let ack = b
            .send_message(
                room,
                &Uuid::new_v4().to_string(),
                &format!("@bot question {i}"),
            )
            .await;
        assert_eq!(ack["type"], "ack");
    }
    wait_until("every reply slot to wait on the model", WAIT, || async {
        (ollama.open_responses() == REPLY_SLOTS).then_some(())
    })
    .await;
    let started = Instant::now();
    let with_bot = measure(&mut a, &mut b, room, messages).await;
    let with_bot_total = started.elapsed();
    assert_eq!(
        ollama.open_responses(),
        REPLY_SLOTS,
        "the model stayed stalled throughout"
    );

    println!("| path | p50 ms | p95 ms | p99 ms | messages/s (one at a time) |");
    println!("|---|---:|---:|---:|---:|");
    println!("{}", row("no bot (baseline)", baseline, baseline_total));
    println!(
        "{}",
        row(
            &format!(
                "bot waiting on a stalled model ({REPLY_SLOTS} requests open, {} mentions queued)",
                REPLY_SLOTS
            ),
            with_bot,
            with_bot_total
        )
    );
    ollama.release();
    bot.stop().await;
    gateway.stop().await;
}
