//! Cross-site refusal for the endpoints a cookie authenticates (`refresh`,
//! `logout`): the browser attaches the refresh cookie by itself, so a request
//! made by another site must not get to use it (OWASP CSRF: verify the origin
//! with standard headers, on top of `SameSite=Strict`).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// A request that is not cross-site: its `Sec-Fetch-Site`, if any, is not
/// `cross-site`, and its `Origin`, if any, is an allowed origin. A request with
/// neither header does not come from a browser, the only client that sends the
/// cookie without being asked to.
#[derive(Debug, Clone, Copy)]
pub struct NotCrossSite;

impl FromRequestParts<AppState> for NotCrossSite {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if is_cross_site(&parts.headers, &state.config.allowed_origins) {
            Err(ApiError::CrossSite)
        } else {
            Ok(Self)
        }
    }
}

/// True when the headers say that another site made the request.
pub fn is_cross_site(headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let fetched_cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    let foreign_origin = headers.get(ORIGIN).is_some_and(|origin| {
        !origin
            .to_str()
            .is_ok_and(|origin| allowed_origins.iter().any(|allowed| allowed == origin))
    });
    fetched_cross_site || foreign_origin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn only_the_allowed_origin_or_no_browser_headers_pass() {
        let allowed = vec!["https://chat.example".to_owned()];
        let cases = [
            (vec![], false),
            (vec![("origin", "https://chat.example")], false),
            (vec![("sec-fetch-site", "same-origin")], false),
            (vec![("sec-fetch-site", "none")], false),
            (vec![("origin", "https://evil.example")], true),
            (vec![("origin", "null")], true),
            (vec![("sec-fetch-site", "cross-site")], true),
            (vec![("sec-fetch-site", "Cross-Site")], true),
            (
                vec![
                    ("origin", "https://chat.example"),
                    ("sec-fetch-site", "cross-site"),
                ],
                true,
            ),
        ];
        for (pairs, cross) in cases {
            assert_eq!(
                is_cross_site(&headers(&pairs), &allowed),
                cross,
                "{pairs:?}"
            );
        }
    }
}
