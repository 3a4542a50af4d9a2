//! The presence heartbeat against a real Redis: it refreshes every local
//! entry's expiry and its room's four keys, a bounded pipeline at a time,
//! however many entries the gateway holds, and brings back none that has left.

use std::time::{SystemTime, UNIX_EPOCH};

use chat_gateway::presence::{HEARTBEAT_CHUNK, Presence, keys};
use chat_gateway::ws::protocol::{Status, UserRef};
use redis::AsyncCommands;
use test_support::redis_server::RedisServer;
use uuid::Uuid;

const TTL_SECS: u64 = 30;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn presence_key(room: Uuid) -> String {
    keys(room)[0].clone()
}

#[tokio::test]
async fn a_heartbeat_refreshes_every_entry_over_several_pipelines_and_revives_none_that_left() {
    let server = RedisServer::start();
    let mut redis = server.manager().await;
    let presence = Presence::new(server.manager().await, "gw-test", TTL_SECS);

    // more entries than two pipelines hold, over three rooms, one user away
    // so each room's away set exists too
    let rooms = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let users: Vec<UserRef> = (0..HEARTBEAT_CHUNK * 2 + 7)
        .map(|i| UserRef {
            id: Uuid::now_v7(),
            username: format!("user{i}"),
        })
        .collect();
    for (i, user) in users.iter().enumerate() {
        let status = if i < rooms.len() {
            Status::Away
        } else {
            Status::Active
        };
        presence
            .join(rooms[i % rooms.len()], user, &format!("c{i}"), status)
            .await
            .expect("join");
    }
    let left = &users[HEARTBEAT_CHUNK + 1];
    let left_room = rooms[(HEARTBEAT_CHUNK + 1) % rooms.len()];
    presence
        .leave(left_room, left, &format!("c{}", HEARTBEAT_CHUNK + 1))
        .await
        .expect("leave");

    // as if the last heartbeat were long ago: every entry near its expiry,
    // every key about to go
    let stale = now_ms() + 1_000;
    for room in rooms {
        let members: Vec<String> = redis
            .zrange(presence_key(room), 0, -1)
            .await
            .expect("members");
        for member in members {
            let _: () = redis
                .zadd(presence_key(room), member, stale)
                .await
                .expect("age the entry");
        }
        for key in keys(room) {
            let _: () = redis.pexpire(&key, 60_000).await.expect("age the key");
        }
    }

    let before = now_ms();
    presence.heartbeat().await.expect("heartbeat");

    let fresh = before + TTL_SECS * 1000;
    let mut refreshed = 0;
    for room in rooms {
        let entries: Vec<(String, u64)> = redis
            .zrange_withscores(presence_key(room), 0, -1)
            .await
            .expect("entries");
        for (member, expiry) in &entries {
            assert!(
                *expiry >= fresh,
                "{member} in {room} not refreshed: expires at {expiry}, heartbeat at {before}"
            );
        }
        refreshed += entries.len();
        assert!(
            !entries
                .iter()
                .any(|(m, _)| m.starts_with(&format!("{}|", left.id))),
            "the entry that left is back"
        );
        for key in keys(room) {
            let ttl_ms: i64 = redis.pttl(&key).await.expect("pttl");
            assert!(
                ttl_ms > (TTL_SECS * 1000 - 5_000) as i64,
                "{key}'s expiry not moved: {ttl_ms} ms left"
            );
        }
    }
    assert_eq!(
        refreshed,
        users.len() - 1,
        "every entry but the one that left"
    );
}
