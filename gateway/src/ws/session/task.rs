//! The connection's one task: it owns the socket and selects over the
//! client's frames, the answer to the last one while it runs, the direct
//! queue, the rooms' feeds, one timer (pings and the token's expiry), the
//! session's revocation and the gateway's shutdown.
//!
//! A frame that needs an answer (a subscribe and its replay, a status change
//! in Redis, an `auth`) is answered in a task of its own that holds the
//! reader while it runs: the connection's task keeps writing frames and
//! pings meanwhile (a stuck write still closes the socket), a stuck write
//! holds up no answer, and the client's next frame is read once the answer
//! is done (in order, as before). An idle connection holds one task.

use std::future::{pending, poll_fn};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, close_code};
use futures::StreamExt;
use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;

use crate::auth::token::now_secs;
use crate::state::AppState;
use crate::ws::protocol::UserRef;

use super::gated::{Gate, Gated};
use super::reader::{Answer, Read, Reader};
use super::writer::{Close, Step, Writer};
use super::{CLOSE_TOO_SLOW, Outbound};

/// Where the client's side of the connection stands.
enum Reading {
    /// Waiting for the client's next frame.
    Idle(Box<Reader>),
    /// Answering a frame; nothing is read until it is done.
    Answering(Answer),
    /// The client closed, left or was told to go: nothing more is read.
    Ended(Box<Reader>),
    /// The answer's task failed (a panic): the reader and its rooms are lost.
    Lost,
}

impl Reading {
    fn idle(&self) -> bool {
        matches!(self, Self::Idle(_))
    }

    fn answering(&self) -> bool {
        matches!(self, Self::Answering(_))
    }

    /// The running answer's end (pending forever when none runs: the select
    /// only polls this while one does).
    async fn answered(&mut self) -> Result<Box<Reader>, JoinError> {
        match self {
            Self::Answering(answer) => answer.await,
            Self::Idle(_) | Self::Ended(_) | Self::Lost => pending().await,
        }
    }

    /// Takes a message read from the socket (only while idle); true when
    /// the client's side has ended.
    fn read(&mut self, message: Option<Result<Message, axum::Error>>) -> bool {
        let Self::Idle(reader) = std::mem::replace(self, Self::Lost) else {
            return false;
        };
        let (next, ended) = match reader.on_read(message) {
            Read::Done(reader) => (Self::Idle(reader), false),
            Read::Answering(answer) => (Self::Answering(answer), false),
            Read::Ended(reader) => (Self::Ended(reader), true),
        };
        *self = next;
        ended
    }
}

/// The instant a token expiring at `exp` (seconds since the epoch) expires.
fn until_expiry(exp: u64) -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(exp.saturating_sub(now_secs()))
}

/// The connection's parts the task works with.
pub(super) struct Parts<'a> {
    pub(super) socket: &'a mut WebSocket,
    pub(super) state: &'a AppState,
    pub(super) user: &'a UserRef,
    pub(super) connection: &'a str,
    pub(super) revoked: &'a CancellationToken,
}

