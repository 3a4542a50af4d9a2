//! The client's side of a connection: what to do with each frame read from
//! the socket. Parses the client's frames, applies the limits, answers
//! `subscribe`, `unsubscribe`, `typing`, `ping`, `auth` and `status`, and
//! queues sends and room events (edit, delete, react, unreact) for the send
//! worker. Answers go to the connection's direct queue ([`Outbox`]), never to
//! the socket: the connection's task writes them while an answer that waits
//! (a subscribe's replay, a status change) is still running.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, Utf8Bytes, close_code};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::relay::live_channel;
use crate::state::AppState;
use crate::ws::events::Action;
use crate::ws::protocol::{ClientFrame, ErrorCode, ServerFrame, Status, UserRef, encode};
use crate::ws::subscribe;

use super::send_worker::send_worker;
use super::{Outbound, Outbox, SendRequest, TYPING_EVERY};

/// The close code and reason for a read error of the WebSocket library, found
/// by the error's type along its sources: `1009` for a message or frame over
/// the size limits, `1007` for a text message that is not UTF-8, `1002` for
/// other violations of RFC 6455 (an unmasked frame, reserved bits, a bad
/// fragment). `None` when the peer is simply gone.
fn close_for(error: &axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::ProtocolError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(ws) = e.downcast_ref::<tungstenite::Error>() {
            return match ws {
                tungstenite::Error::Capacity(_)
                | tungstenite::Error::Protocol(ProtocolError::ControlFrameTooBig) => {
                    Some((close_code::SIZE, "message too big"))
                }
                tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "text is not UTF-8")),
                tungstenite::Error::Protocol(
                    ProtocolError::ResetWithoutClosingHandshake
                    | ProtocolError::SendAfterClosing
                    | ProtocolError::ReceivedAfterClosing,
                ) => None,
                tungstenite::Error::Protocol(_) => {
                    Some((close_code::PROTOCOL, "protocol violation"))
                }
                _ => None,
            };
        }
        source = e.source();
    }
    None
}

/// The send worker of a connection: its queue (`WS_MAX_IN_FLIGHT` sends) and its task.
pub(super) struct SendWorker {
    queue: mpsc::Sender<Box<SendRequest>>,
    pub(super) task: JoinHandle<()>,
}

/// An answer to a frame, running in a task of its own: it owns the reader
/// and hands it back when done.
pub(super) type Answer = JoinHandle<Box<Reader>>;

/// What the connection's task does after reading one message.
pub(super) enum Read {
    /// Nothing more to do: read the next message.
    Done(Box<Reader>),
    /// An answer runs: read nothing until it is done.
    Answering(Answer),
    /// The client is gone or closed: read nothing more.
    Ended(Box<Reader>),
}

/// What the client's frames need, and the state they change. Boxed where it
/// is held: moved at every answer, and kept out of the futures that hold it.
pub(super) struct Reader {
    pub(super) state: AppState,
    pub(super) user: UserRef,
    /// The login session the socket was opened for: only its tokens renew it.
    pub(super) sid: Uuid,
    pub(super) connection: Arc<str>,
    pub(super) out: Outbox,
    /// The send worker and its queue, once the connection has sent something.
    pub(super) worker: Option<SendWorker>,
    /// When the connection's token expires (seconds since the epoch); an
    /// `auth` frame moves it.
    pub(super) token_exp: u64,
    pub(super) rooms: HashSet<Uuid>,
    pub(super) typing: HashMap<Uuid, Instant>,
    pub(super) frames: governor::DefaultDirectRateLimiter,
    /// Subscribes that replay messages (`WS_REPLAYS_PER_MIN`).
    pub(super) replays: governor::DefaultDirectRateLimiter,
    /// Set once a close frame is queued: nothing more is read.
    pub(super) closing: bool,
    /// The person's activity as the client last said it (`status` frames).
    pub(super) status: Status,
    /// Status changes (`STATUS_PER_MIN`).
    pub(super) statuses: governor::DefaultDirectRateLimiter,
}

