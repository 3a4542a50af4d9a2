//! The HTTP API's error type and the one place it becomes a status code.
//!
//! Handlers return `Result<_, ApiError>`. Internal errors are logged here, once,
//! and answered with an opaque message: database text never reaches a client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a field is invalid.
    #[error("{0}")]
    Invalid(String),
    /// Missing, expired or forged credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Wrong username or password (one answer for both).
    #[error("invalid username or password")]
    BadCredentials,
    /// Authenticated, but not allowed (e.g. not a member of the room).
    #[error("not allowed")]
    Forbidden,
    /// Not allowed, with a reason that is safe to show the caller.
    #[error("{0}")]
    Refused(&'static str),
    /// The user is banned from the room (joining, being invited).
    #[error("banned from this room")]
    Banned,
    /// A request from another site to an endpoint the refresh cookie authenticates.
    #[error("cross-site request refused")]
    CrossSite,
    #[error("not found")]
    NotFound,
    /// The request was not answered within the API's time limit.
    #[error("the request took too long")]
    Timeout,
    /// The route exists, but not with this method (the `Allow` header lists those it has).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request clashes with existing state (a taken username).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Too many password hashes are running or waiting; try again after this many seconds.
    #[error("too busy; try again shortly")]
    Busy { retry_after_secs: u64 },
    /// A dependency (database, Redis, Kafka) is unavailable.
    #[error("service temporarily unavailable")]
    Unavailable,
    /// A bug or an unexpected failure; details are logged, not returned.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid`, `unauthenticated`, `conflict`.
    pub code: &'static str,
    /// Human-readable explanation, safe to show.
    pub message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            Self::Forbidden | Self::Refused(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::CrossSite => (StatusCode::FORBIDDEN, "cross_site"),
            Self::Banned => (StatusCode::FORBIDDEN, "banned"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) => match db.constraint() {
                Some("users_username_key") => Self::Conflict("that username is taken".into()),
                Some("users_username_shape") => Self::invalid(
                    "a username is 3 to 32 letters, digits, dots, dashes or underscores",
                ),
                Some("rooms_name_length") => Self::invalid("a room name is 1 to 80 characters"),
                _ => Self::Internal(error.to_string()),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(%error, "postgres unavailable");
                Self::Unavailable
            }
            _ => Self::Internal(error.to_string()),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(error: redis::RedisError) -> Self {
        tracing::warn!(%error, "redis unavailable");
        Self::Unavailable
    }
}

impl From<chat_core::SequencerError> for ApiError {
    fn from(error: chat_core::SequencerError) -> Self {
        tracing::warn!(%error, "sequencer unavailable");
        Self::Unavailable
    }
}
