//! Idempotent send (G2): which message a sender's client message id names.
//!
//! A send is resolved against two places, in this order:
//!
//! 1. **Postgres**, by the unique `(sender_id, client_msg_id)`: a stored
//!    message is answered from its row (same id, room and seq) however old it
//!    is, and nothing is produced again.
//! 2. **Redis**, `chat:dedupe:{sender}:{client_msg_id}`, claimed with
//!    `SET NX GET EX SEQUENCER_TTL_SECS`: the first send writes its [`Claim`];
//!    a resend of a message that is not stored yet finds it and rebuilds the
//!    identical event, which is produced again (the writer and the sequencer
//!    treat an id once).
//!
//! A message's id is derived from its sender and client message id
//! ([`chat_core::event::message_id`]), so even a resend that neither place
//! remembers (Redis lost the claim before the writer stored the message) is
//! the same message: the same id, stored once, sequenced once.
//!
//! Step 1 is read in the same round trip as the sender's membership
//! ([`Dedupe::standing_and_stored`]), on a held connection
//! ([`HeldConnections`]). While Postgres cannot be read (an
//! error, or no answer within 200 ms; the lookup is then skipped for 2 s and
//! membership read alone), the claim alone decides (sends go on: Kafka is
//! the durable step), so a resend older than its claim in that window gets
//! its id but maybe another seq.
//!
//! So the claim only has to live until its message is stored: the writer's
//! lag, minutes. Once anything may have been produced it is never released:
//! whatever happened to the first try, a resend carries the same id. A claim
//! made beside the send's reads, for a send then refused (not a member, slow
//! mode) or found stored, is released ([`Dedupe::release`]). A resend whose
//! content differs from the original's (op, target, emoji, reply_to or body: a client message id reused
//! for another event) is refused ([`DedupeError::OtherBody`]): the claim keeps
//! a digest of the content, never the text, so a deleted message's text is not
//! in its claim either.

use chat_core::ChatEvent;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::held::HeldConnections;
use crate::membership::{Membership, Standing};
use crate::state::AppState;

mod claim;
pub use claim::Claim;

/// How long a send waits for Postgres to say whether its message is stored
/// before it goes on with the Redis claim alone (Postgres down or stalled:
/// sends go on, Kafka is the durable step).
const STORED_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

/// After Postgres failed to answer a lookup, the next ones are skipped for this
/// long: a send then waits for nothing that is down.
const STORED_LOOKUP_BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// Remembers when the stored-message lookup last failed.
#[derive(Debug, Default)]
pub struct LookupBreaker {
    failed_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl LookupBreaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<std::time::Instant>> {
        self.failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// False for a moment after a failure.
    fn should_try(&self) -> bool {
        self.lock()
            .is_none_or(|at| at.elapsed() >= STORED_LOOKUP_BACKOFF)
    }

    fn failed(&self) {
        *self.lock() = Some(std::time::Instant::now());
    }

    fn answered(&self) {
        *self.lock() = None;
    }
}

/// Redis key of a sender's claim on a client message id.
pub fn dedupe_key(sender: Uuid, client_msg_id: &str) -> String {
    format!("chat:dedupe:{sender}:{client_msg_id}")
}

/// A stored message's place: the answer to a resend of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    pub room: Uuid,
    pub seq: i64,
}

/// What a send turned out to be.
#[derive(Debug)]
pub enum Resolved {
    /// A first send: it now owns the claim; produce this event.
    New(ChatEvent),
    /// A resend of a message that may not be stored yet: produce this event
    /// (the original's, identical) again.
    Pending(ChatEvent),
    /// A resend of a stored message: nothing to produce.
    Stored(Stored),
}

impl Resolved {
    /// The room the message is (or will be) posted in.
    pub fn room(&self) -> Uuid {
        match self {
            Self::New(event) | Self::Pending(event) => event.room_id,
            Self::Stored(stored) => stored.room,
        }
    }
}

/// Why a send could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DedupeError {
    #[error("the client message id names another event or a message with another body")]
    OtherBody,
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("a dedupe claim could not be read")]
    Unreadable,
}

/// The dedupe step of one gateway: Postgres first, then the Redis claim.
#[derive(Debug)]
pub struct Dedupe<'a> {
    redis: &'a ConnectionManager,
    pool: &'a PgPool,
    held: &'a HeldConnections,
    breaker: &'a LookupBreaker,
    ttl_secs: u64,
}

