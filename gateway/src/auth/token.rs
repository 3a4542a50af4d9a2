//! Access tokens: short-lived HS256 JWTs with the algorithm pinned and
//! `exp`, `iss`, `aud`, `sub` and `sid` (the login session) required.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::GatewayConfig;
use crate::error::ApiError;

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The login session (refresh-token family) the token belongs to: logout
    /// and a reused refresh token revoke it, and with it this token.
    pub sid: Uuid,
    /// The user's name at the time of issue.
    pub name: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// Keys and rules for issuing and checking access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Seconds since 1970.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenKeys {
    pub fn new(config: &GatewayConfig) -> Self {
        let secret = config.jwt_secret.as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        // `sid` is required by `Claims` itself (a token without one does not decode)
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_secs: config.access_ttl_secs,
        }
    }

    /// A new access token for the user in login session `sid`, and its claims.
    pub fn issue(
        &self,
        user: Uuid,
        username: &str,
        sid: Uuid,
    ) -> Result<(String, Claims), ApiError> {
        let iat = now_secs();
        let claims = Claims {
            sub: user,
            sid,
            name: username.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat,
            exp: iat + self.ttl_secs,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("token encoding: {e}")))?;
        Ok((token, claims))
    }

    /// The claims of a valid token; any flaw (forged, expired, other algorithm,
    /// other issuer or audience, malformed) is `Unauthenticated`.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| ApiError::Unauthenticated)
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }
}
