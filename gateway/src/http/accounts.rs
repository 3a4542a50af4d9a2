//! Accounts: sign up, log in, refresh, log out, and who am I.
//!
//! A login session is a family of refresh tokens, and its id is the `sid` of
//! every access token it issues. Each refresh rotates the cookie's token; a
//! token presented again within `REFRESH_REUSE_GRACE_SECS` (racing refreshes, a
//! retry) gets another successor, later it revokes the session. Logout and such
//! a reuse end the session everywhere (see `auth::sessions`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract;
use crate::auth::origin::NotCrossSite;
use crate::auth::refresh::{RefreshToken, removal_cookie};
use crate::auth::throttle::{self, AccountLimits};
use crate::auth::{AuthUser, ClientAddr};
use crate::db;
use crate::db::tokens::Rotation;
use crate::db::users::User;
use crate::domain::{Password, Username};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(sign_up))
        .route("/api/auth/login", post(log_in))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(log_out))
        .route("/api/me", get(me))
}

/// A username and a password. `Debug` leaves the password out.
///
/// At login, a name or password outside these bounds cannot be an account's:
/// it gets `401 bad_credentials` like any wrong one.
#[derive(Deserialize, ToSchema)]
pub struct CredentialsBody {
    /// 3 to 32 of `A-Z a-z 0-9 _ . -`; unique regardless of case.
    #[schema(
        example = "alice",
        min_length = 3,
        max_length = 32,
        pattern = r"^[A-Za-z0-9_.-]*$"
    )]
    pub username: String,
    /// 10 to 128 characters (Unicode scalar values), not the username (in any case).
    #[schema(
        example = "correct horse battery staple",
        min_length = 10,
        max_length = 128
    )]
    pub password: String,
}

impl std::fmt::Debug for CredentialsBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsBody").finish_non_exhaustive()
    }
}

/// A logged-in session: who, and an access token for `Authorization: Bearer`.
/// The refresh token travels separately, in the `chat_refresh` cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub user: User,
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// An access token for `user` in login session `sid`, and the cookie jar with their new refresh token.
fn session(
    state: &AppState,
    jar: CookieJar,
    user: User,
    sid: Uuid,
    refresh: &RefreshToken,
) -> Result<(CookieJar, Json<Session>), ApiError> {
    let (access_token, _) = state.tokens.issue(user.id, &user.username, sid)?;
    let jar = jar.add(refresh.cookie(&state.config));
    Ok((
        jar,
        Json(Session {
            user,
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.tokens.ttl_secs(),
        }),
    ))
}

/// Starts a new login session (a new refresh-token family) for `user`.
async fn start_session(
    state: &AppState,
    jar: CookieJar,
    user: User,
) -> Result<(CookieJar, Json<Session>), ApiError> {
    let refresh = RefreshToken::generate();
    let sid = Uuid::now_v7();
    db::tokens::insert(
        &state.pool,
        user.id,
        sid,
        &refresh.hash(),
        state.config.refresh_ttl_secs,
    )
    .await?;
    session(state, jar, user, sid, &refresh)
}

