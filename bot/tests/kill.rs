//! The bot killed with SIGKILL in the middle of a reply and started again:
//! the mention still gets exactly one stored reply.

mod support;

use std::process::{Child, Command, Stdio};

use chat_bot::BotConfig;
use chat_bot::mention::reply_id;
use support::*;
use test_support::{FakeOllama, Script};

/// The `bot` binary with `config` in its environment.
fn spawn_bot_process(config: &BotConfig) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bot"))
        .env_clear()
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env("DATABASE_URL", &config.database_url)
        .env("KAFKA_BROKERS", &config.kafka.brokers)
        .env("KAFKA_TOPIC", &config.kafka.topic)
        .env("REDIS_URL", &config.sequencer.redis_url)
        .env("SEQUENCER_TTL_SECS", config.sequencer.ttl_secs.to_string())
        .env(
            "OLLAMA_URL",
            config.ollama_url.as_deref().unwrap_or_default(),
        )
        .env(
            "OLLAMA_MODEL",
            config.ollama_model.as_deref().unwrap_or_default(),
        )
        .env("BOT_GROUP_ID", &config.group_id)
        .env(
            "BOT_GROUP_INSTANCE_ID",
            config.group_instance_id.as_deref().unwrap_or_default(),
        )
        .env(
            "BOT_SESSION_TIMEOUT_MS",
            config.session_timeout_ms.to_string(),
        )
        .env("BOT_DRAFT_INTERVAL_MS", "0")
        .env(
            "BOT_HTTP_ADDR",
            format!("127.0.0.1:{}", test_support::free_port()),
        )
        .stdin(Stdio::null())
        .spawn()
        .expect("start the bot binary")
}

#[tokio::test]
async fn a_bot_killed_mid_reply_still_replies_exactly_once() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    // the first attempt stalls half-way; the next one answers
    ollama.push(Script::Stall {
        chunks: vec!["Half an ".into(), "answer".into()],
    });
    ollama.set_default(Script::reply("A whole answer."));
    let mut config = bot_config(&stack, &ollama);
    // static membership: the restarted process takes its partitions back at once
    config.group_instance_id = Some("bot-under-test".into());
    let mut bot = spawn_bot_process(&config);
    let alice = User::sign_up(&gateway, "alice").await;
    let (room, mut socket) = room_with_bot(&gateway, &alice).await;

    let mention = say(&mut socket, room, "@bot tell me everything").await;
    let draft = socket
        .next_matching("the half-written reply", |f| {
            f["type"] == "draft" && f["body"] == "Half an answer"
        })
        .await;
    assert_eq!(draft["id"], reply_id(mention).to_string());

    bot.kill().expect("SIGKILL the bot");
    bot.wait().expect("reap the bot");
    let mut bot = spawn_bot_process(&config);

    let reply = next_bot_message(&mut socket).await;
    assert_eq!(reply["id"], reply_id(mention).to_string());
    assert_eq!(reply["body"], "A whole answer.");
    bot_caught_up(&stack).await;
    let stored = wait_for_bot_messages(&stack.db.pool, room, 1).await;
    bot.kill().expect("stop the bot");
    bot.wait().expect("reap");

    assert_eq!(stored.len(), 1, "exactly one reply");
    assert_eq!(stored[0].0, reply_id(mention));
    assert_eq!(stored[0].2, "A whole answer.");
    assert_eq!(ollama.requests().len(), 2, "asked once per attempt");
}
