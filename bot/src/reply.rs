//! Answering one mention, exactly once.
//!
//! The reply's id is derived from the mention's id, and the finished reply is
//! claimed in Redis (`SET NX`) before it is produced. A claim is looked for
//! before anything else (the mention's age included), so a claimed reply is
//! always delivered. So whatever is killed when, a mention yields one message: a bot restarted before the claim writes
//! the reply again under the same id; one restarted after it produces the
//! claimed event again, byte for byte; two instances racing after a rebalance
//! both end up producing the winner's claim. The writer's `ON CONFLICT (id)`
//! and the sequencer's per-id idempotence do the rest.

use std::time::Duration;

use chat_core::live::DraftSender;
use chat_core::{ChatEvent, MessageKind, Sequencer};
use chrono::Utc;
use rdkafka::producer::{FutureProducer, FutureRecord};
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use crate::account::{self, BotAccount};
use crate::context;
use crate::drafts::Drafts;
use crate::error::BotError;
use crate::limits::Limits;
use crate::mention::{mentions, reply_client_msg_id, reply_id};
use crate::metrics as m;
use crate::model::{Model, ReplyLimits};
use crate::prompt;

/// What became of a message the bot looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The model's answer was sent.
    Replied,
    /// The model failed; the failure notice was sent.
    Notice,
    /// The model failed and the bot stayed silent (no notice configured, or
    /// the room had one within the cooldown).
    Silent,
    /// A rate limit was reached: no reply.
    RateLimited,
    /// The reply exists already (a redelivered mention).
    AlreadyAnswered,
    /// Not for the bot: no mention, the bot's own message, a room it is not in, or too old.
    Ignored,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Replied => "replied",
            Self::Notice => "notice",
            Self::Silent => "silent",
            Self::RateLimited => "rate_limited",
            Self::AlreadyAnswered => "already_answered",
            Self::Ignored => "ignored",
        }
    }
}

/// The reply settings that come from the configuration.
#[derive(Debug, Clone)]
pub struct ReplySettings {
    pub system_prompt: String,
    pub context_messages: usize,
    pub context_chars: usize,
    pub limits: ReplyLimits,
    pub failure_notice: Option<String>,
    pub draft_interval: Duration,
    pub max_mention_age: Duration,
    pub send_timeout: Duration,
    pub claim_ttl_secs: u64,
}

/// Everything answering a mention needs.
#[derive(Clone)]
pub struct Replier {
    pub pool: PgPool,
    pub sequencer: Sequencer,
    pub redis: ConnectionManager,
    pub producer: FutureProducer,
    pub topic: String,
    pub model: Model,
    pub account: BotAccount,
    pub limits: Limits,
    pub settings: ReplySettings,
}

