//! What the router answers when no handler does: an unknown path is `404
//! not_found`, a known path with another method `405 method_not_allowed`
//! (axum adds the `Allow` header), a request past the time limit `408
//! timeout`, all with the API's error body.

use tower::BoxError;
use tower::timeout::error::Elapsed;

use crate::error::ApiError;

/// No route has this path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The path exists, but not with this method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The error of the timeout layer: the request took too long. (The routes
/// themselves cannot fail, so nothing else reaches here.)
pub async fn timed_out(error: BoxError) -> ApiError {
    if error.is::<Elapsed>() {
        ApiError::Timeout
    } else {
        ApiError::Internal(error.to_string())
    }
}
