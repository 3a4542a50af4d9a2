//! A small server of our own that speaks Ollama's HTTP API, for the bot's
//! tests (Ollama itself cannot be installed here). It answers as Ollama does:
//! `POST /api/chat` streams NDJSON chunks and a final `done` line with its
//! timings (or one JSON object when `stream` is false), unknown models get
//! Ollama's 404, `GET /api/tags` lists the models, `POST /api/pull` streams
//! the pull's progress and adds the model, `GET /api/version` answers.
//!
//! Each chat request plays the next queued [`Script`] (or the default one):
//! a normal reply, a stall, an HTTP error, garbage, an error mid-stream. The
//! server records every chat request and counts the responses still open.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// What the server does with one chat request.
#[derive(Debug, Clone)]
pub enum Script {
    /// Streams these chunks of the answer, `gap` apart, then the `done` line.
    Reply { chunks: Vec<String>, gap: Duration },
    /// Streams these chunks, then says nothing until [`FakeOllama::release`].
    Stall { chunks: Vec<String> },
    /// Answers with this status and Ollama's `{"error": ...}` body.
    Error { status: u16, message: String },
    /// Streams these chunks, then an `{"error": ...}` line and ends (as
    /// Ollama does when the runner dies mid-generation).
    ErrorMidStream {
        chunks: Vec<String>,
        message: String,
    },
    /// Streams lines that are not JSON at all, and ends.
    Garbage,
}

impl Script {
    /// A reply in chunks of a few characters, 10 ms apart.
    pub fn reply(text: &str) -> Self {
        Self::paced_reply(text, Duration::from_millis(10))
    }

    /// A reply in chunks of a few characters, `gap` apart.
    pub fn paced_reply(text: &str, gap: Duration) -> Self {
        let chars: Vec<char> = text.chars().collect();
        Self::Reply {
            chunks: chars.chunks(4).map(|c| c.iter().collect()).collect(),
            gap,
        }
    }
}

#[derive(Debug)]
struct Shared {
    models: Mutex<Vec<String>>,
    scripts: Mutex<VecDeque<Script>>,
    default: Mutex<Script>,
    requests: Mutex<Vec<Value>>,
    pulls: Mutex<Vec<String>>,
    open: AtomicUsize,
    released: watch::Sender<bool>,
}

/// The fake server; stops when dropped.
#[derive(Debug)]
pub struct FakeOllama {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeOllama {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOllama {
    /// A server on a free port that has `models` (e.g. `["tiny:latest"]`).
    pub async fn start(models: &[&str]) -> Self {
        Self::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), models).await
    }

