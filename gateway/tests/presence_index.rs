//! The room's user index against a real Redis: through any sequence of joins,
//! leaves, status changes and crashed gateways' entries expiring, the count a
//! join returns and every page of who is online equal what the entries say,
//! and an expired entry is swept (and its user announced offline once) by the
//! next change in the room, without waiting for the periodic sweep.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chat_core::live::live_channel;
use chat_gateway::presence::{Presence, keys};
use chat_gateway::ws::protocol::{Status, UserRef};
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::Value;
use test_support::redis_server::RedisServer;
use uuid::Uuid;

const TTL_SECS: u64 = 30;

/// The member string of a connection, as `Presence` writes it.
fn member(instance: &str, user: &UserRef, connection: &str) -> String {
    format!("{}|{}|{instance}:{connection}", user.id, user.username)
}

/// `n` users of their own, `user0` to `user{n-1}`.
fn users(n: usize) -> Vec<UserRef> {
    (0..n)
        .map(|i| UserRef {
            id: Uuid::now_v7(),
            username: format!("user{i}"),
        })
        .collect()
}

/// Makes an entry as if its gateway died long ago: expired (any past
/// score), left in place. Fails if the entry is not there.
async fn expire(redis: &mut ConnectionManager, room: Uuid, member: &str) {
    let changed: u64 = redis::cmd("ZADD")
        .arg(&keys(room)[0])
        .arg("XX")
        .arg("CH")
        .arg(1)
        .arg(member)
        .query_async(redis)
        .await
        .expect("age the entry");
    assert_eq!(changed, 1, "no entry {member} to age");
}

/// Every user with a live entry, by id: (name, away), away while every
/// entry of theirs is.
fn expected(
    entries: &HashMap<(usize, usize), bool>,
    users: &[UserRef],
) -> BTreeMap<String, (String, bool)> {
    let mut online: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for (&(u, _), &away) in entries {
        let user = &users[u];
        let seen = online
            .entry(user.id.to_string())
            .or_insert((user.username.clone(), true));
        seen.1 &= away;
    }
    online
}

/// Every page of who is online, `limit` at a time, as (id, (name, away)),
/// and the count each page gave.
async fn pages(
    presence: &Presence,
    room: Uuid,
    limit: i64,
) -> (BTreeMap<String, (String, bool)>, Vec<u64>) {
    let mut listed = BTreeMap::new();
    let mut counts = Vec::new();
    let mut after = None;
    loop {
        let page = presence.page(room, after, limit).await.expect("page");
        counts.push(page.count);
        assert!(page.online.len() as i64 <= limit, "a page past its size");
        for user in &page.online {
            let before = listed.insert(
                user.id.to_string(),
                (user.username.clone(), user.status == Status::Away),
            );
            assert!(before.is_none(), "{} listed twice", user.id);
        }
        if !page.more {
            break;
        }
        after = Some(page.online.last().expect("more after an empty page").id);
    }
    (listed, counts)
}

#[tokio::test]
async fn the_count_and_the_pages_equal_the_entries_through_any_sequence_of_changes() {
    let server = RedisServer::start();
    let mut redis = server.manager().await;
    let presence = Presence::new(server.manager().await, "gw-a", TTL_SECS);
    let room = Uuid::now_v7();
    let users = users(9);
    // the model: (user, connection) -> away, live entries only
    let mut entries: HashMap<(usize, usize), bool> = HashMap::new();
    // a fixed sequence from a small generator (xorshift), the same every run
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    for step in 0..400 {
        let (u, c) = (next(users.len() as u64) as usize, next(3) as usize);
        let user = &users[u];
        let connection = format!("c{c}");
        let status = if next(3) == 0 {
            Status::Away
        } else {
            Status::Active
        };
        let op = next(10);
        let what = match op {
            0..=3 => {
                let count = presence
                    .join(room, user, &connection, status)
                    .await
                    .expect("join");
                entries.insert((u, c), status == Status::Away);
                assert_eq!(
                    count,
                    expected(&entries, &users).len() as u64,
                    "step {step}: the count a join returns"
                );
                "join"
            }
            4..=5 => {
                presence
                    .leave(room, user, &connection)
                    .await
                    .expect("leave");
                entries.remove(&(u, c));
                "leave"
            }
            6..=8 => {
                presence
                    .set_status(room, user, &connection, status)
                    .await
                    .expect("status");
                if let Some(away) = entries.get_mut(&(u, c)) {
                    *away = status == Status::Away;
                }
                "status"
            }
            _ => {
                // its gateway died: the next script in the room sweeps it
                if entries.remove(&(u, c)).is_some() {
                    expire(&mut redis, room, &member("gw-a", user, &connection)).await;
                }
                "expiry"
            }
        };
        let want = expected(&entries, &users);
        let (listed, counts) = pages(&presence, room, 4).await;
        assert_eq!(listed, want, "step {step} ({what}): who is online");
        assert!(
            counts.iter().all(|&n| n == want.len() as u64),
            "step {step} ({what}): counts {counts:?}, {} online",
            want.len()
        );
    }
    // the index holds nothing the entries do not
    let (users_key, ids_key) = (&keys(room)[2], &keys(room)[3]);
    let indexed: u64 = redis.hlen(users_key).await.expect("HLEN");
    let ids: u64 = redis.zcard(ids_key).await.expect("ZCARD");
    let want = expected(&entries, &users).len() as u64;
    assert_eq!((indexed, ids), (want, want), "the index after the run");
}

