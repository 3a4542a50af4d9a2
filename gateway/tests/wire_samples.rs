//! The wire samples the web client checks its schemas against
//! (`docs/wire-samples.json`), made from the real Rust types so that the two
//! sides cannot drift. Changing a frame or a body fails this test until the
//! file is regenerated: `UPDATE_WIRE_SAMPLES=1 cargo test -p chat-gateway --test wire_samples`,
//! after which the client's `samples.test.ts` fails until its schemas follow.

use chat_core::event::{EventExt, EventOp, ModAction, Moderation};
use chat_core::live::{DraftFrame, DraftSender, DraftState, DraftTag};
use chat_core::{ChatEvent, MessageKind, SequencedEvent};
use chat_gateway::db::rooms::{Member, MyRoom, Room};
use chat_gateway::db::users::User;
use chat_gateway::domain::{MemberRole, RoomKind};
use chat_gateway::error::{ErrorBody, ErrorDetail};
use chat_gateway::http::accounts::Session;
use chat_gateway::http::history::{History, HistoryMessage, Version, Versions};
use chat_gateway::http::history_view::{ModerationInfo, Reaction, ReplyPreview};
use chat_gateway::http::online::OnlinePage;
use chat_gateway::http::preview::{Preview, PreviewMessage, PreviewRoom};
use chat_gateway::http::rooms::DirectRoom;
use chat_gateway::http::tickets::Ticket;
use chat_gateway::presence_page::OnlineUser;
use chat_gateway::ws::protocol::{
    ClientFrame, ErrorCode, Limits, MessageFrame, RemovedReason, ServerFrame, Status, UserRef,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wire-samples.json");

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn at() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().expect("time")
}

fn alice() -> UserRef {
    UserRef {
        id: id(1),
        username: "alice".into(),
    }
}

fn record() -> SequencedEvent {
    let mut event = ChatEvent::new(
        id(10),
        id(1),
        "c-42",
        MessageKind::User,
        "hello <b>world</b>",
    );
    event.id = id(20);
    event.sender_name = "alice".into();
    event.sent_at = at();
    SequencedEvent {
        seq: 7,
        epoch: 1_795_000_000_000,
        event,
    }
}

/// One record of each room event besides a plain message.
fn events() -> Vec<SequencedEvent> {
    let target = Some(id(20));
    let exts = [
        (
            "reply to @bob",
            EventExt {
                reply_to: target,
                mentions: vec![id(2)],
                ..EventExt::default()
            },
        ),
        (
            "@room hello, edited",
            EventExt {
                op: EventOp::Edit,
                target,
                mention_room: true,
                ..EventExt::default()
            },
        ),
        (
            "",
            EventExt {
                op: EventOp::Delete,
                target,
                ..EventExt::default()
            },
        ),
        (
            "",
            EventExt {
                op: EventOp::React,
                target,
                emoji: Some("\u{1F44D}".into()),
                ..EventExt::default()
            },
        ),
        (
            "",
            EventExt {
                op: EventOp::Unreact,
                target,
                emoji: Some("\u{1F44D}".into()),
                ..EventExt::default()
            },
        ),
        (
            "Release planning",
            EventExt {
                op: EventOp::Topic,
                ..EventExt::default()
            },
        ),
        (
            "",
            EventExt {
                op: EventOp::Moderation,
                moderation: Some(Moderation {
                    action: ModAction::Ban,
                    user: Some(id(4)),
                    username: Some("mallory".into()),
                    seconds: None,
                    role: None,
                }),
                ..EventExt::default()
            },
        ),
    ];
    exts.into_iter()
        .enumerate()
        .map(|(i, (body, ext))| {
            let mut r = record();
            r.seq += 1 + i as i64;
            r.event.id = id(30 + i as u128);
            r.event.client_msg_id = format!("c-{}", 50 + i);
            r.event.body = body.into();
            r.event = r.event.with_ext(ext);
            r
        })
        .collect()
}

