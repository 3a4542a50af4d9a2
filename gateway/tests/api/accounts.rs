//! Sign-up, login, the one answer for bad credentials, and login throttling.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;

use crate::common::{Gateway, Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_new_user_can_sign_up_log_in_and_see_themselves() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let username = unique("Alice");

    let signed_up = sign_up(&gateway, &username, PASSWORD).await;
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    assert!(
        refresh_set_cookie(&signed_up).is_some(),
        "sign-up sets the refresh cookie"
    );
    let body = json_of(signed_up).await;
    assert_eq!(body["user"]["username"], username.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);

    let logged_in = log_in(&gateway, &username.to_lowercase(), PASSWORD).await;
    assert_eq!(
        logged_in.status(),
        StatusCode::OK,
        "login ignores the case of the name"
    );
    assert!(
        refresh_set_cookie(&logged_in).is_some(),
        "login sets the refresh cookie"
    );
    let session = json_of(logged_in).await;
    assert_eq!(session["user"], body["user"]);

    let token = session["access_token"].as_str().expect("token");
    let me = me_with(&gateway, &format!("Bearer {token}")).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(json_of(me).await, body["user"]);
}

#[tokio::test]
async fn a_username_taken_in_another_case_is_refused_with_409() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let username = unique("bob");
    assert_eq!(
        sign_up(&gateway, &username, PASSWORD).await.status(),
        StatusCode::CREATED
    );

    let again = sign_up(&gateway, &username.to_uppercase(), PASSWORD).await;

    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(again).await["error"]["code"], "conflict");
}

#[tokio::test]
async fn invalid_sign_ups_are_refused_with_422() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let username = unique("carol");

    let cases = [
        ("ab", PASSWORD),
        ("with space", PASSWORD),
        (username.as_str(), "short"),
        (username.as_str(), &username.to_uppercase()),
    ];
    for (name, password) in cases {
        let response = sign_up(&gateway, name, password).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} / {password:?}"
        );
        assert_eq!(json_of(response).await["error"]["code"], "invalid");
    }
    let malformed = post_json(
        &gateway,
        "/api/auth/signup",
        json!({ "username": username }),
    )
    .await;
    assert_eq!(
        malformed.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a missing field is invalid"
    );
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "dave").await;

    let wrong_password = log_in(&gateway, &user.username, "not the password at all").await;
    let unknown_user = log_in(&gateway, &unique("nobody"), PASSWORD).await;

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);
    assert!(refresh_set_cookie(&wrong_password).is_none());
    assert_eq!(json_of(wrong_password).await, json_of(unknown_user).await);
}

#[tokio::test]
async fn an_account_is_throttled_at_an_address_after_too_many_failed_logins_from_it() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "erin").await;
    let limit = stack
        .gateway_config()
        .login_max_failures_per_account_address;

    for attempt in 1..=limit {
        let response = log_in(&gateway, &user.username, "a wrong password").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let throttled = log_in(&gateway, &user.username.to_uppercase(), PASSWORD).await;

    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry_after: u64 = throttled.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!(json_of(throttled).await["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn a_successful_login_clears_the_failure_count() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "frank").await;
    let limit = stack
        .gateway_config()
        .login_max_failures_per_account_address;

    for _ in 1..limit {
        assert_eq!(
            log_in(&gateway, &user.username, "a wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        log_in(&gateway, &user.username, PASSWORD).await.status(),
        StatusCode::OK
    );

    for attempt in 1..limit {
        let response = log_in(&gateway, &user.username, "a wrong password").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt} after the success"
        );
    }
}

#[tokio::test]
async fn an_address_is_throttled_after_too_many_attempts() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.login_max_attempts_per_address = 3;
    let gateway = Gateway::start(config).await;

    for attempt in 1..=3 {
        let response = log_in(&gateway, &unique("ghost"), PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let throttled = log_in(&gateway, &unique("ghost"), PASSWORD).await;

    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key(RETRY_AFTER));
}
