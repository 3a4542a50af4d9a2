//! Who is online in a room: `subscribed` carries only `online_count`; the
//! list is `GET /api/rooms/{id}/online`, members only, paged by user id.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// The page of `path` as `user` reads it (a 200 expected).
async fn page(user: &User, path: &str) -> Value {
    let response = user.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("json")
}

/// `(id, status)` of each user of a page, in its order.
fn listed(page: &Value) -> Vec<(String, String)> {
    page["online"]
        .as_array()
        .expect("online")
        .iter()
        .map(|u| {
            (
                u["id"].as_str().expect("id").to_owned(),
                u["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribed_counts_who_is_online_and_lists_nobody() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("counted", "public").await;
    bob.join(room).await;
    let mut first = alice.connect(gateway.addr).await;
    first.subscribe(room, None).await;
    let mut second = alice.connect(gateway.addr).await;
    let subscribed = second.subscribe(room, None).await;
    assert_eq!(
        subscribed["online_count"], 1,
        "one user, two connections: {subscribed}"
    );

    let mut b = bob.connect(gateway.addr).await;
    let subscribed = b.subscribe(room, None).await;
    assert_eq!(subscribed["online_count"], 2, "{subscribed}");
    assert!(subscribed.get("online").is_none(), "no list: {subscribed}");
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_online_list_shows_each_user_once_with_their_status() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let carol = User::sign_up(&gateway, "carol").await;
    let room = alice.create_room("listed", "public").await;
    bob.join(room).await;
    carol.join(room).await;
    let mut watcher = carol.connect(gateway.addr).await;
    watcher.subscribe(room, None).await;
    let mut a = alice.connect(gateway.addr).await;
    a.subscribe(room, None).await;
    let mut b = bob.connect(gateway.addr).await;
    b.send(json!({"type": "status", "status": "away"})).await;
    b.subscribe(room, None).await;
    let bob_id = bob.id.to_string();
    watcher
        .next_matching("bob online", |f| {
            f["type"] == "presence" && f["user"]["id"] == bob_id.as_str()
        })
        .await;

    let online = page(&carol, &format!("/api/rooms/{room}/online")).await;
    let mut expected = vec![
        (alice.id.to_string(), "active".to_owned()),
        (bob.id.to_string(), "away".to_owned()),
        (carol.id.to_string(), "active".to_owned()),
    ];
    expected.sort();
    assert_eq!(listed(&online), expected, "{online}");
    assert_eq!(online["online_count"], 3, "{online}");
    assert_eq!(online["next"], Value::Null, "{online}");
    let usernames: HashSet<&str> = online["online"]
        .as_array()
        .expect("online")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(usernames.contains(bob.username.as_str()), "{online}");

    // bob leaves the room's presence: he is no longer listed
    drop(b);
    watcher
        .next_matching("bob offline", |f| {
            f["type"] == "presence" && f["user"]["id"] == bob_id.as_str() && f["online"] == false
        })
        .await;
    let online = page(&carol, &format!("/api/rooms/{room}/online")).await;
    assert_eq!(online["online_count"], 2, "{online}");
    assert!(
        listed(&online).iter().all(|(id, _)| *id != bob_id),
        "{online}"
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_online_list_pages_by_id_until_done_without_repeats() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "owner").await;
    let room = owner.create_room("paged", "public").await;
    let mut sockets = Vec::new();
    let mut everyone = vec![owner.id.to_string()];
    let mut socket = owner.connect(gateway.addr).await;
    socket.subscribe(room, None).await;
    sockets.push(socket);
    for _ in 0..4 {
        let user = User::sign_up(&gateway, "member").await;
        user.join(room).await;
        let mut socket = user.connect(gateway.addr).await;
        socket.subscribe(room, None).await;
        sockets.push(socket);
        everyone.push(user.id.to_string());
    }
    everyone.sort();

    let mut seen = Vec::new();
    let mut path = format!("/api/rooms/{room}/online?limit=2");
    let mut pages = 0;
    loop {
        let online = page(&owner, &path).await;
        pages += 1;
        assert_eq!(online["online_count"], 5, "{online}");
        let users = listed(&online);
        assert!(users.len() <= 2, "{online}");
        seen.extend(users.into_iter().map(|(id, _)| id));
        match online["next"].as_str() {
            Some(next) => path = format!("/api/rooms/{room}/online?limit=2&after={next}"),
            None => break,
        }
        assert!(pages < 5, "the pages never end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, everyone, "every user once, by id");
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_members_read_who_is_online() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mallory = User::sign_up(&gateway, "mallory").await;
    let room = alice.create_room("members-only", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    socket.subscribe(room, None).await;

    for path in [
        format!("/api/rooms/{room}/online"),
        format!("/api/rooms/{}/online", Uuid::new_v4()),
    ] {
        let response = mallory.get(&path).await;
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
    }
    let anonymous = reqwest::Client::new()
        .get(gateway.url(&format!("/api/rooms/{room}/online")))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_paging_parameters_are_refused() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("bounds", "public").await;
    for query in [
        "limit=0",
        "limit=-3",
        "limit=many",
        "after=not-a-user",
        "after=",
    ] {
        let response = alice
            .get(&format!("/api/rooms/{room}/online?{query}"))
            .await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "invalid", "{query}: {body}");
    }
    // past the maximum counts as the maximum
    let online = page(&alice, &format!("/api/rooms/{room}/online?limit=100000")).await;
    assert_eq!(online["online_count"], 0, "{online}");
    gateway.stop().await;
}
