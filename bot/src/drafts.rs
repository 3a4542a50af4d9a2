//! Publishing a reply in progress as `draft` frames on the room's live channel.
//! Drafts are ephemeral and lossy by design: each carries the whole text so
//! far, at most one goes out per interval, and the sequenced message with the
//! same id replaces them (a client ignores a draft of a message it has).

use std::time::Duration;

use chat_core::live::{DraftFrame, DraftSender, DraftState, DraftTag, live_channel};
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use uuid::Uuid;

use crate::metrics as m;

/// The drafts of one reply. The newest text is handed to a task of its own,
/// so a slow Redis never holds up reading the model's stream, and texts that
/// come faster than the interval are folded into the next frame.
///
/// Dropped before [`Drafts::finish`] (the reply failed silently, or was
/// abandoned at shutdown), it tells the room that no reply is coming.
#[derive(Debug)]
pub struct Drafts {
    frame: DraftFrame,
    latest: watch::Sender<Option<String>>,
    published_any: bool,
    finished: bool,
}

impl Drafts {
    pub fn new(
        redis: ConnectionManager,
        room: Uuid,
        id: Uuid,
        reply_to: Uuid,
        sender: DraftSender,
        interval: Duration,
    ) -> Self {
        let (latest, receiver) = watch::channel(None);
        tokio::spawn(publish_loop(redis, room, receiver, interval));
        Self {
            frame: DraftFrame {
                tag: DraftTag::Draft,
                room,
                id,
                reply_to,
                sender,
                body: String::new(),
                state: DraftState::Streaming,
            },
            latest,
            published_any: false,
            finished: false,
        }
    }

    /// The text so far; it goes out with the next frame.
    pub fn update(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.frame.body = text.to_owned();
        self.latest.send_replace(Some(self.frame.encode()));
        self.published_any = true;
    }

    /// The reply is on its way as a message (which replaces the drafts).
    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Drafts {
    fn drop(&mut self) {
        if !self.finished && self.published_any {
            self.frame.state = DraftState::Cancelled;
            self.frame.body = String::new();
            // the last frame: the publish loop sends it, then ends
            self.latest.send_replace(Some(self.frame.encode()));
        }
    }
}

/// Publishes the newest text whenever it changed, at most once per `interval`,
/// until the [`Drafts`] is gone.
async fn publish_loop(
    mut redis: ConnectionManager,
    room: Uuid,
    mut latest: watch::Receiver<Option<String>>,
    interval: Duration,
) {
    let channel = live_channel(room);
    while latest.changed().await.is_ok() {
        let Some(text) = latest.borrow_and_update().clone() else {
            continue;
        };
        let published: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(text)
            .query_async(&mut redis)
            .await;
        match published {
            Ok(_) => metrics::counter!(m::DRAFTS).increment(1),
            Err(error) => tracing::debug!(%error, room.id = %room, "draft not published"),
        }
        tokio::time::sleep(interval).await;
    }
}