/// The next `presence` frame on `messages`, within a deadline.
async fn next_frame(messages: &mut (impl futures::Stream<Item = redis::Msg> + Unpin)) -> Value {
    let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("a presence frame within 10 s")
        .expect("the subscription ended");
    let payload: String = message.get_payload().expect("payload");
    serde_json::from_str(&payload).expect("json")
}

#[tokio::test]
async fn an_expired_entry_is_swept_by_the_next_change_and_announced_offline_once() {
    let server = RedisServer::start();
    let mut redis = server.manager().await;
    let crashed = Presence::new(server.manager().await, "gw-crashed", TTL_SECS);
    let alive = Presence::new(server.manager().await, "gw-alive", TTL_SECS);
    let room = Uuid::now_v7();
    let user = |name: &str| UserRef {
        id: Uuid::now_v7(),
        username: name.to_owned(),
    };
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    crashed
        .join(room, &alice, "a1", Status::Active)
        .await
        .expect("join");
    crashed
        .join(room, &carol, "c1", Status::Active)
        .await
        .expect("join");
    alive
        .join(room, &bob, "b1", Status::Active)
        .await
        .expect("join");

    let client = redis::Client::open(server.url()).expect("redis url");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub
        .subscribe(live_channel(room))
        .await
        .expect("subscribe");
    let mut messages = pubsub.into_on_message();

    // the crashed gateway's entries expire; nobody has swept them yet
    expire(&mut redis, room, &member("gw-crashed", &alice, "a1")).await;
    expire(&mut redis, room, &member("gw-crashed", &carol, "c1")).await;

    // carol comes back on the live gateway: her expired entry is swept
    // without an "offline" for her, alice's with one; the count is exact
    let count = alive
        .join(room, &carol, "c2", Status::Active)
        .await
        .expect("join");
    assert_eq!(count, 2, "bob and carol online");
    let mut frames = vec![
        next_frame(&mut messages).await,
        next_frame(&mut messages).await,
    ];
    frames.sort_by_key(|f| f["online"].as_bool());
    assert_eq!(frames[0]["user"]["id"], alice.id.to_string(), "{frames:?}");
    assert_eq!(frames[0]["online"], false, "{frames:?}");
    assert_eq!(frames[1]["user"]["id"], carol.id.to_string(), "{frames:?}");
    assert_eq!(frames[1]["online"], true, "{frames:?}");

    // the periodic sweep finds nothing left: no second "offline"; the next
    // frame is bob's own change
    alive.sweep_rooms(&[room]).await.expect("sweep");
    alive
        .set_status(room, &bob, "b1", Status::Away)
        .await
        .expect("status");
    let frame = next_frame(&mut messages).await;
    assert_eq!(frame["user"]["id"], bob.id.to_string(), "{frame}");
    assert_eq!(frame["status"], "away", "{frame}");
}

#[tokio::test]
async fn one_sweep_takes_out_more_expired_entries_than_a_batch() {
    let server = RedisServer::start();
    let mut redis = server.manager().await;
    let crashed = Presence::new(server.manager().await, "gw-crashed", TTL_SECS);
    let alive = Presence::new(server.manager().await, "gw-alive", TTL_SECS);
    let room = Uuid::now_v7();
    // more than two of the scripts' batches of 128
    let users = users(300);
    // all online first (a join sweeps what expired before it), then expired
    for user in &users {
        crashed
            .join(room, user, "c", Status::Active)
            .await
            .expect("join");
    }
    for user in &users {
        expire(&mut redis, room, &member("gw-crashed", user, "c")).await;
    }
    alive.sweep_rooms(&[room]).await.expect("sweep");
    let left: u64 = redis.zcard(&keys(room)[0]).await.expect("ZCARD");
    let indexed: u64 = redis.hlen(&keys(room)[2]).await.expect("HLEN");
    assert_eq!(
        (left, indexed),
        (0, 0),
        "entries and users left after one sweep"
    );
}
