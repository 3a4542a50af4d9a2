//! Extractors: the authenticated user from `Authorization: Bearer` (a valid
//! token of a session that was not revoked), and the client's address (from
//! nginx's `X-Forwarded-For` when configured to trust it).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// A request made with a valid access token of a session that was not revoked.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub username: String,
    /// The login session of the token.
    pub sid: Uuid,
    /// When the token expires (seconds since 1970).
    pub exp: u64,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        let claims = state.tokens.verify(token.trim())?;
        state.sessions.ensure_active(claims.sid).await?;
        Ok(Self {
            id: claims.sub,
            username: claims.name,
            sid: claims.sid,
            exp: claims.exp,
        })
    }
}

/// The address of the client: the TCP peer, or, behind our own nginx
/// (`TRUST_FORWARDED_FOR=true`), the last `X-Forwarded-For` hop, which nginx
/// sets to the peer it saw. Rate limits key on this, never on a raw header.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        if state.config.trust_forwarded_for
            && let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Ok(Self(forwarded));
        }
        Ok(Self(peer))
    }
}
