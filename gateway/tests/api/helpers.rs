//! What the API tests share: raw requests, the refresh cookie by hand, forged
//! tokens, and messages seeded straight into Postgres.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Gateway, Stack, User};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..8])
}

/// A client without a cookie store: tests handle the refresh cookie by hand.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

pub async fn post_json(gateway: &Gateway, path: &str, body: Value) -> reqwest::Response {
    bare_client()
        .post(gateway.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

pub async fn sign_up(gateway: &Gateway, username: &str, password: &str) -> reqwest::Response {
    post_json(
        gateway,
        "/api/auth/signup",
        json!({ "username": username, "password": password }),
    )
    .await
}

pub async fn log_in(gateway: &Gateway, username: &str, password: &str) -> reqwest::Response {
    post_json(
        gateway,
        "/api/auth/login",
        json!({ "username": username, "password": password }),
    )
    .await
}

/// The raw `Set-Cookie` of the refresh cookie in `response`.
pub fn refresh_set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("chat_refresh="))
        .map(str::to_owned)
}

/// The value of the refresh cookie set by `response`.
pub fn refresh_token(response: &reqwest::Response) -> String {
    let header = refresh_set_cookie(response).expect("a refresh cookie is set");
    let pair = header.split(';').next().expect("name=value");
    pair.trim_start_matches("chat_refresh=").to_owned()
}

pub async fn refresh_with(gateway: &Gateway, token: &str) -> reqwest::Response {
    bare_client()
        .post(gateway.url("/api/auth/refresh"))
        .header(COOKIE, format!("chat_refresh={token}"))
        .send()
        .await
        .expect("request")
}

pub async fn me_with(gateway: &Gateway, authorization: &str) -> reqwest::Response {
    bare_client()
        .get(gateway.url("/api/me"))
        .header(AUTHORIZATION, authorization)
        .send()
        .await
        .expect("request")
}

pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

/// The OpenAPI document as a gateway serves it.
pub async fn openapi_document(gateway: &Gateway) -> Value {
    json_of(
        bare_client()
            .get(gateway.url("/api/openapi.json"))
            .send()
            .await
            .expect("request"),
    )
    .await
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn claims_for(user: Uuid, exp: u64) -> Value {
    json!({ "sub": user, "sid": Uuid::new_v4(), "name": "someone", "iss": "chat", "aud": "chat-web", "iat": now_secs(), "exp": exp })
}

pub fn sign(claims: &Value, algorithm: jsonwebtoken::Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token encodes")
}

/// Unpadded base64url, for hand-made tokens.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Stores messages with seqs `1..=count` in `room`, as the writer would.
pub async fn seed_messages(stack: &Stack, room: Uuid, sender: Uuid, count: i64) {
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         SELECT gen_random_uuid(), $1, s, $2, $1::text || '-' || s, 'user', 'message ' || s, now()
         FROM generate_series(1, $3::bigint) s",
    )
    .bind(room)
    .bind(sender)
    .bind(count)
    .execute(&stack.db.pool)
    .await
    .expect("messages seeded");
}

pub fn seqs(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .expect("messages array")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

pub async fn history(user: &User, room: Uuid, query: &str) -> Value {
    let response = user
        .get(&format!("/api/rooms/{room}/messages{query}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "history {query}");
    json_of(response).await
}

/// A client without a cookie store whose requests come from `ip`, a loopback
/// address such as 127.0.0.2: the gateway sees it as another client address.
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .expect("client")
}

/// Logs in with `client` (see [`client_from`]).
pub async fn log_in_with(
    client: &reqwest::Client,
    gateway: &Gateway,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(gateway.url("/api/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("request")
}

/// Signs up with `client` (see [`client_from`]).
pub async fn sign_up_with(client: &reqwest::Client, gateway: &Gateway) -> reqwest::Response {
    client
        .post(gateway.url("/api/auth/signup"))
        .json(&json!({ "username": unique("flood"), "password": PASSWORD }))
        .send()
        .await
        .expect("request")
}

pub async fn log_out_with(gateway: &Gateway, refresh_token: &str) -> reqwest::Response {
    bare_client()
        .post(gateway.url("/api/auth/logout"))
        .header(COOKIE, format!("chat_refresh={refresh_token}"))
        .send()
        .await
        .expect("request")
}

/// `POST /api/ws-ticket` with `access_token`.
pub async fn ticket_with(gateway: &Gateway, access_token: &str) -> reqwest::Response {
    bare_client()
        .post(gateway.url("/api/ws-ticket"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request")
}

/// A ticket bought with `access_token`; panics unless the gateway sells one.
pub async fn ticket_of(gateway: &Gateway, access_token: &str) -> String {
    let response = ticket_with(gateway, access_token).await;
    assert_eq!(response.status(), StatusCode::OK, "a ticket is sold");
    json_of(response).await["ticket"]
        .as_str()
        .expect("ticket")
        .to_owned()
}

/// The access token of a sign-up, login or refresh answer, and its refresh cookie.
pub async fn session_of(response: reqwest::Response) -> (String, String) {
    assert!(
        response.status().is_success(),
        "a session: {}",
        response.status()
    );
    let refresh = refresh_token(&response);
    let access = json_of(response).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    (access, refresh)
}
