//! No password, token, ticket or message body reaches the gateway's log, even
//! at `RUST_LOG=trace` (through the binaries' own filter). A test binary of its
//! own: it installs the process's only log subscriber, which writes into a
//! buffer.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

/// Everything logged, in one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_or_body_is_logged_even_at_trace() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter(chat_core::telemetry::filter("trace"))
        .with_writer(captured.clone())
        .with_ansi(false)
        .init();
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let http = reqwest::Client::new();
    let password = "Tr0ub4dor-and-3-horses";
    let username = format!("logs_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);

    let signed_up = http
        .post(gateway.url("/api/auth/signup"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sign up");
    let cookie = signed_up
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("the refresh cookie")
        .to_owned();
    let refresh_token = cookie.split_once('=').expect("name=value").1.to_owned();
    let session: Value = signed_up.json().await.expect("session");
    let access = session["access_token"].as_str().expect("token").to_owned();
    let wrong = http
        .post(gateway.url("/api/auth/login"))
        .json(&json!({"username": username, "password": "a-wrong-password-123"}))
        .send()
        .await
        .expect("log in");
    assert_eq!(wrong.status(), 401);
    let refreshed: Value = http
        .post(gateway.url("/api/auth/refresh"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("refreshed");
    let access2 = refreshed["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let ticket: Value = http
        .post(gateway.url("/api/ws-ticket"))
        .bearer_auth(&access2)
        .send()
        .await
        .expect("ticket")
        .json()
        .await
        .expect("ticket body");
    let ticket = ticket["ticket"].as_str().expect("a ticket").to_owned();
    let room: Value = http
        .post(gateway.url("/api/rooms"))
        .bearer_auth(&access2)
        .json(&json!({"name": "log check", "kind": "public"}))
        .send()
        .await
        .expect("room")
        .json()
        .await
        .expect("room body");
    let room: uuid::Uuid = serde_json::from_value(room["id"].clone()).expect("room id");
    let mut socket = Socket::open(gateway.addr, &ticket, ORIGIN)
        .await
        .expect("socket");
    socket.subscribe(room, None).await;
    let body = "a private thought, never to be logged";
    let ack = socket.send_message(room, "log-1", body).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    // nor an edit's new text, nor a deleted message's
    let edited = "an edited thought, never to be logged either";
    let edit = socket
        .send_event(
            json!({"type": "edit", "room": room, "client_msg_id": "log-2",
                           "message": ack["id"], "body": edited}),
        )
        .await;
    assert_eq!(edit["type"], "ack", "{edit}");
    let delete = socket
        .send_event(
            json!({"type": "delete", "room": room, "client_msg_id": "log-3",
                           "message": ack["id"]}),
        )
        .await;
    assert_eq!(delete["type"], "ack", "{delete}");
    // a bad frame carrying a secret is refused without echoing it to the log
    socket
        .send(json!({"type": "auth", "token": format!("{access}x")}))
        .await;
    socket.next_of("error").await;

    let log = String::from_utf8_lossy(&captured.0.lock().expect("log buffer")).into_owned();
    assert!(
        log.contains("/api/auth/signup"),
        "the capture works: requests are logged at TRACE"
    );
    for (what, secret) in [
        ("password", password),
        ("wrong password", "a-wrong-password-123"),
        ("access token", access.as_str()),
        ("refreshed access token", access2.as_str()),
        ("refresh token", refresh_token.as_str()),
        ("ticket", ticket.as_str()),
        ("message body", body),
        ("edited body", edited),
    ] {
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            let at = line.find(secret).unwrap_or(0);
            panic!("the {what} is in the log: {}", &line[..at.min(line.len())]);
        }
    }
}