fn history_rows() -> Vec<HistoryMessage> {
    let user = |n: u128, name: &str| User {
        id: id(n),
        username: name.into(),
    };
    let row = |r: SequencedEvent| HistoryMessage {
        room: r.event.room_id,
        seq: r.seq,
        id: r.event.id,
        sender: user(1, "alice"),
        client_msg_id: r.event.client_msg_id,
        kind: r.event.kind,
        body: r.event.body,
        sent_at: r.event.sent_at,
        epoch: r.epoch,
        op: r.event.ext.op,
        target: r.event.ext.target,
        reply_to: r.event.ext.reply_to,
        emoji: r.event.ext.emoji,
        mentions: r.event.ext.mentions,
        mention_room: r.event.ext.mention_room,
        moderation: None,
        edited_at: None,
        edit_seq: None,
        deleted: false,
        state_seq: r.seq,
        reactions: vec![],
        reply_preview: None,
    };
    let mut message = row(record());
    message.body = "hello <b>world</b>, edited".into();
    message.edited_at = Some(at());
    message.edit_seq = Some(9);
    message.state_seq = 11;
    message.reactions = vec![Reaction {
        emoji: "\u{1F44D}".into(),
        count: 2,
        users: vec![user(1, "alice"), user(2, "bob")],
        me: true,
    }];
    let events = events();
    let mut reply = row(events[0].clone());
    reply.reply_preview = Some(ReplyPreview {
        id: id(20),
        seq: 7,
        sender: user(1, "alice"),
        body: "hello <b>world</b>, edited".into(),
        deleted: false,
    });
    let mut tombstone = row(events[1].clone());
    tombstone.op = EventOp::Message;
    tombstone.target = None;
    tombstone.mention_room = false;
    tombstone.body = String::new();
    tombstone.deleted = true;
    let mut ban = row(events[6].clone());
    ban.moderation = Some(ModerationInfo {
        action: ModAction::Ban,
        user: Some(user(4, "mallory")),
        seconds: None,
        role: None,
    });
    vec![message, reply, row(events[1].clone()), tombstone, ban]
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("serialisable")
}

fn server_frames() -> Vec<Value> {
    let room = id(10);
    let frames = [
        ServerFrame::Hello {
            protocol: 1,
            server: "gw-1",
            session: "0123456789abcdef",
            user: alice(),
            heartbeat_ms: 20_000,
            limits: Limits {
                max_body_chars: 4000,
                max_message_bytes: 32_768,
                messages_per_sec: 10,
                messages_burst: 30,
                max_rooms: 100,
            },
        },
        ServerFrame::Subscribed {
            room,
            epoch: 1_795_000_000_000,
            head_seq: 7,
            base_seq: 0,
            online_count: 2,
        },
        ServerFrame::Unsubscribed { room },
        ServerFrame::Ack {
            room,
            client_msg_id: "c-42",
            id: id(20),
            seq: 7,
            epoch: 1_795_000_000_000,
        },
        ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "too many messages; slow down",
            room: Some(room),
            client_msg_id: Some("c-43"),
            retry_after_ms: None,
        },
        ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow mode: wait before sending another message",
            room: Some(room),
            client_msg_id: Some("c-44"),
            retry_after_ms: Some(12_500),
        },
        ServerFrame::Error {
            code: ErrorCode::BadFrame,
            message: "not a valid frame of protocol 1",
            room: None,
            client_msg_id: None,
            retry_after_ms: None,
        },
        ServerFrame::Resync {
            room,
            reason: "lagging",
        },
        ServerFrame::Presence {
            room,
            user: alice(),
            online: true,
            status: Some(Status::Active),
        },
        ServerFrame::Presence {
            room,
            user: alice(),
            online: true,
            status: Some(Status::Away),
        },
        ServerFrame::Presence {
            room,
            user: alice(),
            online: false,
            status: None,
        },
        ServerFrame::Typing {
            room,
            user: alice(),
        },
        ServerFrame::MemberLeft {
            room,
            user: alice(),
        },
        ServerFrame::Pong { nonce: Some(3) },
        ServerFrame::Pong { nonce: None },
        ServerFrame::RoomRemoved {
            room,
            reason: RemovedReason::Kicked,
        },
        ServerFrame::RoomRemoved {
            room,
            reason: RemovedReason::Left,
        },
        ServerFrame::Read { room, seq: 7 },
    ];
    let mut out: Vec<Value> = frames.iter().map(to_value).collect();
    out.push(to_value(&ServerFrame::RoomAdded { room: &my_room() }));
    out.push(to_value(&MessageFrame::from_record(&record())));
    for event in events() {
        out.push(to_value(&MessageFrame::from_record(&event)));
    }
    // the bot's reply in progress, published by the bot and relayed as it is
    for (body, state) in [
        ("Two plus", DraftState::Streaming),
        ("", DraftState::Cancelled),
    ] {
        out.push(to_value(&DraftFrame {
            tag: DraftTag::Draft,
            room: id(10),
            id: id(21),
            reply_to: id(20),
            sender: DraftSender {
                id: id(3),
                username: "bot".into(),
            },
            body: body.into(),
            state,
        }));
    }
    out
}

fn my_room() -> MyRoom {
    MyRoom {
        id: id(11),
        name: "bob".into(),
        kind: RoomKind::Direct,
        created_at: at(),
        role: MemberRole::Member,
        topic: String::new(),
        slow_mode_seconds: 0,
        last_seq: 12,
        last_read_seq: 9,
        unread: 3,
        mentions: 1,
    }
}