    /// A server on `addr` that has `models`.
    pub async fn start_at(addr: SocketAddr, models: &[&str]) -> Self {
        let shared = Arc::new(Shared {
            models: Mutex::new(models.iter().map(|m| with_tag(m)).collect()),
            scripts: Mutex::new(VecDeque::new()),
            default: Mutex::new(Script::reply("Hello from the fake model.")),
            requests: Mutex::new(Vec::new()),
            pulls: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
            released: watch::channel(false).0,
        });
        let app = Router::new()
            .route("/", get(|| async { "Ollama is running" }))
            .route(
                "/api/version",
                get(|| async { axum::Json(json!({"version": "0.12.6"})) }),
            )
            .route("/api/tags", get(tags))
            .route("/api/pull", post(pull))
            .route("/api/chat", post(chat))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the fake Ollama");
        let addr = listener.local_addr().expect("fake Ollama address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next chat request plays `script` (scripts queue up in order).
    pub fn push(&self, script: Script) {
        lock(&self.shared.scripts).push_back(script);
    }

    /// What chat requests play when no script is queued.
    pub fn set_default(&self, script: Script) {
        *lock(&self.shared.default) = script;
    }

    /// Ends every stall, now and later: stalled responses finish with `done`.
    pub fn release(&self) {
        self.shared.released.send_replace(true);
    }

    /// The bodies of the chat requests received, in order.
    pub fn requests(&self) -> Vec<Value> {
        lock(&self.shared.requests).clone()
    }

    /// Models pulled through `/api/pull`.
    pub fn pulls(&self) -> Vec<String> {
        lock(&self.shared.pulls).clone()
    }

    /// Chat responses still being streamed (a stalled one counts until the
    /// client gives up and disconnects).
    pub fn open_responses(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn with_tag(name: &str) -> String {
    if name.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn model_entry(name: &str) -> Value {
    json!({
        "name": name, "model": name, "modified_at": now(), "size": 1_321_098_329u64,
        "digest": "baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878",
        "details": {"parent_model": "", "format": "gguf", "family": "llama",
                    "families": ["llama"], "parameter_size": "1.2B",
                    "quantization_level": "Q8_0"}
    })
}

async fn tags(State(shared): State<Arc<Shared>>) -> Response {
    let models: Vec<Value> = lock(&shared.models)
        .iter()
        .map(|m| model_entry(m))
        .collect();
    axum::Json(json!({ "models": models })).into_response()
}

/// Lines sent one by one on a streamed response; the response counts as
/// open until the sender is done or the client is gone.
fn ndjson(shared: &Arc<Shared>) -> (mpsc::Sender<Bytes>, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let open = OpenGuard::new(shared.clone());
    let body = futures::stream::unfold((rx, open), |(mut rx, open)| async move {
        rx.recv()
            .await
            .map(|line| (Ok::<_, Infallible>(line), (rx, open)))
    });
    let response = Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    (tx, response)
}

/// Counts an open response; the count drops with the response body.
#[derive(Debug)]
struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.open.fetch_add(1, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

async fn pull(State(shared): State<Arc<Shared>>, axum::Json(body): axum::Json<Value>) -> Response {
    let Some(model) = body["model"]
        .as_str()
        .or(body["name"].as_str())
        .map(with_tag)
    else {
        return error(StatusCode::BAD_REQUEST, "model is required");
    };
    lock(&shared.pulls).push(model.clone());
    let (tx, response) = ndjson(&shared);
    tokio::spawn(async move {
        let digest = "sha256:74701a8c35f6c8d9a4b91f3f3497643001d63e0c7a84e085bed452548fa88d45";
        let total = 1_321_082_688u64;
        let mut lines = vec![json!({"status": "pulling manifest"})];
        for part in 0..=4u64 {
            lines.push(json!({"status": format!("pulling {}", &digest[7..19]),
                              "digest": digest, "total": total, "completed": total * part / 4}));
        }
        lines.push(json!({"status": "verifying sha256 digest"}));
        lines.push(json!({"status": "writing manifest"}));
        for l in &lines {
            if tx.send(line(l)).await.is_err() {
                return;
            }
        }
        {
            let mut models = lock(&shared.models);
            if !models.contains(&model) {
                models.push(model);
            }
        }
        let _ = tx.send(line(&json!({"status": "success"}))).await;
    });
    response
}

async fn chat(State(shared): State<Arc<Shared>>, axum::Json(body): axum::Json<Value>) -> Response {
    lock(&shared.requests).push(body.clone());
    let Some(model) = body["model"].as_str().map(with_tag) else {
        return error(StatusCode::BAD_REQUEST, "model is required");
    };
    if !lock(&shared.models).contains(&model) {
        return error(
            StatusCode::NOT_FOUND,
            &format!("model \"{model}\" not found, try pulling it first"),
        );
    }
    let script = lock(&shared.scripts)
        .pop_front()
        .unwrap_or_else(|| lock(&shared.default).clone());
    if let Script::Error { status, message } = &script {
        return error(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message,
        );
    }
    // Ollama streams unless told `"stream": false`
    let streamed = body["stream"].as_bool().unwrap_or(true);
    if !streamed {
        let text = match &script {
            Script::Reply { chunks, .. } => chunks.concat(),
            _ => return error(StatusCode::INTERNAL_SERVER_ERROR, "unexpected EOF"),
        };
        return axum::Json(done_line(&model, &text)).into_response();
    }
    let (tx, response) = ndjson(&shared);
    let mut released = shared.released.subscribe();
    tokio::spawn(async move {
        let chunk = |text: &str| {
            line(&json!({
                "model": model, "created_at": now(),
                "message": {"role": "assistant", "content": text}, "done": false
            }))
        };
        let send_all = |chunks: Vec<String>, gap: Duration| {
            let tx = tx.clone();
            let lines: Vec<Bytes> = chunks.iter().map(|c| chunk(c)).collect();
            async move {
                for l in lines {
                    if tx.send(l).await.is_err() {
                        return false;
                    }
                    tokio::time::sleep(gap).await;
                }
                true
            }
        };
        match script {
            Script::Reply { chunks, gap } => {
                if send_all(chunks, gap).await {
                    let _ = tx.send(line(&done_line(&model, ""))).await;
                }
            }
            Script::Stall { chunks } => {
                if send_all(chunks, Duration::ZERO).await {
                    // until released, or the client gives up
                    tokio::select! {
                        _ = async { released.wait_for(|r| *r).await.is_ok() } => {
                            let _ = tx.send(line(&done_line(&model, ""))).await;
                        }
                        () = tx.closed() => {}
                    }
                }
            }
            Script::ErrorMidStream { chunks, message } => {
                if send_all(chunks, Duration::ZERO).await {
                    let _ = tx.send(line(&json!({ "error": message }))).await;
                }
            }
            Script::Garbage => {
                for l in ["<html>502 Bad Gateway</html>\n", "{\"model\": tru\n"] {
                    if tx.send(Bytes::from(l)).await.is_err() {
                        return;
                    }
                }
            }
            Script::Error { .. } => {}
        }
    });
    response
}

/// The last line of a chat stream (or the whole non-streamed answer).
fn done_line(model: &str, content: &str) -> Value {
    json!({
        "model": model, "created_at": now(),
        "message": {"role": "assistant", "content": content},
        "done_reason": "stop", "done": true,
        "total_duration": 2_438_331_625u64, "load_duration": 31_415_792u64,
        "prompt_eval_count": 57, "prompt_eval_duration": 112_901_000u64,
        "eval_count": 42, "eval_duration": 2_250_116_000u64
    })
}
