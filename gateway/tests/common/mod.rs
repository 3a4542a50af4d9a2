//! Helpers for the gateway's black-box tests: a whole stack per test (fresh
//! database, dedicated Redis, fresh topics, a writer) with gateways on port 0,
//! an HTTP client per user and a WebSocket client that speaks the protocol.
#![allow(dead_code, reason = "each test file uses a different subset")]

pub mod load;
pub mod process;
pub mod promises;

use std::net::SocketAddr;
use std::time::Duration;

use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;
use chat_gateway::GatewayConfig;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use test_support::kafka::TestTopics;
use test_support::{RedisServer, TestDatabase, kafka};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const ORIGIN: &str = "http://chat.test";
pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const WAIT: Duration = Duration::from_secs(30);
/// The subprotocol every client offers.
pub const SUBPROTOCOL: &str = "chat.v1";

/// The services one test runs against.
pub struct Stack {
    pub db: TestDatabase,
    pub redis: RedisServer,
    pub topics: TestTopics,
    pub writer: Option<Writer>,
    pub options: Options,
}

/// What a fault test changes in a stack.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Topics on a broker of the test's own instead of fresh ones on the shared broker.
    pub topics: Option<TestTopics>,
    /// A Postgres server of the test's own (its admin URL) instead of the shared one.
    pub postgres_admin_url: Option<String>,
    /// `SEQUENCER_TAIL_LEN` (1000 when `None`).
    pub tail_len: Option<u32>,
    /// `SEND_TIMEOUT_MS` (10 000 when `None`).
    pub send_timeout_ms: Option<u64>,
}

/// A writer running in the test process.
pub struct Writer {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), chat_writer::WriterError>>,
}

impl Writer {
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

impl Stack {
    /// Fresh services and a running writer. `RUST_LOG` shows the services' logs.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// Like [`Stack::start`], with what `options` changes.
    pub async fn start_with(options: Options) -> Self {
        Self::start_with_redis(options, RedisServer::start()).await
    }

    /// Like [`Stack::start`], on a Redis of the test's choosing (e.g. one with snapshots).
    pub async fn start_on(redis: RedisServer) -> Self {
        Self::start_with_redis(Options::default(), redis).await
    }

    /// [`Stack::start_with`] on the given Redis.
    pub async fn start_with_redis(options: Options, redis: RedisServer) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let db = match &options.postgres_admin_url {
            Some(url) => TestDatabase::on_server(url).await,
            None => TestDatabase::new().await,
        };
        let topics = match &options.topics {
            Some(topics) => topics.clone(),
            None => kafka::unique_topics(4).await,
        };
        let mut stack = Self {
            db,
            redis,
            topics,
            writer: None,
            options,
        };
        stack.start_writer().await;
        stack
    }

    pub async fn start_writer(&mut self) {
        let config = chat_writer::WriterConfig {
            database_url: self.db.url.clone(),
            db_max_connections: 4,
            kafka: self.kafka(),
            sequencer: self.sequencer(),
            group_id: self.topics.group.clone(),
            group_instance_id: None,
            session_timeout_ms: 6_000,
            batch_max_rows: 500,
            batch_max_bytes: 1 << 20,
            batch_linger_ms: 5,
            fetch_wait_ms: 100,
            retry_max_backoff_ms: 500,
            http_addr: "127.0.0.1:0".parse().expect("addr"),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chat_writer::run(config, listener, shutdown.clone()));
        self.writer = Some(Writer { shutdown, task });
    }