impl Reader {
    /// What one read from the socket leads to. Frames that need no answer
    /// (the client's pings and pongs within the frame rate) are taken here;
    /// the others start an answer in a task of its own, which runs while the
    /// connection's task writes (a stuck write holds up no query, no pool
    /// connection) and holds an answer's state (a subscribe's replay, a
    /// send's checks) only while it runs.
    pub(super) fn on_read(
        mut self: Box<Self>,
        message: Option<Result<Message, axum::Error>>,
    ) -> Read {
        match message {
            Some(Ok(Message::Text(text))) => Read::Answering(tokio::spawn(async move {
                self.on_text(text.as_str()).await;
                self
            })),
            Some(Ok(Message::Binary(_))) => Read::Answering(tokio::spawn(async move {
                if self.count_frame().await {
                    self.error(ErrorCode::BadFrame, "frames are JSON text", None, None)
                        .await;
                }
                self
            })),
            // the library answers pings itself; they count all the same
            Some(Ok(Message::Ping(_) | Message::Pong(_))) if self.frames.check().is_ok() => {
                Read::Done(self)
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                Read::Answering(tokio::spawn(async move {
                    self.close(close_code::POLICY, "too many frames").await;
                    self
                }))
            }
            Some(Ok(Message::Close(_))) | None => Read::Ended(self),
            Some(Err(error)) => match close_for(&error) {
                // say why before the socket goes
                Some((code, reason)) => Read::Answering(tokio::spawn(async move {
                    self.close(code, reason).await;
                    self
                })),
                None => Read::Ended(self),
            },
        }
    }

    /// Counts a frame against the connection's frame rate; past it the
    /// connection is closed with 1008. Returns false when closing.
    async fn count_frame(&mut self) -> bool {
        if self.frames.check().is_err() {
            self.close(close_code::POLICY, "too many frames").await;
            return false;
        }
        true
    }

