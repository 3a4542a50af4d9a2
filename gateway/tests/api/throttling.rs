//! Sign-up and login limits: per address, per account and address, per
//! account, and overall. Other client addresses are other loopback addresses.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;

use crate::common::{Gateway, Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_guessing_attacker_is_throttled_while_the_owner_still_logs_in() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "olga").await;
    let attacker = client_from([127, 0, 0, 2]);
    let limit = stack
        .gateway_config()
        .login_max_failures_per_account_address;

    let mut throttled = 0;
    for attempt in 1..=limit + 10 {
        let response = log_in_with(&attacker, &gateway, &owner.username, "a wrong guess").await;
        match response.status() {
            StatusCode::UNAUTHORIZED => assert!(attempt <= limit, "guess {attempt} is throttled"),
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("guess {attempt}: {other}"),
        }
    }
    let right_from_attacker = log_in_with(&attacker, &gateway, &owner.username, PASSWORD).await;
    let owner_login = log_in_with(
        &client_from([127, 0, 0, 3]),
        &gateway,
        &owner.username,
        PASSWORD,
    )
    .await;

    assert_eq!(throttled, 10, "every guess past the limit is throttled");
    assert_eq!(
        right_from_attacker.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address stays throttled"
    );
    assert_eq!(
        owner_login.status(),
        StatusCode::OK,
        "the owner at another address logs in during the attack"
    );
}

#[tokio::test]
async fn past_the_account_limit_only_addresses_the_owner_used_before_may_try() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.login_max_failures_per_account_address = 3;
    config.login_max_failures_per_account = 6;
    let gateway = Gateway::start(config).await;
    let owner = User::sign_up(&gateway, "otto").await;
    let home = client_from([127, 0, 0, 1]);
    assert_eq!(
        log_in_with(&home, &gateway, &owner.username, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    for ip in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        for _ in 0..3 {
            let guess =
                log_in_with(&client_from(ip), &gateway, &owner.username, "a wrong guess").await;
            assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let new_address = log_in_with(
        &client_from([127, 0, 0, 4]),
        &gateway,
        &owner.username,
        PASSWORD,
    )
    .await;
    let owner_at_home = log_in_with(&home, &gateway, &owner.username, PASSWORD).await;

    assert_eq!(
        new_address.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "past the account's limit a new address waits"
    );
    assert!(new_address.headers().contains_key(RETRY_AFTER));
    assert_eq!(
        owner_at_home.status(),
        StatusCode::OK,
        "an address the owner logged in from still works"
    );
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.signup_max_per_address = 2;
    let gateway = Gateway::start(config).await;
    let flooder = client_from([127, 0, 0, 2]);

    for attempt in 1..=2 {
        let response = sign_up_with(&flooder, &gateway).await;
        assert_eq!(response.status(), StatusCode::CREATED, "sign-up {attempt}");
    }
    let refused = sign_up_with(&flooder, &gateway).await;
    let elsewhere = sign_up_with(&client_from([127, 0, 0, 3]), &gateway).await;

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1..=3600).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!(json_of(refused).await["error"]["code"], "rate_limited");
    assert_eq!(
        elsewhere.status(),
        StatusCode::CREATED,
        "other addresses are not affected"
    );
}

#[tokio::test]
async fn sign_ups_from_all_addresses_together_are_limited() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.signup_max_per_minute = 3;
    let gateway = Gateway::start(config).await;

    for ip in [[127, 0, 0, 2], [127, 0, 0, 3], [127, 0, 0, 4]] {
        let response = sign_up_with(&client_from(ip), &gateway).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let refused = sign_up_with(&client_from([127, 0, 0, 5]), &gateway).await;

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(RETRY_AFTER));
}
