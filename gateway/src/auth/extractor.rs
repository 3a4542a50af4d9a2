//! Extractors: the authenticated user from `Authorization: Bearer` (a valid
//! token of a session that was not revoked), and the client's address (from
//! `X-Forwarded-For` only when a trusted proxy sent it).

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

/// The address of the client: the TCP peer or, from a peer in
/// `TRUSTED_PROXIES`, the right-most `X-Forwarded-For` entry outside that list
/// ([`crate::http::client_addr`]). Rate limits key on this, never on a raw header.
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
        Ok(Self(crate::http::client_addr::client_addr(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}