impl std::fmt::Debug for Replier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replier")
            .field("account", &self.account)
            .field("model", &self.model)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Replier {
    /// A quick look, no I/O: a person's message that mentions the bot (an
    /// edit, a reaction or any other room event never asks it anything).
    pub fn looks_like_mention(&self, event: &ChatEvent) -> bool {
        event.op() == chat_core::event::EventOp::Message
            && event.kind == MessageKind::User
            && event.sender_id != self.account.id
            && mentions(&event.body, &self.account.username)
    }

    /// Answers `mention` unless it was answered before. An `Err` is an outage:
    /// the caller tries again later, and nothing was said twice meanwhile.
    #[tracing::instrument(skip_all, fields(room.id = %mention.room_id, message.id = %mention.id))]
    pub async fn handle(&self, mention: &ChatEvent) -> Result<Outcome, BotError> {
        if !self.looks_like_mention(mention) {
            return Ok(Outcome::Ignored);
        }
        let id = reply_id(mention.id);
        // a claimed reply is delivered whatever the mention's age: its produce
        // may have failed for longer than the age limit
        if let Some(claimed) = self.claimed(id).await? {
            // written before a crash or by another instance: deliver it as it was
            self.deliver(&claimed).await?;
            return Ok(Outcome::AlreadyAnswered);
        }
        let age = Utc::now().signed_duration_since(mention.sent_at);
        if age
            .to_std()
            .is_ok_and(|age| age > self.settings.max_mention_age)
        {
            return Ok(Outcome::Ignored);
        }
        if account::is_stored(&self.pool, id).await? {
            return Ok(Outcome::AlreadyAnswered);
        }
        if !account::is_member(&self.pool, mention.room_id, self.account.id).await? {
            return Ok(Outcome::Ignored);
        }
        if !self
            .limits
            .allow_reply(mention.room_id, mention.sender_id, mention.id)
            .await?
        {
            return Ok(Outcome::RateLimited);
        }

        let mut drafts = Drafts::new(
            self.redis.clone(),
            mention.room_id,
            id,
            mention.id,
            DraftSender {
                id: self.account.id,
                username: self.account.username.clone(),
            },
            self.settings.draft_interval,
        );
        let answer = self.ask_model(mention, &mut drafts).await?;
        let (body, outcome) = match answer {
            Ok(text) => (text, Outcome::Replied),
            Err(failure) => {
                metrics::counter!(m::MODEL_FAILURES, "reason" => failure.label()).increment(1);
                tracing::warn!(reason = failure.label(), error = %failure, "model gave no reply");
                match &self.settings.failure_notice {
                    Some(notice)
                        if self.limits.take_notice(mention.room_id, mention.id).await? =>
                    {
                        (notice.clone(), Outcome::Notice)
                    }
                    // dropping the drafts tells the room no reply is coming
                    _ => return Ok(Outcome::Silent),
                }
            }
        };
        let reply = self.reply_event(mention, id, body);
        let reply = self.claim(reply).await?;
        self.deliver(&reply).await?;
        drafts.finish();
        Ok(outcome)
    }

    /// Asks the model with the room's recent messages; drafts follow the stream.
    async fn ask_model(
        &self,
        mention: &ChatEvent,
        drafts: &mut Drafts,
    ) -> Result<Result<String, crate::model::Failure>, BotError> {
        // the mention's seq (the gateway gave it one; if that gateway died, this does)
        let seq = self
            .sequencer
            .sequence_maybe_stored(std::slice::from_ref(mention))
            .await?
            .first()
            .map(|a| a.seq)
            .ok_or(chat_core::SequencerError::Unsettled)?;
        let recent = context::recent_messages(
            &self.pool,
            &self.sequencer,
            mention.room_id,
            seq,
            self.settings.context_messages,
        )
        .await?;
        let messages = prompt::chat_messages(
            &self.settings.system_prompt,
            self.account.id,
            &recent,
            self.settings.context_chars,
        );
        let started = std::time::Instant::now();
        let answer = self
            .model
            .reply(messages, self.settings.limits, |text| drafts.update(text))
            .await;
        metrics::histogram!(m::REPLY_SECONDS).record(started.elapsed().as_secs_f64());
        Ok(answer)
    }

    fn reply_event(&self, mention: &ChatEvent, id: Uuid, body: String) -> ChatEvent {
        let mut event = ChatEvent::new(
            mention.room_id,
            self.account.id,
            reply_client_msg_id(mention.id),
            MessageKind::Bot,
            body,
        );
        event.id = id;
        event.sender_name = self.account.username.clone();
        event
    }

    fn claim_key(id: Uuid) -> String {
        format!("bot:claim:{id}")
    }

    /// The reply claimed for `id` before, if any.
    async fn claimed(&self, id: Uuid) -> Result<Option<ChatEvent>, BotError> {
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(Self::claim_key(id))
            .query_async(&mut self.redis.clone())
            .await?;
        raw.map(|r| ChatEvent::decode(&r).map_err(|e| BotError::BadClaim(e.to_string())))
            .transpose()
    }

    /// Claims `reply` for its id; if another attempt claimed first, that one wins.
    async fn claim(&self, reply: ChatEvent) -> Result<ChatEvent, BotError> {
        let previous: Option<Vec<u8>> = redis::cmd("SET")
            .arg(Self::claim_key(reply.id))
            .arg(reply.encode())
            .arg("NX")
            .arg("GET")
            .arg("EX")
            .arg(self.settings.claim_ttl_secs)
            .query_async(&mut self.redis.clone())
            .await?;
        match previous {
            None => Ok(reply),
            Some(raw) => ChatEvent::decode(&raw).map_err(|e| BotError::BadClaim(e.to_string())),
        }
    }

    /// The normal path of every message: durable in Kafka, then sequenced (and
    /// so published); the writer stores it.
    async fn deliver(&self, reply: &ChatEvent) -> Result<(), BotError> {
        let payload = reply.encode();
        let key = reply.room_id.to_string();
        let record = FutureRecord::to(&self.topic).key(&key).payload(&payload);
        self.producer
            .send(record, self.settings.send_timeout)
            .await
            .map_err(|(error, _)| BotError::Kafka(error))?;
        // a claimed reply may be stored already, its seq forgotten by Redis
        self.sequencer
            .sequence_maybe_stored(std::slice::from_ref(reply))
            .await?;
        Ok(())
    }
}
