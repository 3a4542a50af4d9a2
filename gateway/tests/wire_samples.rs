//! The wire samples the web client checks its schemas against
//! (`docs/wire-samples.json`), made from the real Rust types so that the two
//! sides cannot drift. Changing a frame or a body fails this test until the
//! file is regenerated: `UPDATE_WIRE_SAMPLES=1 cargo test -p chat-gateway --test wire_samples`,
//! after which the client's `samples.test.ts` fails until its schemas follow.

use chat_core::live::{DraftFrame, DraftSender, DraftState, DraftTag};
use chat_core::{ChatEvent, MessageKind, SequencedEvent};
use chat_gateway::db::rooms::{Member, MyRoom, Room};
use chat_gateway::db::users::User;
use chat_gateway::domain::{MemberRole, RoomKind};
use chat_gateway::error::{ErrorBody, ErrorDetail};
use chat_gateway::http::accounts::Session;
use chat_gateway::http::history::{History, HistoryMessage};
use chat_gateway::http::rooms::DirectRoom;
use chat_gateway::http::tickets::Ticket;
use chat_gateway::ws::protocol::{
    ClientFrame, ErrorCode, Limits, MessageFrame, ServerFrame, UserRef,
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

/// A topic and a ban, as the room's members get them.
fn room_events() -> Vec<SequencedEvent> {
    use chat_core::event::{EventExt, EventOp, ModAction, Moderation};
    let event = |seq: i64, body: &str, ext: EventExt| {
        let mut event = ChatEvent::new(
            id(10),
            id(1),
            format!("srv-{seq}"),
            MessageKind::System,
            body,
        )
        .with_ext(ext);
        event.id = id(20 + seq as u128);
        event.sender_name = "alice".into();
        event.sent_at = at();
        SequencedEvent {
            seq,
            epoch: 1_795_000_000_000,
            event,
        }
    };
    vec![
        event(
            8,
            "Weekly planning",
            EventExt {
                op: EventOp::Topic,
                ..EventExt::default()
            },
        ),
        event(
            9,
            "",
            EventExt {
                op: EventOp::Moderation,
                moderation: Some(Moderation {
                    action: ModAction::Ban,
                    user: Some(id(2)),
                    username: Some("mallory".into()),
                    seconds: None,
                    role: None,
                }),
                ..EventExt::default()
            },
        ),
    ]
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
            online: vec![alice()],
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
    ];
    let mut out: Vec<Value> = frames.iter().map(to_value).collect();
    out.push(to_value(&MessageFrame::from_record(&record())));
    out.extend(
        room_events()
            .iter()
            .map(|r| to_value(&MessageFrame::from_record(r))),
    );
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

fn client_frames() -> Vec<Value> {
    let room = id(10);
    let frames = vec![
        json!({"type": "subscribe", "room": room, "last_seq": 7, "epoch": 1_795_000_000_000_u64}),
        json!({"type": "subscribe", "room": room}),
        json!({"type": "unsubscribe", "room": room}),
        json!({"type": "send", "room": room, "client_msg_id": "c-42", "body": "hello"}),
        json!({"type": "typing", "room": room}),
        json!({"type": "ping", "nonce": 3}),
        json!({"type": "ping"}),
        json!({"type": "auth", "token": "eyJhbGciOiJIUzI1NiJ9.e30.sig"}),
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
        "my_room": [to_value(&MyRoom {
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
        })],
        "member": [to_value(&Member { id: id(1), username: "alice".into(), role: MemberRole::Owner })],
        "direct_room": [to_value(&DirectRoom { room: room(RoomKind::Direct, "bob", None) })],
        "history": [to_value(&History { messages: vec![HistoryMessage::from(record())], has_more: true })],
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
