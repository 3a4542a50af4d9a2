//! The room bot: answers `@bot` mentions with a model served by Ollama.
//!
//! It is a consumer group of its own on the messages topic, so a slow model
//! never holds up the writer or the gateways. A reply streams into the room
//! as `draft` frames on the room's live channel, then goes the way of every
//! message (Kafka, sequencer, writer) under an id derived from the mention's,
//! so each mention gets exactly one reply whatever is killed or rebalanced.
//!
//! - [`config`]: settings from the environment.
//! - [`consumer`]: the consume loop, concurrency, offsets; [`offsets`]: which
//!   offsets may be committed while replies finish out of order.
//! - [`reply`]: answering one mention, exactly once.
//! - [`mention`]: what counts as a mention, and the reply's id.
//! - [`context`], [`prompt`]: what the model reads; [`model`]: the Ollama client.
//! - [`drafts`]: the reply in progress; [`limits`]: rate limits and the notice cooldown.
//! - [`account`]: the bot's account and membership (SQL).
//! - [`metrics`]: Prometheus metrics (served with health and readiness by
//!   `chat_core::health`).
//! - [`error`]: the bot's error type.
//!
//! [`run`] is the whole service; `main` only reads the config and calls it.

pub mod account;
pub mod config;
pub mod consumer;
pub mod context;
pub mod drafts;
pub mod error;
pub mod limits;
pub mod mention;
pub mod metrics;
pub mod model;
pub mod offsets;
pub mod prompt;
pub mod reply;

use std::sync::Arc;
use std::time::Duration;

use chat_core::Sequencer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::BotConfig;
pub use error::BotError;

use crate::model::{Model, ReplyLimits};
use crate::reply::{Replier, ReplySettings};

/// How long a produce of a reply may wait for Kafka's acknowledgement.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the bot until `shutdown`, serving health and metrics on `listener`.
/// Returns at once when no Ollama URL or model is configured (the bot is off).
pub async fn run(
    config: BotConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let Some((url, model_name)) = config.model() else {
        tracing::info!("the bot is off: set OLLAMA_URL and OLLAMA_MODEL to turn it on");
        return Ok(());
    };
    metrics::handle();
    let model = Model::new(url, model_name)?;
    let pool = chat_core::db::lazy_pool(&config.database_url, config.db_max_connections)?;
    // health first: the model pull on a first start can take minutes
    let tasks = TaskTracker::new();
    let http_shutdown = shutdown.child_token();
    tasks.spawn(chat_core::health::serve(
        listener,
        pool.clone(),
        http_shutdown.clone(),
    ));
    tasks.close();
    let result = answer_mentions(&config, model, pool.clone(), &shutdown).await;
    http_shutdown.cancel();
    tasks.wait().await;
    pool.close().await;
    tracing::info!("bot stopped");
    result
}

/// Sets up the bot's account, the model and its clients, then consumes until shutdown.
async fn answer_mentions(
    config: &BotConfig,
    model: Model,
    pool: sqlx::PgPool,
    shutdown: &CancellationToken,
) -> Result<(), BotError> {
    let account = wait_for(shutdown, "the bot's account", || {
        account::ensure_account(&pool, &config.username)
    })
    .await?;
    if config.pull_model {
        // best effort: a model that cannot be pulled now fails replies with notices
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            pulled = model.ensure_pulled() => if let Err(error) = pulled {
                tracing::warn!(%error, "model not pulled; replies will fail until it is there");
            },
        }
    }
    let redis = chat_core::redis_client::managed(&config.sequencer.redis_url)?;
    let sequencer = Sequencer::new(&config.sequencer, pool.clone())?;
    let producer = chat_core::kafka::durable_producer(&config.kafka.brokers).create()?;
    let limits = limits::Limits::new(
        redis.clone(),
        Duration::from_secs(config.rate_window_secs.max(1)),
        config.room_replies_per_window,
        config.user_replies_per_window,
        Duration::from_secs(config.failure_notice_cooldown_secs),
    );
    let replier = Arc::new(Replier {
        pool: pool.clone(),
        sequencer,
        redis,
        producer,
        topic: config.kafka.topic.clone(),
        model,
        account,
        limits,
        settings: ReplySettings {
            system_prompt: config.system_prompt(),
            context_messages: config.context_messages,
            context_chars: config.context_chars,
            limits: ReplyLimits {
                max_chars: config.max_reply_chars as usize,
                max_tokens: config.max_tokens,
                total: config.reply_timeout(),
                stall: config.stall_timeout(),
            },
            failure_notice: config.failure_notice().map(str::to_owned),
            draft_interval: config.draft_interval(),
            max_mention_age: Duration::from_secs(config.max_mention_age_secs),
            send_timeout: SEND_TIMEOUT,
            claim_ttl_secs: config.sequencer.ttl_secs,
        },
    });
    tracing::info!(
        bot.username = %replier.account.username,
        model = %replier.model.name(),
        kafka.group = %config.group_id,
        "bot started"
    );
    consumer::consume(config, replier, shutdown).await
}

/// Calls `attempt` until it succeeds, a non-transient error, or shutdown;
/// waits with capped backoff in between (Postgres may start after the bot).
async fn wait_for<T, F, Fut>(
    shutdown: &CancellationToken,
    what: &str,
    mut attempt: F,
) -> Result<T, BotError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BotError>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_transient() && !shutdown.is_cancelled() => {
                tracing::warn!(%error, "{what} not available yet; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return Err(error),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}