    pub async fn stop_writer(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.stop().await;
        }
    }

    /// The room's stored messages (rows of any op).
    pub async fn stored_count(&self, room: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE room_id = $1")
            .bind(room)
            .fetch_one(&self.db.pool)
            .await
            .expect("count the room's rows")
    }

    /// Waits (up to 60 s: the writer may be catching up) until the room has at least `n` rows.
    pub async fn wait_stored(&self, room: Uuid, n: i64) {
        test_support::wait_until(
            &format!("{n} rows stored"),
            Duration::from_secs(60),
            || async { (self.stored_count(room).await >= n).then_some(()) },
        )
        .await;
    }

    pub fn kafka(&self) -> KafkaConfig {
        self.topics.config()
    }

    pub fn sequencer(&self) -> SequencerConfig {
        SequencerConfig {
            redis_url: self.redis.url(),
            tail_len: self.options.tail_len.unwrap_or(1000),
            ttl_secs: 3600,
        }
    }

    /// Gateway settings for this stack (cheap-but-valid argon2 is not allowed: the
    /// production minimum is used, argon2 is built optimised in tests).
    pub fn gateway_config(&self) -> GatewayConfig {
        GatewayConfig {
            addr: "127.0.0.1:0".parse().expect("addr"),
            instance_id: None,
            database_url: self.db.url.clone(),
            db_max_connections: 8,
            db_held_connections: 2,
            kafka: self.kafka(),
            sequencer: self.sequencer(),
            rooms: Default::default(),
            jwt_secret: SECRET.into(),
            jwt_issuer: "chat".into(),
            jwt_audience: "chat-web".into(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 3600,
            cookie_secure: false,
            allowed_origins: vec![ORIGIN.into()],
            trusted_proxies: Default::default(),
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            login_max_failures_per_account_address: 5,
            login_max_failures_per_account: 50,
            login_max_attempts_per_address: 100,
            signup_max_per_address: 1000,
            signup_max_per_minute: 1000,
            password_hash_concurrency: 0,
            password_hash_queue: 64,
            password_hash_wait_ms: 10_000,
            refresh_reuse_grace_secs: 20,
            ws_max_message_bytes: 64 * 1024,
            ws_read_buffer_bytes: 512,
            // every test client is 127.0.0.1; the caps have tests of their own
            ws_max_connections_per_user: 1000,
            ws_max_connections_per_address: 10_000,
            ws_replay_max: 500,
            ws_replays_per_min: 60,
            ws_send_queue: 256,
            ws_messages_per_sec: 1000,
            ws_messages_burst: 1000,
            ws_max_in_flight: 64,
            ws_max_rooms: 100,
            ws_ping_secs: 20,
            send_timeout_ms: self.options.send_timeout_ms.unwrap_or(10_000),
            kafka_linger_ms: 0.0,
            worker_threads: None,
            presence_ttl_secs: 30,
        }
    }

    /// A gateway in this process on a free port.
    pub async fn gateway(&self) -> Gateway {
        Gateway::start(self.gateway_config()).await
    }
}

/// A gateway running in the test process.
pub struct Gateway {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    task: JoinHandle<Result<(), chat_gateway::GatewayError>>,
}

impl Gateway {
    pub async fn start(config: GatewayConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chat_gateway::run(config, listener, shutdown.clone()));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

/// A signed-up user with an HTTP client that keeps its cookies.
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub token: String,
    pub http: reqwest::Client,
    pub base: String,
}

impl User {
    /// Signs up a new user with a unique name through `gateway`.
    pub async fn sign_up(gateway: &Gateway, prefix: &str) -> Self {
        Self::sign_up_at(gateway.addr, prefix).await
    }

    /// Signs up a new user through whatever serves the API at `addr` (a gateway or nginx).
    pub async fn sign_up_at(addr: SocketAddr, prefix: &str) -> Self {
        let username = format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..8]);
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let response = http
            .post(format!("http://{addr}/api/auth/signup"))
            .json(&json!({ "username": username, "password": "correct horse battery staple" }))
            .send()
            .await
            .expect("signup request");
        assert_eq!(response.status(), 201, "signup answers 201");
        let body: Value = response.json().await.expect("signup json");
        Self {
            id: body["user"]["id"]
                .as_str()
                .expect("user id")
                .parse()
                .expect("uuid"),
            username,
            token: body["access_token"].as_str().expect("token").to_owned(),
            http,
            base: format!("http://{addr}"),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request")
    }

    /// Creates a room and returns its id.
    pub async fn create_room(&self, name: &str, kind: &str) -> Uuid {
        let response = self
            .post("/api/rooms", json!({ "name": name, "kind": kind }))
            .await;
        assert_eq!(response.status(), 201, "room created");
        let body: Value = response.json().await.expect("json");
        body["id"].as_str().expect("room id").parse().expect("uuid")
    }

    pub async fn join(&self, room: Uuid) {
        let response = self
            .post(&format!("/api/rooms/{room}/join"), json!({}))
            .await;
        assert!(
            response.status().is_success(),
            "joined: {}",
            response.status()
        );
    }

    /// A single-use WebSocket ticket.
    pub async fn ticket(&self) -> String {
        let response = self.post("/api/ws-ticket", json!({})).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        body["ticket"].as_str().expect("ticket").to_owned()
    }

    /// Opens a WebSocket to `addr` and reads the hello.
    pub async fn connect(&self, addr: SocketAddr) -> Socket {
        let ticket = self.ticket().await;
        Socket::open(addr, &ticket, ORIGIN)
            .await
            .expect("websocket opens")
    }
}