/// Creates an account and logs it in.
#[utoipa::path(
    post, path = "/api/auth/signup", tag = "accounts",
    request_body = CredentialsBody,
    responses(
        (status = 201, description = "Signed up and logged in; sets the `chat_refresh` cookie", body = Session,
            headers(("Set-Cookie" = String, description = "The `chat_refresh` cookie"))),
        (status = 409, description = "The username is taken (in any case)", body = ErrorBody),
        (status = 422, description = "Invalid username or password, or a malformed body", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address (`SIGNUP_MAX_PER_ADDRESS` per hour) or from everyone (`SIGNUP_MAX_PER_MINUTE`); see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the window that refused the request ends"))),
        (status = 503, description = "`busy`: every password-hashing slot and queue place is taken, see `Retry-After`; or `unavailable`: a dependency is down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "With `busy`: seconds to wait before trying again"))),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    jar: CookieJar,
    extract::Json(body): extract::Json<CredentialsBody>,
) -> Result<(StatusCode, CookieJar, Json<Session>), ApiError> {
    let username = Username::parse_new(&body.username)?;
    let password = Password::parse(body.password, &username)?;
    throttle::count_sign_up(
        &state.redis,
        addr,
        state.config.signup_max_per_address,
        state.config.signup_max_per_minute,
    )
    .await?;
    let hash = state.passwords.hash(password.into_inner()).await?;
    let user = db::users::insert(&state.pool, &username, &hash).await?;
    tracing::info!(user.id = %user.id, "signed up");
    let (jar, session) = start_session(&state, jar, user).await?;
    Ok((StatusCode::CREATED, jar, session))
}

/// Logs in. Unknown user and wrong password get the same answer, in the same time.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "accounts",
    request_body = CredentialsBody,
    responses(
        (status = 200, description = "Logged in; sets the `chat_refresh` cookie", body = Session,
            headers(("Set-Cookie" = String, description = "The `chat_refresh` cookie"))),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or too many failures for this account from this address, or (from an address the account never logged in from) for this account overall; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the window that refused the request ends"))),
        (status = 503, description = "`busy`: every password-hashing slot and queue place is taken, see `Retry-After`; or `unavailable`: a dependency is down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "With `busy`: seconds to wait before trying again"))),
    )
)]
pub async fn log_in(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    jar: CookieJar,
    extract::Json(body): extract::Json<CredentialsBody>,
) -> Result<(CookieJar, Json<Session>), ApiError> {
    let config = &state.config;
    throttle::count_address_attempt(&state.redis, addr, config.login_max_attempts_per_address)
        .await?;
    // A name that cannot exist is treated like an unknown one.
    let username = Username::parse(&body.username).ok();
    let credentials = match &username {
        Some(name) => {
            let limits = AccountLimits {
                per_address: config.login_max_failures_per_account_address,
                overall: config.login_max_failures_per_account,
            };
            throttle::count_account_attempt(&state.redis, &name.folded(), addr, limits).await?;
            db::users::credentials(&state.pool, name).await?
        }
        None => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let verified = state.passwords.verify(body.password, hash).await?;
    let (Some(credentials), Some(name), true) = (credentials, username, verified) else {
        return Err(ApiError::BadCredentials);
    };
    throttle::login_succeeded(&state.redis, &name.folded(), addr).await?;
    start_session(&state, jar, credentials.user()).await
}

/// Trades the `chat_refresh` cookie for a new access token and a new refresh token.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "accounts",
    params(
        ("chat_refresh" = String, Cookie, description = "The refresh token, set by sign-up, login and refresh"),
        ("Origin" = Option<String>, Header, description = "If present, must be an allowed origin"),
        ("Sec-Fetch-Site" = Option<String>, Header, description = "If present, must not be `cross-site`"),
    ),
    responses(
        (status = 200, description = "A new access token of the same session; the cookie holds a new refresh token. A token rotated less than `REFRESH_REUSE_GRACE_SECS` ago (racing refreshes, a retry) gets another successor", body = Session,
            headers(("Set-Cookie" = String, description = "The new `chat_refresh` cookie"))),
        (status = 401, description = "No, an unknown or expired refresh token, or one of an ended session; a token rotated longer ago than the grace window ends its session everywhere (its access tokens are refused, its sockets closed with 1008)", body = ErrorBody),
        (status = 403, description = "`cross_site`: a foreign `Origin` or `Sec-Fetch-Site: cross-site`; the cookie is left alone", body = ErrorBody),
        (status = 503, description = "Postgres or Redis is unavailable", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    _: NotCrossSite,
    jar: CookieJar,
) -> Result<(CookieJar, Json<Session>), (CookieJar, ApiError)> {
    let refused = |jar: CookieJar, error| (jar.add(removal_cookie(&state.config)), error);
    let Some(presented) = RefreshToken::from_jar(&jar) else {
        return Err(refused(jar, ApiError::Unauthenticated));
    };
    let next = RefreshToken::generate();
    let rotation = db::tokens::rotate(
        &state.pool,
        &presented.hash(),
        &next.hash(),
        state.config.refresh_ttl_secs,
        state.config.refresh_reuse_grace_secs,
    )
    .await;
    match rotation {
        Ok(Rotation::Rotated { user, family }) => {
            session(&state, jar, user, family, &next).map_err(|e| (CookieJar::new(), e))
        }
        Ok(Rotation::Reused { family }) => {
            tracing::warn!(session.id = %family, "a rotated refresh token was presented again: its session is revoked");
            if let Err(error) = state.sessions.revoke(family).await {
                return Err((CookieJar::new(), error));
            }
            Err(refused(jar, ApiError::Unauthenticated))
        }
        Ok(Rotation::Unknown) => Err(refused(jar, ApiError::Unauthenticated)),
        Err(error) => Err((CookieJar::new(), error.into())),
    }
}

/// Ends a login session: the one of the `chat_refresh` cookie, and the one of
/// the access token if one is sent. Its refresh tokens, access tokens and
/// tickets are refused from now on and its sockets closed with 1008.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "accounts",
    params(
        ("chat_refresh" = Option<String>, Cookie, description = "The refresh token of the session to end, if any"),
        ("Origin" = Option<String>, Header, description = "If present, must be an allowed origin"),
        ("Sec-Fetch-Site" = Option<String>, Header, description = "If present, must not be `cross-site`"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Logged out (or nothing to end); the cookie is cleared",
            headers(("Set-Cookie" = String, description = "An expired `chat_refresh` cookie"))),
        (status = 403, description = "`cross_site`: a foreign `Origin` or `Sec-Fetch-Site: cross-site`", body = ErrorBody),
        (status = 503, description = "Postgres or Redis is unavailable: the session may not have ended; retry", body = ErrorBody),
    )
)]
pub async fn log_out(
    State(state): State<AppState>,
    _: NotCrossSite,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    if let Some(token) = RefreshToken::from_jar(&jar)
        && let Some(sid) = db::tokens::revoke_family(&state.pool, &token.hash()).await?
    {
        state.sessions.revoke(sid).await?;
    }
    // a valid access token (even without a cookie) ends its own session too
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| state.tokens.verify(token.trim()).ok());
    if let Some(claims) = bearer {
        db::tokens::revoke_family_id(&state.pool, claims.sid).await?;
        state.sessions.revoke(claims.sid).await?;
    }
    tracing::info!("logged out");
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(removal_cookie(&state.config)),
    ))
}

/// The caller.
#[utoipa::path(
    get, path = "/api/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>, ApiError> {
    db::users::by_id(&state.pool, user.id)
        .await?
        .map(Json)
        .ok_or(ApiError::Unauthenticated)
}
