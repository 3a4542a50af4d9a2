//! The run's accounts and rooms (through the chat's HTTP API), and opening
//! every connection subscribed to its room before a run.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use loadgen::setup::{Site, post, sign_up};
use serde_json::json;
use uuid::Uuid;

use crate::target::{Conn, Target};

/// Connection `i` is `tokens[i]`'s user in `rooms[i]`.
#[derive(Debug, Clone)]
pub struct Users {
    pub tokens: Vec<String>,
    pub rooms: Vec<Uuid>,
}

/// Signs up `n` users; the first creates `rooms` public rooms; user `i` joins room `i / (n / rooms)`.
pub async fn users(chat: &Target, n: usize, rooms: usize) -> anyhow::Result<Users> {
    let Target::Chat { bases, origin } = chat else {
        anyhow::bail!("users are made on the chat");
    };
    let site = Site {
        base: bases[0].clone(),
        origin: origin.clone(),
    };
    let http = reqwest::Client::new();
    let run = &Uuid::new_v4().simple().to_string()[..6];
    let started = Instant::now();
    let signed: Vec<_> = futures::stream::iter(0..n)
        .map(|i| {
            let (http, site) = (&http, &site);
            async move { sign_up(http, site, &format!("fan{run}_{i}")).await }
        })
        .buffered(4)
        .try_collect()
        .await?;
    eprintln!(
        "[fanout] {n} users signed up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let owner = &signed[0].token;
    let mut room_ids = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let body = post(
            &http,
            &site,
            owner,
            "/api/rooms",
            json!({"name": format!("fanout {run} {r}"), "kind": "public"}),
        )
        .await?;
        room_ids.push(
            body["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("room answer without id: {body}"))?,
        );
    }
    let per_room = n / rooms;
    let of = |i: usize| room_ids[(i / per_room).min(rooms - 1)];
    futures::stream::iter(signed.iter().enumerate().skip(1))
        .map(|(i, user)| {
            let (http, site, room) = (&http, &site, of(i));
            async move {
                post(
                    http,
                    site,
                    &user.token,
                    &format!("/api/rooms/{room}/join"),
                    json!({}),
                )
                .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(Users {
        tokens: signed.into_iter().map(|u| u.token).collect(),
        rooms: (0..n).map(of).collect(),
    })
}

/// Opens every connection, subscribed, in order (retrying a refused connect for 20 s).
pub async fn connect(target: &Target, users: &Users) -> anyhow::Result<Vec<(Uuid, Conn)>> {
    let http = reqwest::Client::new();
    let conns: Vec<Conn> = futures::stream::iter(0..users.rooms.len())
        .map(|i| {
            let (http, room, token) = (&http, users.rooms[i], users.tokens[i].as_str());
            async move {
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    match target.open(http, i, Some(token), room).await {
                        Ok(conn) => return Ok(conn),
                        Err(e) if Instant::now() > deadline => return Err(e),
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            }
        })
        .buffered(32)
        .try_collect()
        .await?;
    Ok(users.rooms.iter().copied().zip(conns).collect())
}
