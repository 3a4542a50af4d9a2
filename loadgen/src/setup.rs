//! Accounts and rooms for a run, made through the site's HTTP API.

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use uuid::Uuid;

/// Where the site is.
#[derive(Debug, Clone)]
pub struct Site {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// The `Origin` the gateways accept.
    pub origin: String,
}

/// A signed-up user and the rooms it sends to.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub token: String,
    pub rooms: Vec<Uuid>,
}

/// Signs up `clients` users; the first creates `rooms` public rooms; each
/// user joins `rooms_per_client` of them, picked with `rng`.
pub async fn setup(
    site: &Site,
    clients: usize,
    rooms: usize,
    rooms_per_client: usize,
    rng: &mut impl Rng,
) -> anyhow::Result<Vec<User>> {
    let http = reqwest::Client::new();
    let run = &Uuid::new_v4().simple().to_string()[..6];
    let mut users = Vec::with_capacity(clients);
    for i in 0..clients {
        users.push(sign_up(&http, site, &format!("soak{run}_{i}")).await?);
    }
    let owner = users
        .first()
        .ok_or_else(|| anyhow::anyhow!("no clients"))?
        .clone();
    let mut room_ids = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let body: Value = post(
            &http,
            site,
            &owner.token,
            "/api/rooms",
            json!({"name": format!("soak {run} {r}"), "kind": "public"}),
        )
        .await?;
        let id = body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("room answer without id: {body}"))?;
        room_ids.push(id);
    }
    for user in &mut users {
        let mut picked = room_ids.clone();
        picked.shuffle(rng);
        picked.truncate(rooms_per_client.clamp(1, rooms));
        for room in &picked {
            post(
                &http,
                site,
                &user.token,
                &format!("/api/rooms/{room}/join"),
                json!({}),
            )
            .await?;
        }
        user.rooms = picked;
    }
    Ok(users)
}

/// Signs one user up; the answer's user id and access token.
pub async fn sign_up(http: &reqwest::Client, site: &Site, username: &str) -> anyhow::Result<User> {
    let response = http
        .post(format!("{}/api/auth/signup", site.base))
        .json(&json!({"username": username, "password": "soak test password 0123"}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status.as_u16() == 201, "signup answered {status}: {body}");
    Ok(User {
        id: body["user"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("signup answer without user id"))?,
        username: username.to_owned(),
        token: body["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("signup answer without token"))?
            .to_owned(),
        rooms: Vec::new(),
    })
}

/// A `POST` with `token`; the answer's JSON (`null` if none), or an error for a non-2xx status.
pub async fn post(
    http: &reqwest::Client,
    site: &Site,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = http
        .post(format!("{}{path}", site.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "POST {path} answered {status}: {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}
