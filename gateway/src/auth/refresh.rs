//! Refresh tokens as the browser holds them: an opaque 256-bit secret in the
//! `chat_refresh` cookie (HttpOnly, SameSite=Strict, Path=/api/auth). The
//! server keeps only its SHA-256 (see `db::tokens`).

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use crate::auth::ticket::random_secret;
use crate::config::GatewayConfig;

/// Name of the cookie that carries the refresh token.
pub const COOKIE: &str = "chat_refresh";
/// The cookie is sent only to the token endpoints.
pub const COOKIE_PATH: &str = "/api/auth";

/// A refresh token's secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

impl RefreshToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        Self(random_secret())
    }

    /// The token in the request's cookie, if it has the shape of one.
    pub fn from_jar(jar: &CookieJar) -> Option<Self> {
        let value = jar.get(COOKIE)?.value();
        (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(value.to_owned()))
    }

    /// What the database stores and looks up: SHA-256 of the secret.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// The `Set-Cookie` that hands this token to the browser for the configured lifetime.
    pub fn cookie(&self, config: &GatewayConfig) -> Cookie<'static> {
        let max_age = i64::try_from(config.refresh_ttl_secs).unwrap_or(i64::MAX);
        let mut cookie = base_cookie(self.0.clone(), config);
        cookie.set_max_age(time::Duration::seconds(max_age));
        cookie
    }
}

/// The `Set-Cookie` that makes the browser forget its refresh token.
pub fn removal_cookie(config: &GatewayConfig) -> Cookie<'static> {
    let mut cookie = base_cookie(String::new(), config);
    cookie.make_removal();
    cookie
}

fn base_cookie(value: String, config: &GatewayConfig) -> Cookie<'static> {
    let mut cookie = Cookie::new(COOKIE, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_path(COOKIE_PATH);
    cookie.set_secure(config.cookie_secure);
    cookie
}