/// Runs the connection until the client leaves, breaks a limit, its token
/// expires, its session is revoked, or the gateway shuts down; the close
/// frame is sent. Returns the reader (its rooms, its send worker) once its
/// last answer is done (`None` if an answer's task failed).
pub(super) async fn drive(
    parts: Parts<'_>,
    out: flume::Receiver<Box<Outbound>>,
    reader: Box<Reader>,
) -> Option<Box<Reader>> {
    let Parts {
        socket,
        state,
        user,
        connection,
        revoked,
    } = parts;
    let mut w = Writer::new(socket, state, user, connection);
    // one timer for pings and the token's expiry, whichever comes first; an
    // `auth` frame moves the expiry
    let every = Duration::from_secs(state.config.ws_ping_secs.max(1));
    let mut next_ping = tokio::time::Instant::now() + every;
    let mut token_exp = reader.token_exp;
    let mut expires = until_expiry(token_exp);
    let timer = tokio::time::sleep_until(next_ping.min(expires));
    tokio::pin!(timer);
    // made once, not at every wake: each one made and dropped is a lock on
    // its notifier. It is this connection's own (its session's, a child of
    // the shutdown token): with one shared by all connections every wake of
    // every connection took the same two locks. Gated, it is polled only
    // after it woke the task, not at every frame.
    let ended = revoked.cancelled();
    tokio::pin!(ended);
    let mut ended = Gated::new(ended);
    let mut reading = Reading::Idle(reader);
    // the client's frames and the direct queue wake the task seldom, the
    // rooms' feeds at every frame: each is polled only after it woke the task
    let read_gate = Gate::new();
    // the direct queue, waited on by one stream for the connection's life
    let mut direct = Gated::new(out.stream());
    // the task's own waker, for the polls of the batching loop below: with a
    // no-op waker each of those swapped out the waker its source held, and
    // the select's next poll swapped it back (a clone and a drop each time)
    let waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
    // the client's side ended: what is queued still goes out, then the task stops
    let mut draining = false;
    // a frame taken that did not fit the last batch: it starts the next
    let mut carried = None;
    let close: Close = 'wakes: loop {
        let step = if let Some(step) = carried.take() {
            step
        } else if draining {
            match out.try_recv() {
                Ok(item) => w.on_direct(Some(*item)),
                Err(_) => Step::Stop(None),
            }
        } else {
            tokio::select! {
                biased;
                () = &mut ended => Step::Stop(Some(if state.shutdown.is_cancelled() {
                    (close_code::AWAY, "server shutting down; reconnect")
                } else {
                    (close_code::POLICY, "session ended")
                })),
                () = &mut timer => {
                    let now = tokio::time::Instant::now();
                    if now >= expires {
                        Step::Stop(Some((close_code::POLICY, "token expired")))
                    } else {
                        next_ping = now + every;
                        timer.as_mut().reset(next_ping.min(expires));
                        Step::Ping
                    }
                }
                answered = reading.answered(), if reading.answering() => {
                    let Ok(reader) = answered else {
                        // the answer's task panicked: the connection ends as if its task had
                        reading = Reading::Lost;
                        break None;
                    };
                    if reader.token_exp != token_exp {
                        token_exp = reader.token_exp;
                        expires = until_expiry(token_exp);
                        timer.as_mut().reset(next_ping.min(expires));
                    }
                    reading = if reader.closing {
                        // what is queued (the close frame last) still goes out
                        draining = true;
                        Reading::Ended(reader)
                    } else {
                        Reading::Idle(reader)
                    };
                    continue;
                }
                message = poll_fn(|cx| {
                    read_gate.poll(cx, |cx| w.socket.poll_next_unpin(cx))
                }), if reading.idle() => {
                    // the client is gone: what is queued still goes out, then the task stops
                    draining = reading.read(message);
                    continue;
                }
                item = direct.next() => w.on_direct(item.map(|item| *item)),
                Some((room, item)) = w.streams.next() => w.on_room(room, item),
            }
        };
        if let Some(close) = w.take(step).await {
            break close;
        }
        // what else is ready now goes into the same write, in the order it
        // would have gone alone: direct frames first, then the rooms' feeds
        while w.room_for_more() {
            let step = {
                let mut cx = Context::from_waker(&waker);
                match direct.poll_next_unpin(&mut cx) {
                    Poll::Ready(item) => w.on_direct(item.map(|item| *item)),
                    Poll::Pending => match w.streams.poll_next_unpin(&mut cx) {
                        Poll::Ready(Some((room, item))) => w.on_room(room, item),
                        _ => break,
                    },
                }
            };
            if w.overflows(&step) {
                carried = Some(step);
                break;
            }
            if let Some(close) = w.take(step).await {
                break 'wakes close;
            }
        }
        if !w.flush().await {
            break Some((CLOSE_TOO_SLOW, "too slow"));
        }
    };
    // what was fed before a stop still goes out, ahead of the close frame
    if (!w.batching() || w.flush().await)
        && let Some((code, reason)) = close
    {
        w.close(code, reason).await;
    }
    // an answer still running finds the queue closed (its frames go nowhere) and ends
    drop(direct);
    drop(out);
    match reading {
        Reading::Idle(reader) | Reading::Ended(reader) => Some(reader),
        Reading::Answering(answer) => answer.await.ok(),
        Reading::Lost => None,
    }
}
