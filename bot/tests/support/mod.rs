//! Helpers for the bot's tests: the gateway's test stack (fresh database,
//! dedicated Redis, fresh topics, a writer, gateways on port 0) plus the fake
//! Ollama server and the bot, in this process or as its own process.
#![allow(dead_code, reason = "each test file uses a different subset")]

#[path = "../../../gateway/tests/common/mod.rs"]
pub mod common;

use std::time::Duration;

use chat_bot::BotConfig;
use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;
pub use common::*;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::{FakeOllama, kafka, wait_until};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const MODEL: &str = "tiny:latest";
pub const PARTITIONS: i32 = 4;

/// Bot settings for `stack` and `ollama`, quick enough for tests.
pub fn bot_config(stack: &Stack, ollama: &FakeOllama) -> BotConfig {
    BotConfig {
        database_url: stack.db.url.clone(),
        db_max_connections: 4,
        kafka: KafkaConfig {
            brokers: stack.topics.brokers.clone(),
            topic: stack.topics.topic.clone(),
            dlq_topic: stack.topics.dlq.clone(),
        },
        sequencer: SequencerConfig {
            redis_url: stack.redis.url(),
            tail_len: 1000,
            ttl_secs: 3600,
        },
        ollama_url: Some(ollama.url()),
        ollama_model: Some(MODEL.into()),
        pull_model: true,
        username: "bot".into(),
        system_prompt: None,
        context_messages: 20,
        context_chars: 8000,
        max_reply_chars: 1500,
        max_tokens: 256,
        reply_timeout_secs: 20,
        stall_timeout_secs: 10,
        failure_notice: "Sorry, I can't answer right now.".into(),
        failure_notice_cooldown_secs: 3600,
        room_replies_per_window: 100,
        user_replies_per_window: 100,
        rate_window_secs: 3600,
        max_mention_age_secs: 300,
        max_concurrent_replies: 4,
        draft_interval_ms: 0,
        group_id: bot_group(stack),
        group_instance_id: None,
        session_timeout_ms: 6000,
        http_addr: "127.0.0.1:0".parse().expect("addr"),
    }
}

/// The bot's consumer group in `stack`.
pub fn bot_group(stack: &Stack) -> String {
    format!("{}.bot", stack.topics.group)
}

/// A bot running in the test process.
pub struct Bot {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), chat_bot::BotError>>,
}

impl Bot {
    pub async fn start(config: BotConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chat_bot::run(config, listener, shutdown.clone()));
        Self { shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the bot stops within the deadline")
            .expect("the bot task ends without a panic");
        result.expect("the bot ends without an error");
    }
}

/// `owner` invites `guest` into `room`, and `guest`'s socket subscribes to it.
pub async fn invite_and_subscribe(
    gateway: &Gateway,
    owner: &User,
    guest: &User,
    room: Uuid,
) -> Socket {
    let invited = owner
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": guest.username }),
        )
        .await;
    assert!(
        invited.status().is_success(),
        "invited: {}",
        invited.status()
    );
    let mut socket = guest.connect(gateway.addr).await;
    socket.subscribe(room, None).await;
    socket
}

/// Invites the bot into `room`, once the bot has created its account.
pub async fn invite_bot(owner: &User, room: Uuid) {
    wait_until("the bot's account to be invitable", WAIT, || async {
        let response = owner
            .post(
                &format!("/api/rooms/{room}/invite"),
                json!({ "username": "bot" }),
            )
            .await;
        response.status().is_success().then_some(())
    })
    .await;
}

/// A room of `owner`'s with the bot in it, and `owner`'s socket subscribed to it.
pub async fn room_with_bot(gateway: &Gateway, owner: &User) -> (Uuid, Socket) {
    let room = owner.create_room("with the bot", "private").await;
    invite_bot(owner, room).await;
    let mut socket = owner.connect(gateway.addr).await;
    socket.subscribe(room, None).await;
    (room, socket)
}

/// Sends `body` and returns the message's id from the ack.
pub async fn say(socket: &mut Socket, room: Uuid, body: &str) -> Uuid {
    let ack = socket
        .send_message(room, &Uuid::new_v4().to_string(), body)
        .await;
    assert_eq!(ack["type"], "ack", "message accepted: {ack}");
    ack["id"].as_str().expect("id").parse().expect("uuid")
}

/// The next `message` frame written by the bot.
pub async fn next_bot_message(socket: &mut Socket) -> Value {
    socket
        .next_matching("a message from the bot", |f| {
            f["type"] == "message" && f["kind"] == "bot"
        })
        .await
}

/// Waits until the bot's group has finished with every record of the topic:
/// whatever the bot was going to do about the messages so far, it has done.
pub async fn bot_caught_up(stack: &Stack) {
    let (brokers, group, topic) = (
        stack.topics.brokers.clone(),
        bot_group(stack),
        stack.topics.topic.clone(),
    );
    wait_until("the bot to finish with every record", WAIT, || {
        let (brokers, group, topic) = (brokers.clone(), group.clone(), topic.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                kafka::caught_up(&brokers, &group, &topic, PARTITIONS)
            })
            .await
            .expect("offsets task")
            .then_some(())
        }
    })
    .await;
}

/// The bot's stored messages in `room`: (id, seq, body, client_msg_id), by seq.
pub async fn stored_bot_messages(pool: &PgPool, room: Uuid) -> Vec<(Uuid, i64, String, String)> {
    sqlx::query_as(
        "SELECT m.id, m.seq, m.body, m.client_msg_id FROM messages m \
         JOIN users u ON u.id = m.sender_id \
         WHERE m.room_id = $1 AND u.is_bot AND m.kind = 'bot' ORDER BY m.seq",
    )
    .bind(room)
    .fetch_all(pool)
    .await
    .expect("bot messages")
}

/// Waits until `room` has `count` stored bot messages and returns them.
pub async fn wait_for_bot_messages(
    pool: &PgPool,
    room: Uuid,
    count: usize,
) -> Vec<(Uuid, i64, String, String)> {
    wait_until("the bot's messages to be stored", WAIT, || async {
        let stored = stored_bot_messages(pool, room).await;
        (stored.len() >= count).then_some(stored)
    })
    .await
}

/// A pause short enough to keep tests quick and long enough for a few chunks.
pub const GAP: Duration = Duration::from_millis(30);
