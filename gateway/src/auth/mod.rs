//! Authentication: password hashing, access tokens, refresh-token cookies, login
//! throttling, WebSocket tickets, and the extractors that turn a request into an
//! authenticated user.

pub mod extractor;
pub mod password;
pub mod refresh;
pub mod throttle;
pub mod ticket;
pub mod token;

pub use extractor::{AuthUser, ClientAddr};
pub use password::Passwords;
pub use token::{Claims, TokenKeys};
