//! A Redis pub/sub channel every gateway listens on (ended sessions, room
//! changes, users' feeds): subscribed on a connection of its own, each
//! message handed to a [`Listener`], the connection re-established with
//! backoff (100 ms doubling to 2 s) until shutdown. Messages published while
//! a gateway is not subscribed are lost to it; a listener catches up on what
//! it can in [`Listener::subscribed`].

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

/// What one channel's messages do on this gateway.
pub trait Listener: Send + Sync + 'static {
    /// What the channel carries, for the log ("room changes").
    const WHAT: &'static str;

    /// After every (re)subscription, before its first message.
    fn subscribed(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// One message's payload.
    fn message(&self, payload: &[u8]);
}

/// Listens on `channel` until `shutdown`, handing each message to `listener`.
pub fn spawn<L: Listener>(
    redis_url: &str,
    channel: &'static str,
    listener: L,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let client = chat_core::redis_client::client(redis_url)?;
    Ok(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if pubsub.subscribe(channel).await.is_ok() {
                        backoff = Duration::from_millis(100);
                        listener.subscribed().await;
                        listen(&listener, pubsub, &shutdown).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "redis pub/sub for {} unavailable", L::WHAT),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }))
}

async fn listen<L: Listener>(
    listener: &L,
    mut pubsub: redis::aio::PubSub,
    shutdown: &CancellationToken,
) {
    let mut messages = pubsub.on_message();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            message = messages.next() => match message {
                Some(message) => listener.message(message.get_payload_bytes()),
                None => return,
            },
        }
    }
}
