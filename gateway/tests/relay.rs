//! The relay's promise to a joiner: once `join` returns, whatever is published
//! to the room reaches it, also while the relay's Redis connection is being
//! re-established.

use std::time::Duration;

use chat_gateway::relay::{Relay, RoomFrame, live_channel};
use redis::aio::MultiplexedConnection;
use test_support::{RedisServer, wait_until};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

/// Connections Redis has refused so far (`maxclients` reached).
async fn rejected_connections(redis: &mut MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(redis)
        .await
        .expect("INFO stats");
    info.lines()
        .find_map(|line| line.strip_prefix("rejected_connections:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("rejected_connections in INFO stats")
}

async fn set_max_clients(redis: &mut MultiplexedConnection, max: u32) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg(max)
        .query_async(redis)
        .await
        .expect("CONFIG SET maxclients");
}

#[tokio::test]
async fn a_join_while_the_relay_reconnects_returns_only_once_the_room_is_subscribed_again() {
    let server = RedisServer::start();
    let mut redis = redis::Client::open(server.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let shutdown = CancellationToken::new();
    let relay = Relay::start(&server.url(), shutdown.clone()).expect("relay");
    let room = Uuid::now_v7();
    let (mut first, _first_lease) = relay.join(room).await.expect("first join");

    // the relay's pub/sub connection drops, and Redis refuses new ones for now
    // (this test's own connection is the one it keeps)
    set_max_clients(&mut redis, 1).await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut redis)
        .await
        .expect("CLIENT KILL");
    assert_eq!(killed, 1, "the relay had one pub/sub connection");
    let interrupted = tokio::time::timeout(WAIT, first.recv()).await;
    assert!(
        matches!(interrupted, Ok(Ok(RoomFrame::Interrupted))),
        "the room's sockets are told they may have missed messages"
    );
    let refused = wait_until("the relay to be refused a new connection", WAIT, || {
        let mut redis = redis.clone();
        async move {
            let refused = rejected_connections(&mut redis).await;
            (refused >= 1).then_some(refused)
        }
    })
    .await;

    // a socket subscribes to the room meanwhile; a message follows its join
    let joining = tokio::spawn({
        let (relay, mut redis) = (relay.clone(), redis.clone());
        async move {
            let (receiver, lease) = relay.join(room).await.expect("second join");
            let reached: i64 = redis::cmd("PUBLISH")
                .arg(live_channel(room))
                .arg("hello")
                .query_async(&mut redis)
                .await
                .expect("PUBLISH");
            (receiver, lease, reached)
        }
    });
    // the join may not return while the relay is provably not subscribed
    wait_until(
        "the join to return, or the relay to be refused once more",
        WAIT,
        || {
            let (finished, mut redis) = (joining.is_finished(), redis.clone());
            async move {
                (finished || rejected_connections(&mut redis).await > refused).then_some(())
            }
        },
    )
    .await;
    set_max_clients(&mut redis, 10_000).await;

    let (mut second, _second_lease, reached) = joining.await.expect("join task");
    assert_eq!(
        reached, 1,
        "a message published after join returned reaches the relay"
    );
    let frame = tokio::time::timeout(WAIT, second.recv()).await;
    assert!(
        matches!(&frame, Ok(Ok(RoomFrame::Live(text))) if text.as_str() == "hello"),
        "the joiner receives the message published after its join: {frame:?}"
    );
    shutdown.cancel();
}
