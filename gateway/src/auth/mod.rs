//! Authentication: password hashing (bounded by [`hashing`]), access tokens,
//! refresh-token cookies, sessions and their revocation, sign-up and login
//! throttling, WebSocket tickets, the cross-site check of the cookie endpoints,
//! and the extractors that turn a request into an authenticated user.

pub mod extractor;
pub mod hashing;
pub mod origin;
pub mod password;
pub mod refresh;
pub mod sessions;
pub mod throttle;
pub mod ticket;
pub mod token;

pub use extractor::{AuthUser, ClientAddr};
pub use password::Passwords;
pub use sessions::Sessions;
pub use token::{Claims, TokenKeys};
