//! Accounts: sign up, log in, refresh, log out, and who am I.
//!
//! A login session is a family of refresh tokens: each refresh rotates the
//! cookie's token, and a token presented twice revokes the family.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract;
use crate::auth::refresh::{RefreshToken, removal_cookie};
use crate::auth::{AuthUser, ClientAddr, throttle};
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

/// An access token for `user`, and the cookie jar with their new refresh token.
fn session(
    state: &AppState,
    jar: CookieJar,
    user: User,
    refresh: &RefreshToken,
) -> Result<(CookieJar, Json<Session>), ApiError> {
    let (access_token, _) = state.tokens.issue(user.id, &user.username)?;
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
    db::tokens::insert(
        &state.pool,
        user.id,
        Uuid::now_v7(),
        &refresh.hash(),
        state.config.refresh_ttl_secs,
    )
    .await?;
    session(state, jar, user, &refresh)
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
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    jar: CookieJar,
    extract::Json(body): extract::Json<CredentialsBody>,
) -> Result<(StatusCode, CookieJar, Json<Session>), ApiError> {
    let username = Username::parse_new(&body.username)?;
    let password = Password::parse(body.password, &username)?;
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
        (status = 429, description = "Too many attempts for this account or from this address; see `Retry-After`", body = ErrorBody),
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
            throttle::count_account_attempt(
                &state.redis,
                &name.folded(),
                config.login_max_failures_per_account,
            )
            .await?;
            db::users::credentials(&state.pool, name).await?
        }
        None => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let verified = state.passwords.verify(body.password, hash).await?;
    let (Some(credentials), Some(name), true) = (credentials, username, verified) else {
        return Err(ApiError::BadCredentials);
    };
    throttle::clear_account(&state.redis, &name.folded()).await?;
    start_session(&state, jar, credentials.user()).await
}

/// Trades the `chat_refresh` cookie for a new access token and a new refresh token.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "accounts",
    params(("chat_refresh" = String, Cookie, description = "The refresh token, set by sign-up, login and refresh")),
    responses(
        (status = 200, description = "A new access token; the cookie holds a new refresh token", body = Session,
            headers(("Set-Cookie" = String, description = "The new `chat_refresh` cookie"))),
        (status = 401, description = "No, an unknown, expired or already used refresh token (a reused one ends its login everywhere)", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
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
    )
    .await;
    match rotation {
        Ok(Rotation::Rotated(user)) => {
            session(&state, jar, user, &next).map_err(|e| (CookieJar::new(), e))
        }
        Ok(Rotation::Reused) => {
            tracing::warn!("a used refresh token was presented again: its login is revoked");
            Err(refused(jar, ApiError::Unauthenticated))
        }
        Ok(Rotation::Unknown) => Err(refused(jar, ApiError::Unauthenticated)),
        Err(error) => Err((CookieJar::new(), error.into())),
    }
}

/// Ends the login of the `chat_refresh` cookie (every token of it) and clears the cookie.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "accounts",
    params(("chat_refresh" = Option<String>, Cookie, description = "The refresh token of the login to end, if any")),
    responses((status = 204, description = "Logged out; the cookie is cleared",
        headers(("Set-Cookie" = String, description = "An expired `chat_refresh` cookie"))))
)]
pub async fn log_out(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    if let Some(token) = RefreshToken::from_jar(&jar) {
        db::tokens::revoke_family(&state.pool, &token.hash()).await?;
    }
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