fn client_frames() -> Vec<Value> {
    let room = id(10);
    let frames = vec![
        json!({"type": "subscribe", "room": room, "last_seq": 7, "epoch": 1_795_000_000_000_u64}),
        json!({"type": "subscribe", "room": room}),
        json!({"type": "unsubscribe", "room": room}),
        json!({"type": "send", "room": room, "client_msg_id": "c-42", "body": "hello"}),
        json!({"type": "send", "room": room, "client_msg_id": "c-43", "body": "hi @bob", "reply_to": id(20)}),
        json!({"type": "edit", "room": room, "client_msg_id": "c-44", "message": id(20), "body": "hello, edited"}),
        json!({"type": "delete", "room": room, "client_msg_id": "c-45", "message": id(20)}),
        json!({"type": "react", "room": room, "client_msg_id": "c-46", "message": id(20), "emoji": "\u{1F44D}"}),
        json!({"type": "unreact", "room": room, "client_msg_id": "c-47", "message": id(20), "emoji": "\u{1F44D}"}),
        json!({"type": "typing", "room": room}),
        json!({"type": "ping", "nonce": 3}),
        json!({"type": "ping"}),
        json!({"type": "auth", "token": "eyJhbGciOiJIUzI1NiJ9.e30.sig"}),
        json!({"type": "status", "status": "away"}),
        json!({"type": "status", "status": "active"}),
    ];
    for frame in &frames {
        serde_json::from_value::<ClientFrame>(frame.clone())
            .unwrap_or_else(|e| panic!("the gateway refuses its own sample {frame}: {e}"));
    }
    frames
}

fn room(kind: RoomKind, name: &str, member_count: Option<i64>) -> Room {
    Room {
        id: id(10),
        name: name.into(),
        kind,
        created_at: at(),
        member_count,
        role: Some(MemberRole::Moderator),
        topic: "Weekly planning".into(),
        slow_mode_seconds: 30,
    }
}

fn http() -> Value {
    let user = User {
        id: id(1),
        username: "alice".into(),
    };
    json!({
        "session": [to_value(&Session {
            user: user.clone(),
            access_token: "eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
        })],
        "ticket": [to_value(&Ticket { ticket: "ab".repeat(32), expires_in: 30 })],
        "user": [to_value(&user)],
        "room": [
            to_value(&room(RoomKind::Public, "general", Some(3))),
            to_value(&room(RoomKind::Private, "team", None)),
        ],
        "my_room": [to_value(&my_room())],
        "member": [to_value(&Member { id: id(1), username: "alice".into(), role: MemberRole::Owner })],
        "direct_room": [to_value(&DirectRoom { room: room(RoomKind::Direct, "bob", None) })],
        "online": [
            to_value(&OnlinePage {
                online: vec![
                    OnlineUser { id: id(1), username: "alice".into(), status: Status::Active },
                    OnlineUser { id: id(2), username: "bob".into(), status: Status::Away },
                ],
                online_count: 3,
                next: Some(id(2)),
            }),
            to_value(&OnlinePage { online: vec![], online_count: 0, next: None }),
        ],
        "history": [to_value(&History { messages: history_rows(), has_more: true })],
        "versions": [to_value(&Versions { versions: vec![
            Version { seq: 7, body: "hello <b>world</b>".into(), edited_at: at() },
            Version { seq: 9, body: "hello <b>world</b>, edited".into(), edited_at: at() },
        ] })],
        "preview": [to_value(&Preview { rooms: vec![
            PreviewRoom {
                id: id(12),
                name: "general".into(),
                topic: "Say hello".into(),
                members: 3,
                messages: vec![PreviewMessage { sender: user.clone(), body: "hello <b>world</b>".into(), sent_at: at() }],
            },
            PreviewRoom { id: id(13), name: "quiet".into(), topic: String::new(), members: 1, messages: vec![] },
        ] })],
        "error": [to_value(&ErrorBody {
            error: ErrorDetail { code: "forbidden", message: "not allowed".into() },
        })],
    })
}

#[test]
fn the_committed_wire_samples_match_the_rust_types() {
    let samples = json!({
        "server_frames": server_frames(),
        "client_frames": client_frames(),
        "http": http(),
    });
    let text = serde_json::to_string_pretty(&samples).expect("json") + "\n";
    if std::env::var_os("UPDATE_WIRE_SAMPLES").is_some() {
        std::fs::write(PATH, &text).expect("write docs/wire-samples.json");
        return;
    }
    // compared as JSON values: the key order of a serialised map depends on
    // serde_json's `preserve_order`, which other crates of the workspace turn on
    let committed: Value = std::fs::read_to_string(PATH)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    assert!(
        committed == samples,
        "docs/wire-samples.json is out of date with the Rust wire types: run \
         `UPDATE_WIRE_SAMPLES=1 cargo test -p chat-gateway --test wire_samples`, \
         then make the web client's schemas (frontend/src/wire) accept it"
    );
}
