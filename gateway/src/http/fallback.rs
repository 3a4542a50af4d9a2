//! What the router answers when no handler matches: an unknown path is `404
//! not_found`, a known path with another method `405 method_not_allowed`
//! (axum adds the `Allow` header), both with the API's error body.

use crate::error::ApiError;

/// No route has this path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The path exists, but not with this method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