impl<'a> Dedupe<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Self {
            redis: &state.redis,
            pool: &state.pool,
            held: &state.held,
            breaker: &state.stored_lookup,
            ttl_secs: state.config.sequencer.ttl_secs.max(1),
        }
    }

    /// The sender's standing in `fresh`'s room and step 1 (the stored
    /// message `fresh` may be a resend of; `OtherBody` if it holds other
    /// content), in one round trip to Postgres.
    ///
    /// Postgres down or stalled, or the messages table locked (the writer
    /// waits it out): sends go on with the claim alone, the standing read
    /// alone or answered from the membership's memory.
    pub async fn standing_and_stored(
        &self,
        membership: &Membership,
        fresh: &ChatEvent,
    ) -> (
        Result<Option<Standing>, sqlx::Error>,
        Result<Option<Stored>, DedupeError>,
    ) {
        let (room, sender) = (fresh.room_id, fresh.sender_id);
        if !self.breaker.should_try() {
            return (membership.standing(room, sender).await, Ok(None));
        }
        let read = async {
            let client_msg_id = fresh.client_msg_id.clone();
            let both = self.held.run(move |conn| {
                Box::pin(async move {
                    db::messages::standing_and_sent(conn, room, sender, &client_msg_id).await
                })
            });
            match tokio::time::timeout(STORED_LOOKUP_TIMEOUT, both).await {
                Ok(Ok((standing, sent))) => {
                    self.breaker.answered();
                    Ok((standing, sent))
                }
                Ok(Err(error)) => {
                    self.breaker.failed();
                    tracing::warn!(%error, "stored messages not readable; deduplicating in Redis only");
                    Err(error)
                }
                Err(_) => {
                    self.breaker.failed();
                    tracing::warn!(
                        timeout_ms = STORED_LOOKUP_TIMEOUT.as_millis() as u64,
                        "stored messages not read in time; deduplicating in Redis only"
                    );
                    let standing = db::moderation::send_standing(self.pool, room, sender).await?;
                    Ok((standing, None))
                }
            }
        };
        match membership.standing_read_with(room, sender, read).await {
            Err(error) => (Err(error), Ok(None)),
            Ok((standing, sent)) => (Ok(standing), answer(sent.flatten(), fresh)),
        }
    }

    /// Step 2 alone: claims `fresh`'s client message id in Redis, or finds the
    /// claim of the message it is a resend of (not stored yet).
    pub async fn claim(&self, fresh: ChatEvent) -> Result<Resolved, DedupeError> {
        // The id comes from the sender and the client message id, so a resend
        // whose claim Redis lost before the message was stored is still the
        // same message: the writer stores one row, the sequencer gives one seq.
        let fresh = ChatEvent {
            id: chat_core::event::message_id(fresh.sender_id, &fresh.client_msg_id),
            ..fresh
        };
        let previous: Option<Vec<u8>> = redis::cmd("SET")
            .arg(dedupe_key(fresh.sender_id, &fresh.client_msg_id))
            .arg(Claim::of(&fresh).encode()?)
            .arg("NX")
            .arg("GET")
            .arg("EX")
            .arg(self.ttl_secs)
            .query_async(&mut self.redis.clone())
            .await?;
        match previous {
            None => Ok(Resolved::New(fresh)),
            Some(bytes) => Ok(Resolved::Pending(Claim::decode(&bytes)?.event_for(fresh)?)),
        }
    }

    /// Takes back the claim of `event` (the first send's, [`Resolved::New`])
    /// when nothing was produced: a refused send, or one found stored. Only
    /// that very claim is deleted. A failure leaves it to its expiry (a later
    /// send with this client message id is then taken for a resend of it).
    pub async fn release(&self, event: &ChatEvent) {
        let Ok(bytes) = Claim::of(event).encode() else {
            return;
        };
        let released: Result<i64, _> = RELEASE
            .key(dedupe_key(event.sender_id, &event.client_msg_id))
            .arg(bytes)
            .invoke_async(&mut self.redis.clone())
            .await;
        if let Err(error) = released {
            tracing::warn!(%error, "a dedupe claim was not released");
        }
    }
}

/// Deletes a claim if it still holds the given bytes.
static RELEASE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        ",
    )
});

/// A resend's answer from the stored row it names, if any: `OtherBody` when
/// the row holds other content.
fn answer(
    sent: Option<db::messages::SentMessage>,
    fresh: &ChatEvent,
) -> Result<Option<Stored>, DedupeError> {
    let Some(sent) = sent else {
        return Ok(None);
    };
    if !same_content(&sent, fresh) {
        return Err(DedupeError::OtherBody);
    }
    Ok(Some(Stored {
        id: sent.id,
        room: sent.room_id,
        seq: sent.seq,
    }))
}

/// True when the stored row is the event `fresh` describes: same op, target,
/// emoji, reply and text (a deleted text cannot be compared, and is not).
fn same_content(stored: &db::messages::SentMessage, fresh: &ChatEvent) -> bool {
    let x = &fresh.ext;
    stored.op == x.op
        && stored.target_id == x.target
        && stored.reply_to == x.reply_to
        && stored.emoji == x.emoji
        && (stored.scrubbed || stored.body == fresh.body)
}
