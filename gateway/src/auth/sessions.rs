//! Ended sessions. A session is one login: a refresh-token family, whose id is
//! the `sid` of every access token it issues. Logout and a reused refresh token
//! revoke it: the revocation is stored in Redis for as long as one of its
//! access tokens can live, announced on a pub/sub channel that every gateway
//! listens to, and each gateway closes the session's sockets with 1008.
//!
//! Checking a revocation fails closed: with Redis unreachable, a request with
//! an access token gets `503` rather than being trusted (the tickets that open
//! sockets live in Redis too). A socket registers its session here before its
//! first frame, and checks once more after registering, so a revocation
//! published between its ticket's redemption and its registration is not lost;
//! after a pub/sub reconnect every registered session is checked again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::ApiError;

/// The channel on which revoked session ids are announced.
pub const CHANNEL: &str = "chat:sessions:revoked";

fn key(sid: Uuid) -> String {
    format!("chat:session:revoked:{sid}")
}

/// Revoked sessions, and this instance's sockets by session.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    redis: ConnectionManager,
    /// How long a revocation is kept: an access token's lifetime and its leeway.
    ttl_secs: u64,
    sockets: Mutex<HashMap<Uuid, HashMap<u64, CancellationToken>>>,
    next_socket: AtomicU64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("ttl_secs", &self.inner.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// A socket's place in the registry; dropping it unregisters the socket.
pub struct SocketRegistration {
    inner: Arc<Inner>,
    sid: Uuid,
    id: u64,
    /// Cancelled when the socket's session is revoked, or when the server
    /// shuts down (a child of its shutdown token).
    pub revoked: CancellationToken,
}

impl std::fmt::Debug for SocketRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketRegistration")
            .field("sid", &self.sid)
            .field("revoked", &self.revoked.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Drop for SocketRegistration {
    fn drop(&mut self) {
        let mut sockets = self
            .inner
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(of_session) = sockets.get_mut(&self.sid) {
            of_session.remove(&self.id);
            if of_session.is_empty() {
                sockets.remove(&self.sid);
            }
        }
    }
}

impl Sessions {
    /// Revocations kept `access_ttl_secs` (plus the tokens' leeway and a margin).
    pub fn new(redis: ConnectionManager, access_ttl_secs: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                redis,
                ttl_secs: access_ttl_secs.saturating_add(60),
                sockets: Mutex::default(),
                next_socket: AtomicU64::new(0),
            }),
        }
    }

    /// Ends session `sid`: its access tokens and tickets are refused from now
    /// on, and its sockets on every gateway are closed.
    pub async fn revoke(&self, sid: Uuid) -> Result<(), ApiError> {
        let result = redis::pipe()
            .cmd("SET")
            .arg(key(sid))
            .arg(1)
            .arg("EX")
            .arg(self.inner.ttl_secs)
            .ignore()
            .cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(sid.to_string())
            .ignore()
            .query_async::<()>(&mut self.inner.redis.clone())
            .await;
        // this instance's sockets close even if Redis could not be told
        self.close_local(sid);
        result?;
        Ok(())
    }

    /// `Unauthenticated` when session `sid` was revoked; `Unavailable` when
    /// Redis cannot say (fail closed).
    pub async fn ensure_active(&self, sid: Uuid) -> Result<(), ApiError> {
        let revoked: bool = redis::cmd("EXISTS")
            .arg(key(sid))
            .query_async(&mut self.inner.redis.clone())
            .await?;
        if revoked {
            Err(ApiError::Unauthenticated)
        } else {
            Ok(())
        }
    }

    /// Registers a socket of session `sid`; its `revoked` token is cancelled
    /// when the session ends (already cancelled if it has ended, or if Redis
    /// cannot say) or when `shutdown` is. One token for both: a connection
    /// waits on its own token, never on the one all connections share.
    pub async fn register_socket(
        &self,
        sid: Uuid,
        shutdown: &CancellationToken,
    ) -> SocketRegistration {
        let revoked = shutdown.child_token();
        let id = self.inner.next_socket.fetch_add(1, Ordering::Relaxed);
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(sid)
            .or_default()
            .insert(id, revoked.clone());
        if self.ensure_active(sid).await.is_err() {
            revoked.cancel();
        }
        SocketRegistration {
            inner: self.inner.clone(),
            sid,
            id,
            revoked,
        }
    }

    /// Sockets of this instance, registered under session `sid`.
    pub fn local_sockets(&self, sid: Uuid) -> usize {
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&sid)
            .map_or(0, HashMap::len)
    }

    fn close_local(&self, sid: Uuid) {
        let sockets = self
            .inner
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&sid)
            .map(|of_session| of_session.values().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for socket in sockets {
            socket.cancel();
        }
    }

    fn registered(&self) -> Vec<Uuid> {
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// Listens on [`CHANNEL`] until `shutdown` (see [`crate::channel`]),
    /// closing the local sockets of every session announced there; after each
    /// (re)subscription checks every registered session (announcements may
    /// have been missed).
    pub fn spawn_listener(
        &self,
        redis_url: &str,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
        crate::channel::spawn(redis_url, CHANNEL, self.clone(), shutdown)
    }

    async fn recheck_registered(&self) {
        for sid in self.registered() {
            if matches!(
                self.ensure_active(sid).await,
                Err(ApiError::Unauthenticated)
            ) {
                self.close_local(sid);
            }
        }
    }
}

impl crate::channel::Listener for Sessions {
    const WHAT: &'static str = "revocations";

    fn subscribed(&self) -> impl std::future::Future<Output = ()> + Send {
        self.recheck_registered()
    }

    fn message(&self, payload: &[u8]) {
        let sid = std::str::from_utf8(payload)
            .ok()
            .and_then(|s| s.parse::<Uuid>().ok());
        if let Some(sid) = sid {
            self.close_local(sid);
        }
    }
}
