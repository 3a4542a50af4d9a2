//! Sessions end: logout and a reused refresh token refuse the login's access
//! tokens, its tickets and its sockets (on every gateway); racing refreshes
//! both succeed; the cookie endpoints refuse cross-site requests; an `auth`
//! frame moves a socket's expiry to its new token's.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::common::{Gateway, ORIGIN, Socket, Stack, WAIT};
use crate::helpers::*;

/// The close code of `socket`, which must close within the deadline (pings
/// in between do not extend it).
async fn close_code(socket: &mut Socket) -> Option<u16> {
    tokio::time::timeout(WAIT, socket.closed_with())
        .await
        .expect("the socket is closed within the deadline")
}

#[tokio::test]
async fn logging_out_refuses_the_sessions_access_token_and_tickets() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let (access, refresh) = session_of(sign_up(&gateway, &unique("lena"), PASSWORD).await).await;
    let bought_before = ticket_of(&gateway, &access).await;

    assert_eq!(
        log_out_with(&gateway, &refresh).await.status(),
        StatusCode::NO_CONTENT
    );

    let me = me_with(&gateway, &format!("Bearer {access}")).await;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "HTTP with the old token"
    );
    assert_eq!(json_of(me).await["error"]["code"], "unauthenticated");
    assert_eq!(
        ticket_with(&gateway, &access).await.status(),
        StatusCode::UNAUTHORIZED,
        "a ticket for the old token"
    );
    assert!(
        Socket::open(gateway.addr, &bought_before, ORIGIN)
            .await
            .is_err(),
        "a ticket bought before the logout no longer opens a socket"
    );
}

