//! A model that stalls, fails or answers garbage: at most one short notice,
//! or silence, and the chat goes on as if there were no bot.

mod support;

use chat_bot::mention::reply_id;
use support::*;
use test_support::{FakeOllama, Script, wait_until};

const NOTICE: &str = "Sorry, I can't answer right now.";

#[tokio::test]
async fn a_stalled_model_gets_one_notice_while_the_chat_flows_on() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    ollama.set_default(Script::Stall {
        chunks: vec!["Let me think".into()],
    });
    let mut config = bot_config(&stack, &ollama);
    config.stall_timeout_secs = 8;
    config.reply_timeout_secs = 8;
    let bot = Bot::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let (room, mut a) = room_with_bot(&gateway, &alice).await;
    let mut b = invite_and_subscribe(&gateway, &alice, &bob, room).await;

    let mention = say(&mut a, room, "@bot a hard question").await;
    let draft = a.next_of("draft").await;
    assert_eq!(draft["body"], "Let me think");
    assert_eq!(ollama.open_responses(), 1, "the model is stalled");

    // while the bot waits on the model, people keep talking, in order
    let mut sent = Vec::new();
    for i in 0..30 {
        let (socket, name) = if i % 2 == 0 {
            (&mut a, "a")
        } else {
            (&mut b, "b")
        };
        let ack = socket
            .send_message(room, &format!("{name}-{i}"), &format!("message {i}"))
            .await;
        assert_eq!(ack["type"], "ack");
        sent.push(ack["seq"].as_i64().expect("seq"));
    }
    for socket in [&mut a, &mut b] {
        for &seq in &sent {
            let frame = socket
                .next_matching("a chat message", |f| {
                    f["type"] == "message" && f["kind"] == "user" && f["seq"] == seq
                })
                .await;
            assert_eq!(frame["seq"], seq);
        }
    }
    assert_eq!(
        ollama.open_responses(),
        1,
        "all of that happened while the model was still stalled"
    );

    // the stall timeout ends the wait: one notice, replacing the draft
    let notice = next_bot_message(&mut a).await;
    assert_eq!(notice["body"], NOTICE);
    assert_eq!(notice["id"], reply_id(mention).to_string());
    wait_until("the stalled request to be dropped", WAIT, || async {
        (ollama.open_responses() == 0).then_some(())
    })
    .await;

    // a second failure within the cooldown stays silent: the draft is withdrawn
    say(&mut a, room, "@bot still there?").await;
    let cancelled = a
        .next_matching("a cancelled draft", |f| {
            f["type"] == "draft" && f["state"] == "cancelled"
        })
        .await;
    assert_eq!(cancelled["body"], "");
    bot_caught_up(&stack).await;
    let stored = wait_for_bot_messages(&stack.db.pool, room, 1).await;
    assert_eq!(stored.len(), 1, "at most one notice");
    assert_eq!(stored[0].2, NOTICE);
    bot.stop().await;
}

#[tokio::test]
async fn garbage_an_error_mid_stream_and_a_dead_model_each_get_a_notice() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    ollama.push(Script::Garbage);
    ollama.push(Script::ErrorMidStream {
        chunks: vec!["Half".into()],
        message: "llama runner process has terminated: signal: killed".into(),
    });
    ollama.push(Script::Error {
        status: 500,
        message: "model requires more system memory than is available".into(),
    });
    let mut config = bot_config(&stack, &ollama);
    // a notice per failure here (no cooldown to speak of), one reply at a time
    config.failure_notice_cooldown_secs = 0;
    config.max_concurrent_replies = 1;
    let bot = Bot::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let (room, mut socket) = room_with_bot(&gateway, &alice).await;

    let mut mentions = Vec::new();
    for question in ["@bot one", "@bot two", "@bot three"] {
        mentions.push(say(&mut socket, room, question).await);
    }
    for mention in &mentions {
        let notice = socket
            .next_matching("the notice", |f| {
                f["type"] == "message" && f["id"] == reply_id(*mention).to_string()
            })
            .await;
        assert_eq!(notice["body"], NOTICE);
    }
    bot_caught_up(&stack).await;
    let stored = wait_for_bot_messages(&stack.db.pool, room, 3).await;
    assert_eq!(
        stored.len(),
        3,
        "one notice per failed mention, nothing else"
    );
    bot.stop().await;
}

#[tokio::test]
async fn without_a_notice_a_failed_reply_is_withdrawn_and_nothing_is_stored() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    ollama.set_default(Script::ErrorMidStream {
        chunks: vec!["Par".into(), "tial".into()],
        message: "unexpected EOF".into(),
    });
    let mut config = bot_config(&stack, &ollama);
    config.failure_notice = String::new();
    let bot = Bot::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let (room, mut socket) = room_with_bot(&gateway, &alice).await;

    let mention = say(&mut socket, room, "@bot hello?").await;
    let cancelled = socket
        .next_matching("a cancelled draft", |f| {
            f["type"] == "draft" && f["state"] == "cancelled"
        })
        .await;
    assert_eq!(cancelled["id"], reply_id(mention).to_string());
    bot_caught_up(&stack).await;
    assert!(stored_bot_messages(&stack.db.pool, room).await.is_empty());
    // and the room still works
    say(&mut socket, room, "fine, never mind").await;
    bot.stop().await;
}
