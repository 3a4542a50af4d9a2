//! Talking to the model through Ollama (ollama-rs): one streamed chat
//! request per reply, bounded in time and length, and the model pull on start.

use std::time::Duration;

use futures::StreamExt;
use ollama_rs::Ollama;
use ollama_rs::generation::chat::ChatMessage;
use ollama_rs::generation::chat::request::ChatMessageRequest;
use ollama_rs::models::ModelOptions;
use tokio::time::Instant;

use crate::error::BotError;
use crate::prompt::clip;

/// Why the model gave no usable reply. Each is answered with the failure
/// notice (or silence); none is an error of the bot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("the model is unavailable: {0}")]
    Unavailable(String),
    #[error("the reply took longer than the reply timeout")]
    TimedOut,
    #[error("the model went silent for longer than the stall timeout")]
    Stalled,
    #[error("the model's stream ended before it said it was done")]
    Truncated,
    #[error("the model's reply was empty")]
    Empty,
}

impl Failure {
    /// A short label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::TimedOut => "timeout",
            Self::Stalled => "stalled",
            Self::Truncated => "truncated",
            Self::Empty => "empty",
        }
    }
}

/// Bounds of one reply.
#[derive(Debug, Clone, Copy)]
pub struct ReplyLimits {
    pub max_chars: usize,
    pub max_tokens: i32,
    pub total: Duration,
    pub stall: Duration,
}

/// A model served by Ollama.
#[derive(Debug, Clone)]
pub struct Model {
    ollama: Ollama,
    name: String,
}

impl Model {
    pub fn new(url: &str, name: &str) -> Result<Self, BotError> {
        let ollama = Ollama::try_new(url)
            .map_err(|e| BotError::Config(format!("OLLAMA_URL {url:?} is not a URL: {e}")))?;
        Ok(Self {
            ollama,
            name: name.to_owned(),
        })
    }

    /// The model's name, e.g. `llama3.2:1b`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Pulls the model unless Ollama has it, logging the download's progress.
    pub async fn ensure_pulled(&self) -> Result<(), String> {
        let local = self
            .ollama
            .list_local_models()
            .await
            .map_err(|e| format!("listing Ollama's models failed: {e}"))?;
        let wanted = with_tag(&self.name);
        if local.iter().any(|m| with_tag(&m.name) == wanted) {
            tracing::info!(model = %self.name, "model present");
            return Ok(());
        }
        tracing::info!(model = %self.name, "pulling the model (first start)");
        let mut progress = self
            .ollama
            .pull_model_stream(self.name.clone(), false)
            .await
            .map_err(|e| format!("pull of {} failed: {e}", self.name))?;
        let mut last_percent = None;
        while let Some(status) = progress.next().await {
            let status = status.map_err(|e| format!("pull of {} failed: {e}", self.name))?;
            let percent = match (status.completed, status.total) {
                (Some(done), Some(total)) if total > 0 => Some(done * 100 / total / 10 * 10),
                _ => None,
            };
            if percent.is_some() && percent != last_percent {
                tracing::info!(model = %self.name, status = %status.message, pull.percent = percent, "pulling");
                last_percent = percent;
            } else if percent.is_none() {
                tracing::info!(model = %self.name, status = %status.message, "pulling");
            }
        }
        tracing::info!(model = %self.name, "model pulled");
        Ok(())
    }

    /// Streams a reply to `messages`, calling `on_text` with the whole text so
    /// far after each chunk. Returns the final text, cut to `limits.max_chars`.
    pub async fn reply(
        &self,
        messages: Vec<ChatMessage>,
        limits: ReplyLimits,
        mut on_text: impl FnMut(&str),
    ) -> Result<String, Failure> {
        let deadline = Instant::now() + limits.total;
        let request = ChatMessageRequest::new(self.name.clone(), messages)
            .options(ModelOptions::default().num_predict(limits.max_tokens));
        let mut stream = bounded(
            deadline,
            limits.stall,
            self.ollama.send_chat_messages_stream(request),
        )
        .await?
        .map_err(|e| Failure::Unavailable(short(&e.to_string())))?;
        let mut text = String::new();
        loop {
            let Some(chunk) = bounded(deadline, limits.stall, stream.next()).await? else {
                return Err(Failure::Truncated);
            };
            let chunk =
                chunk.map_err(|()| Failure::Unavailable("the reply stream broke".into()))?;
            text.push_str(&chunk.message.content.replace('\0', ""));
            if text.chars().count() > limits.max_chars {
                // enough: dropping the stream ends the request
                return Ok(clip(&text, limits.max_chars));
            }
            on_text(&text);
            if chunk.done {
                break;
            }
        }
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(Failure::Empty);
        }
        Ok(text)
    }
}

/// `future`, unless the stall timeout or the overall deadline comes first.
async fn bounded<T>(
    deadline: Instant,
    stall: Duration,
    future: impl Future<Output = T>,
) -> Result<T, Failure> {
    let stall_at = Instant::now() + stall;
    tokio::time::timeout_at(stall_at.min(deadline), future)
        .await
        .map_err(|_| {
            if stall_at < deadline {
                Failure::Stalled
            } else {
                Failure::TimedOut
            }
        })
}

/// A model name with its tag (`llama3` is `llama3:latest`).
fn with_tag(name: &str) -> String {
    if name.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// An error text short enough for a log line (Ollama's bodies can be long).
fn short(text: &str) -> String {
    clip(text.trim(), 200)
}
