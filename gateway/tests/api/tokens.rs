//! Refresh tokens (the cookie, rotation, reuse, logout) and access tokens that must be refused.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::common::{Gateway, SECRET, Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn the_refresh_cookie_is_http_only_strict_and_scoped_to_the_auth_endpoints() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.cookie_secure = true;
    let gateway = Gateway::start(config).await;

    let response = sign_up(&gateway, &unique("gina"), PASSWORD).await;

    let cookie = refresh_set_cookie(&response).expect("refresh cookie");
    let attributes: Vec<String> = cookie
        .split(';')
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for expected in [
        "httponly",
        "samesite=strict",
        "path=/api/auth",
        "secure",
        "max-age=3600",
    ] {
        assert!(
            attributes.iter().any(|a| a == expected),
            "{expected} in {cookie}"
        );
    }
    assert_eq!(refresh_token(&response).len(), 64, "256 random bits, hex");
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_a_reused_one_ends_the_login() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let signed_up = sign_up(&gateway, &unique("hank"), PASSWORD).await;
    let first = refresh_token(&signed_up);

    let refreshed = refresh_with(&gateway, &first).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let second = refresh_token(&refreshed);
    assert_ne!(first, second, "a refresh hands out a new token");
    let session = json_of(refreshed).await;
    let token = session["access_token"].as_str().expect("token");
    assert_eq!(
        me_with(&gateway, &format!("Bearer {token}")).await.status(),
        StatusCode::OK
    );
    // the grace window for racing or retried refreshes (REFRESH_REUSE_GRACE_SECS) has passed
    sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour' \
         WHERE rotated_at IS NOT NULL",
    )
    .execute(&stack.db.pool)
    .await
    .expect("rotation backdated");

    let reused = refresh_with(&gateway, &first).await;
    assert_eq!(
        reused.status(),
        StatusCode::UNAUTHORIZED,
        "the old token is refused"
    );

    let after_reuse = refresh_with(&gateway, &second).await;
    assert_eq!(
        after_reuse.status(),
        StatusCode::UNAUTHORIZED,
        "the reuse revoked the whole family"
    );
    assert_eq!(
        me_with(&gateway, &format!("Bearer {token}")).await.status(),
        StatusCode::UNAUTHORIZED,
        "and the login's access token"
    );
    let still_valid: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
            .fetch_one(&stack.db.pool)
            .await
            .expect("count");
    assert_eq!(still_valid, 0, "no token of the login is left");
}

#[tokio::test]
async fn a_refresh_without_a_known_token_is_refused() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    let none = bare_client()
        .post(gateway.url("/api/auth/refresh"))
        .send()
        .await
        .expect("request");
    let unknown = refresh_with(&gateway, &"ab".repeat(32)).await;
    let garbage = refresh_with(&gateway, "not-a-token").await;

    for response in [none, unknown, garbage] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn logging_out_revokes_the_refresh_token_and_clears_the_cookie() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let token = refresh_token(&sign_up(&gateway, &unique("ivy"), PASSWORD).await);

    let logged_out = bare_client()
        .post(gateway.url("/api/auth/logout"))
        .header(COOKIE, format!("chat_refresh={token}"))
        .send()
        .await
        .expect("request");

    assert_eq!(logged_out.status(), StatusCode::NO_CONTENT);
    let cleared = refresh_set_cookie(&logged_out).expect("the cookie is cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );
    assert_eq!(
        refresh_with(&gateway, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let without_cookie = bare_client()
        .post(gateway.url("/api/auth/logout"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        without_cookie.status(),
        StatusCode::NO_CONTENT,
        "logging out twice is harmless"
    );
}

#[tokio::test]
async fn forged_expired_or_malformed_access_tokens_are_refused() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "jack").await;
    let valid = claims_for(user.id, now_secs() + 600);
    let none_token = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(valid.to_string().as_bytes())
    );
    let mut other_audience = valid.clone();
    other_audience["aud"] = json!("someone-else");

    let refused = [
        (
            "expired",
            sign(
                &claims_for(user.id, now_secs() - 3600),
                jsonwebtoken::Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "wrong key",
            sign(
                &valid,
                jsonwebtoken::Algorithm::HS256,
                "another-secret-0123456789-abcdefghijklmnop",
            ),
        ),
        ("alg none", none_token),
        (
            "other algorithm",
            sign(&valid, jsonwebtoken::Algorithm::HS384, SECRET),
        ),
        (
            "other audience",
            sign(&other_audience, jsonwebtoken::Algorithm::HS256, SECRET),
        ),
        ("malformed", "not.a.token".to_owned()),
    ];
    for (what, token) in refused {
        let response = me_with(&gateway, &format!("Bearer {token}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            json_of(response).await["error"]["code"],
            "unauthenticated",
            "{what}"
        );
    }
    let no_header = bare_client()
        .get(gateway.url("/api/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(no_header.status(), StatusCode::UNAUTHORIZED);

    let forged_right = sign(&valid, jsonwebtoken::Algorithm::HS256, SECRET);
    assert_eq!(
        me_with(&gateway, &format!("Bearer {forged_right}"))
            .await
            .status(),
        StatusCode::OK,
        "the same claims signed with the real key pass: the refusals above are about the flaw"
    );
}
