//! Partition ownership across rebalances: a partition taken away from the
//! bot and given back while it waits for mentions loses none of them.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use support::*;
use test_support::kafka::group_assignment;
use test_support::{FakeOllama, Script, kafka, wait_until};
use uuid::Uuid;

/// How long a group may take to settle after a member joins or leaves.
const GROUP_WAIT: Duration = Duration::from_secs(60);

/// The members of the bot's group and their partitions, once it is stable.
async fn members(stack: &Stack) -> Option<Vec<(String, Vec<i32>)>> {
    let (brokers, group) = (stack.topics.brokers.clone(), bot_group(stack));
    tokio::task::spawn_blocking(move || group_assignment(&brokers, &group))
        .await
        .expect("group task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_revoked_and_assigned_back_while_idle_loses_no_mention() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let ollama = FakeOllama::start(&[MODEL]).await;
    ollama.set_default(Script::reply("Here."));
    let config = bot_config(&stack, &ollama);
    let alice = User::sign_up(&gateway, "alice").await;

    // the first bot owns every partition and answers one mention in each room
    let first = Bot::start(config.clone()).await;
    let mut socket = alice.connect(gateway.addr).await;
    let mut rooms = Vec::new();
    for i in 0..12 {
        let room = alice.create_room(&format!("room {i}"), "private").await;
        invite_bot(&alice, room).await;
        socket.subscribe(room, None).await;
        rooms.push(room);
    }
    for &room in &rooms {
        say(&mut socket, room, "@bot first question").await;
    }
    for &room in &rooms {
        wait_for_bot_messages(&stack.db.pool, room, 1).await;
    }
    let first_id = wait_until(
        "the first bot alone owns every partition",
        GROUP_WAIT,
        || async {
            match members(&stack).await?.as_slice() {
                [(id, owned)] if owned.len() == PARTITIONS as usize => Some(id.clone()),
                _ => None,
            }
        },
    )
    .await;
    // each room's partition, from the records of its mentions
    let (brokers, topic) = (stack.topics.brokers.clone(), stack.topics.topic.clone());
    let records = tokio::task::spawn_blocking(move || {
        kafka::read_all(&brokers, &topic, 24, Duration::from_secs(30))
    })
    .await
    .expect("read task");
    let partition_of: HashMap<Uuid, i32> = records
        .iter()
        .filter_map(|r| {
            let key = std::str::from_utf8(rdkafka::Message::key(r)?).ok()?;
            Some((key.parse().ok()?, rdkafka::Message::partition(r)))
        })
        .collect();

    // a second bot joins and takes some partitions away from the first ...
    let second = Bot::start(config.clone()).await;
    let moved: BTreeSet<i32> = wait_until("the second bot owns partitions", GROUP_WAIT, || async {
        let members = members(&stack).await?;
        let [a, b] = members.as_slice() else {
            return None;
        };
        let (_, theirs) = if a.0 == first_id { b } else { a };
        (!a.1.is_empty() && !b.1.is_empty()).then(|| theirs.iter().copied().collect())
    })
    .await;
    // ... and leaves: they go back to the first, which has been idle all along
    second.stop().await;
    wait_until(
        "the first bot owns every partition again",
        GROUP_WAIT,
        || async {
            match members(&stack).await?.as_slice() {
                [(id, owned)] if *id == first_id && owned.len() == PARTITIONS as usize => Some(()),
                _ => None,
            }
        },
    )
    .await;

    // the next mention in every room whose partition moved is answered, once
    let moved_rooms: Vec<Uuid> = rooms
        .iter()
        .copied()
        .filter(|room| partition_of.get(room).is_some_and(|p| moved.contains(p)))
        .collect();
    assert!(
        !moved_rooms.is_empty(),
        "some room lies on a partition that moved ({moved:?})"
    );
    for &room in &moved_rooms {
        say(&mut socket, room, "@bot second question").await;
    }
    for &room in &moved_rooms {
        wait_for_bot_messages(&stack.db.pool, room, 2).await;
    }
    bot_caught_up(&stack).await;
    first.stop().await;
    for &room in &rooms {
        let want = if moved_rooms.contains(&room) { 2 } else { 1 };
        assert_eq!(
            stored_bot_messages(&stack.db.pool, room).await.len(),
            want,
            "room {room}: one reply per mention"
        );
    }
}