/// A protocol client over a real WebSocket. Frames skipped while waiting for
/// a particular one are kept, in order, for later reads.
pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: std::collections::VecDeque<Value>,
}

impl Socket {
    /// Connects with `ticket` and `origin`; on success the hello has been read.
    pub async fn open(
        addr: SocketAddr,
        ticket: &str,
        origin: &str,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        Self::open_with_hello(addr, ticket, origin)
            .await
            .map(|(socket, _)| socket)
    }

    /// Connects and returns the socket with its hello frame.
    pub async fn open_with_hello(
        addr: SocketAddr,
        ticket: &str,
        origin: &str,
    ) -> Result<(Self, Value), tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{addr}/ws?ticket={ticket}").into_client_request()?;
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin header"));
        request.headers_mut().insert(
            "sec-websocket-protocol",
            SUBPROTOCOL.parse().expect("header"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        let mut socket = Self {
            ws,
            pending: Default::default(),
        };
        let hello = socket.next_frame().await;
        assert_eq!(hello["type"], "hello");
        Ok((socket, hello))
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .expect("frame sent");
    }

    /// The WebSocket itself, for tests that drive it on their own.
    pub fn into_raw(self) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
        self.ws
    }

    /// The WebSocket itself, for tests that break the protocol on purpose.
    pub fn raw(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>> {
        &mut self.ws
    }

    pub async fn send_raw(&mut self, message: Message) {
        let _ = self.ws.send(message).await;
    }

    /// The next JSON frame (kept ones first; pings are skipped); panics after the deadline or on close.
    pub async fn next_frame(&mut self) -> Value {
        if let Some(frame) = self.pending.pop_front() {
            return frame;
        }
        self.read_frame().await
    }

    async fn read_frame(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the deadline")
                .expect("socket open")
                .expect("socket ok");
            match message {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("json frame");
                }
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame of type `kind`, skipping others (presence, typing, …);
    /// panics on an unexpected `error` frame or after the deadline.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        self.next_matching(kind, |f| f["type"] == kind).await
    }

    /// The first frame, kept or new, that `wanted` accepts; the others stay kept.
    pub async fn next_matching(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i).expect("index in range");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.read_frame())
                .await
                .unwrap_or_else(|_| panic!("no {what} frame within {WAIT:?}"));
            if wanted(&frame) {
                return frame;
            }
            assert!(
                frame["type"] != "error",
                "unexpected error while waiting for {what}: {frame}"
            );
            self.pending.push_back(frame);
        }
    }

    /// Subscribes and waits for `subscribed`.
    pub async fn subscribe(&mut self, room: Uuid, last_seq: Option<i64>) -> Value {
        let mut frame = json!({ "type": "subscribe", "room": room });
        if let Some(seq) = last_seq {
            frame["last_seq"] = json!(seq);
        }
        self.send(frame).await;
        self.next_of("subscribed").await
    }

    /// Sends a message and returns the ack (or error) for it; other frames are kept.
    pub async fn send_message(&mut self, room: Uuid, client_msg_id: &str, body: &str) -> Value {
        self.send(
            json!({ "type": "send", "room": room, "client_msg_id": client_msg_id, "body": body }),
        )
        .await;
        self.next_matching("ack", |f| {
            (f["type"] == "ack" || f["type"] == "error") && f["client_msg_id"] == client_msg_id
        })
        .await
    }

    /// Sends a room event frame (`edit`, `delete`, `react`, `unreact`, or a
    /// `send` with more fields) and returns its ack or error; other frames are kept.
    pub async fn send_event(&mut self, frame: Value) -> Value {
        let client_msg_id = frame["client_msg_id"].clone();
        self.send(frame).await;
        self.next_matching("ack", |f| {
            (f["type"] == "ack" || f["type"] == "error") && f["client_msg_id"] == client_msg_id
        })
        .await
    }

    /// Waits for the close frame and returns its code (one deadline for the
    /// whole wait: the server's pings do not extend it).
    pub async fn closed_with(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("close within the deadline")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}