    async fn on_text(&mut self, text: &str) {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(_) => {
                if !self.count_frame().await {
                    return;
                }
                self.error(
                    ErrorCode::BadFrame,
                    "not a valid frame of protocol 1",
                    None,
                    None,
                )
                .await;
                return;
            }
        };
        // sends and room events have their own per-user limit (refused ones
        // count there too); every other frame counts here
        let frame = match Action::of_frame(frame) {
            Ok((room, client_msg_id, action)) => {
                return self.send(room, client_msg_id, action).await;
            }
            Err(other) => other,
        };
        if !self.count_frame().await {
            return;
        }
        match frame {
            ClientFrame::Subscribe {
                room,
                last_seq,
                epoch,
            } => self.subscribe(room, last_seq, epoch).await,
            ClientFrame::Unsubscribe { room } => {
                if self.rooms.remove(&room) {
                    let _ = self.out.send(Outbound::Detach(room)).await;
                    let _ = self
                        .state
                        .presence
                        .leave(room, &self.user, &self.connection)
                        .await;
                    self.text(encode(&ServerFrame::Unsubscribed { room })).await;
                } else {
                    self.error(
                        ErrorCode::NotSubscribed,
                        "not subscribed to this room",
                        Some(room),
                        None,
                    )
                    .await;
                }
            }
            ClientFrame::Send { .. }
            | ClientFrame::Edit { .. }
            | ClientFrame::Delete { .. }
            | ClientFrame::React { .. }
            | ClientFrame::Unreact { .. } => {} // queued above
            ClientFrame::Typing { room } => self.typing(room).await,
            ClientFrame::Ping { nonce } => self.text(encode(&ServerFrame::Pong { nonce })).await,
            ClientFrame::Status { status } => self.set_status(status).await,
            ClientFrame::Auth { token } => match self.state.tokens.verify(&token) {
                Ok(claims)
                    if claims.sub == self.user.id
                        && claims.sid == self.sid
                        && self.state.sessions.ensure_active(claims.sid).await.is_ok() =>
                {
                    self.token_exp = claims.exp;
                }
                _ => {
                    self.error(
                        ErrorCode::Unauthenticated,
                        "token not valid for this connection",
                        None,
                        None,
                    )
                    .await
                }
            },
        }
    }

    async fn subscribe(&mut self, room: Uuid, last_seq: Option<i64>, epoch: Option<u64>) {
        if !self.rooms.contains(&room) && self.rooms.len() >= self.state.config.ws_max_rooms {
            self.error(
                ErrorCode::TooManyRooms,
                "too many rooms on this connection",
                Some(room),
                None,
            )
            .await;
            return;
        }
        if self.rooms.contains(&room) {
            // a re-subscribe (after a resync): replace the old feed
            let _ = self.out.send(Outbound::Detach(room)).await;
        }
        match subscribe::subscribe(
            &self.state,
            subscribe::Subscriber {
                user: &self.user,
                connection: &self.connection,
                status: self.status,
            },
            room,
            subscribe::Resume { last_seq, epoch },
            &self.replays,
            &self.out,
        )
        .await
        {
            Ok(()) => {
                self.rooms.insert(room);
            }
            Err(refused) => {
                self.rooms.remove(&room);
                // the refusal may come after the presence entry was made
                let _ = self
                    .state
                    .presence
                    .leave(room, &self.user, &self.connection)
                    .await;
                self.error(refused.code, refused.message, Some(room), None)
                    .await;
            }
        }
    }

    /// The client says its person is away or active again: the presence of
    /// every room the connection follows learns it. The same status again
    /// costs nothing; changes are rate-limited.
    async fn set_status(&mut self, status: Status) {
        if status == self.status {
            return;
        }
        if self.statuses.check().is_err() {
            self.error(
                ErrorCode::RateLimited,
                "too many status changes; slow down",
                None,
                None,
            )
            .await;
            return;
        }
        self.status = status;
        crate::ws::status::announce(
            &self.state,
            &self.user,
            &self.connection,
            &self.rooms,
            status,
        )
        .await;
    }

    /// Queues a message or a room event for the send worker, within the send rate.
    async fn send(&mut self, room: Uuid, client_msg_id: String, action: Action) {
        if self.state.send_limiter.check_key(&self.user.id).is_err() {
            if !self.count_frame().await {
                return;
            }
            self.error(
                ErrorCode::RateLimited,
                "too many messages; slow down",
                Some(room),
                Some(&client_msg_id),
            )
            .await;
            return;
        }
        let request = Box::new(SendRequest {
            room,
            client_msg_id,
            action,
        });
        if let Err(
            mpsc::error::TrySendError::Full(request) | mpsc::error::TrySendError::Closed(request),
        ) = self.send_queue().try_send(request)
        {
            self.error(
                ErrorCode::RateLimited,
                "too many messages in flight; slow down",
                Some(room),
                Some(&request.client_msg_id),
            )
            .await;
        }
    }

    /// The send worker's queue, the worker started on the connection's first send.
    fn send_queue(&mut self) -> &mpsc::Sender<Box<SendRequest>> {
        let worker = self.worker.get_or_insert_with(|| {
            let (queue, requests) = mpsc::channel(self.state.config.ws_max_in_flight.max(1));
            let task = tokio::spawn(send_worker(
                self.state.clone(),
                self.user.clone(),
                requests,
                self.out.clone(),
            ));
            SendWorker { queue, task }
        });
        &worker.queue
    }

    async fn typing(&mut self, room: Uuid) {
        if !self.rooms.contains(&room) {
            self.error(
                ErrorCode::NotSubscribed,
                "subscribe to the room first",
                Some(room),
                None,
            )
            .await;
            return;
        }
        let now = Instant::now();
        if self
            .typing
            .get(&room)
            .is_some_and(|at| now.duration_since(*at) < TYPING_EVERY)
        {
            return;
        }
        self.typing.insert(room, now);
        if !matches!(
            crate::db::rooms::is_member(&self.state.pool, room, self.user.id).await,
            Ok(true)
        ) {
            self.error(
                ErrorCode::Forbidden,
                "not a member of this room",
                Some(room),
                None,
            )
            .await;
            return;
        }
        let frame = encode(&ServerFrame::Typing {
            room,
            user: self.user.clone(),
        });
        let _ = redis::cmd("PUBLISH")
            .arg(live_channel(room))
            .arg(frame.as_str())
            .query_async::<i64>(&mut self.state.redis.clone())
            .await;
    }

    async fn text(&self, text: Utf8Bytes) {
        let _ = self.out.send(Outbound::Text(text)).await;
    }

    async fn error(
        &self,
        code: ErrorCode,
        message: &str,
        room: Option<Uuid>,
        client_msg_id: Option<&str>,
    ) {
        self.text(encode(&ServerFrame::Error {
            code,
            message,
            room,
            client_msg_id,
            retry_after_ms: None,
        }))
        .await;
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        self.closing = true;
        let _ = self.out.send(Outbound::Close(code, reason)).await;
    }
}