#[tokio::test]
async fn logging_out_closes_the_sessions_sockets_with_1008_on_every_gateway() {
    let stack = Stack::start().await;
    let first = stack.gateway().await;
    let second = stack.gateway().await;
    let name = unique("mona");
    let (access, refresh) = session_of(sign_up(&first, &name, PASSWORD).await).await;
    let (other_login, _) = session_of(log_in(&first, &name, PASSWORD).await).await;
    let mut here = Socket::open(first.addr, &ticket_of(&first, &access).await, ORIGIN)
        .await
        .expect("socket on the first gateway");
    let mut there = Socket::open(second.addr, &ticket_of(&second, &access).await, ORIGIN)
        .await
        .expect("socket on the second gateway");
    let mut unrelated = Socket::open(second.addr, &ticket_of(&second, &other_login).await, ORIGIN)
        .await
        .expect("socket of another login");

    assert_eq!(
        log_out_with(&first, &refresh).await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        close_code(&mut here).await,
        Some(1008),
        "on the gateway that logged out"
    );
    assert_eq!(
        close_code(&mut there).await,
        Some(1008),
        "on another gateway"
    );
    unrelated.send(json!({ "type": "ping", "nonce": 7 })).await;
    assert_eq!(
        unrelated.next_of("pong").await["nonce"],
        7,
        "another login of the same user stays open"
    );
    assert_eq!(
        me_with(&second, &format!("Bearer {other_login}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_racing_refreshes_both_succeed() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let (_, first) = session_of(sign_up(&gateway, &unique("nina"), PASSWORD).await).await;

    let (a, b) = tokio::join!(
        refresh_with(&gateway, &first),
        refresh_with(&gateway, &first)
    );

    assert_eq!(a.status(), StatusCode::OK, "one refresh");
    assert_eq!(b.status(), StatusCode::OK, "the other, racing it");
    for (access, next) in [session_of(a).await, session_of(b).await] {
        assert_eq!(
            me_with(&gateway, &format!("Bearer {access}"))
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            refresh_with(&gateway, &next).await.status(),
            StatusCode::OK,
            "each successor works"
        );
    }
}

#[tokio::test]
async fn a_refresh_retried_within_the_grace_window_succeeds() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let (_, first) = session_of(sign_up(&gateway, &unique("omar"), PASSWORD).await).await;
    let lost = refresh_with(&gateway, &first).await;
    assert_eq!(lost.status(), StatusCode::OK);

    let retried = refresh_with(&gateway, &first).await;

    assert_eq!(
        retried.status(),
        StatusCode::OK,
        "a retry after a lost answer"
    );
    let (access, _) = session_of(retried).await;
    assert_eq!(
        me_with(&gateway, &format!("Bearer {access}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_refresh_token_reused_after_the_grace_window_ends_the_session() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.refresh_reuse_grace_secs = 0;
    let gateway = Gateway::start(config).await;
    let (_, first) = session_of(sign_up(&gateway, &unique("pia"), PASSWORD).await).await;
    let (access, second) = session_of(refresh_with(&gateway, &first).await).await;
    let mut socket = Socket::open(gateway.addr, &ticket_of(&gateway, &access).await, ORIGIN)
        .await
        .expect("socket");

    let reused = refresh_with(&gateway, &first).await;

    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh_with(&gateway, &second).await.status(),
        StatusCode::UNAUTHORIZED,
        "the successor is revoked with its login"
    );
    assert_eq!(
        me_with(&gateway, &format!("Bearer {access}"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the login's access token is refused"
    );
    assert_eq!(
        close_code(&mut socket).await,
        Some(1008),
        "its socket is closed"
    );
}

#[tokio::test]
async fn the_cookie_endpoints_refuse_cross_site_requests_with_403() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let (_, refresh) = session_of(sign_up(&gateway, &unique("quinn"), PASSWORD).await).await;

    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        for (header, value) in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let response = bare_client()
                .post(gateway.url(path))
                .header(COOKIE, format!("chat_refresh={refresh}"))
                .header(header, value)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {header}");
            assert_eq!(
                json_of(response).await["error"]["code"],
                "cross_site",
                "{path} {header}"
            );
        }
    }
    let same_site = bare_client()
        .post(gateway.url("/api/auth/refresh"))
        .header(COOKIE, format!("chat_refresh={refresh}"))
        .header("origin", ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(
        same_site.status(),
        StatusCode::OK,
        "the site's own origin is served, and the refused requests used nothing up"
    );
}

#[tokio::test]
async fn an_auth_frame_renews_a_socket_only_with_a_token_of_its_own_live_session() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let name = unique("nils");
    let (access, refresh) = session_of(sign_up(&gateway, &name, PASSWORD).await).await;
    let (other_access, other_refresh) = session_of(log_in(&gateway, &name, PASSWORD).await).await;
    let mut socket = Socket::open(gateway.addr, &ticket_of(&gateway, &access).await, ORIGIN)
        .await
        .expect("socket of the first login");

    // A fresh token of the socket's own session renews it: no error.
    let renewed = json_of(refresh_with(&gateway, &refresh).await).await["access_token"]
        .as_str()
        .expect("a renewed access token")
        .to_owned();
    socket.send(json!({"type": "auth", "token": renewed})).await;
    socket.send(json!({"type": "ping", "nonce": 1})).await;
    socket.next_of("pong").await;

    // A token of another login of the same user, which has ended since: refused.
    assert_eq!(
        log_out_with(&gateway, &other_refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    socket
        .send(json!({"type": "auth", "token": other_access}))
        .await;
    let refused = socket.next_of("error").await;
    assert_eq!(
        refused["code"], "unauthenticated",
        "a token of an ended session renews nothing: {refused}"
    );
}

/// When an access token expires (seconds since the epoch), read from its claims.
fn expiry_of(token: &str) -> u64 {
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode_claims(token).expect("a JWT");
    claims["exp"].as_u64().expect("exp")
}

#[tokio::test]
async fn an_auth_frame_keeps_the_socket_open_past_the_old_tokens_expiry_until_the_new_ones() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.access_ttl_secs = 3;
    let gateway = Gateway::start(config).await;
    let (access, refresh) = session_of(sign_up(&gateway, &unique("ines"), PASSWORD).await).await;
    let first_expiry = expiry_of(&access);
    let mut socket = Socket::open(gateway.addr, &ticket_of(&gateway, &access).await, ORIGIN)
        .await
        .expect("socket");

    // renewed in the first token's last second, so the new one outlives it
    test_support::wait_until("the first token's last second", WAIT, || async {
        (now_secs() + 1 >= first_expiry).then_some(())
    })
    .await;
    let renewed = json_of(refresh_with(&gateway, &refresh).await).await["access_token"]
        .as_str()
        .expect("a renewed access token")
        .to_owned();
    let second_expiry = expiry_of(&renewed);
    assert!(
        second_expiry > first_expiry + 1,
        "the renewed token lives longer"
    );
    socket.send(json!({"type": "auth", "token": renewed})).await;

    // past the first token's expiry the socket still answers
    test_support::wait_until("the first token's expiry to pass", WAIT, || async {
        (now_secs() > first_expiry).then_some(())
    })
    .await;
    socket.send(json!({"type": "ping", "nonce": 1})).await;
    socket.next_of("pong").await;

    // and it is closed when the renewed one expires
    assert_eq!(close_code(&mut socket).await, Some(1008));
    assert!(
        now_secs() >= second_expiry,
        "closed at the renewed token's expiry, not before"
    );
}
