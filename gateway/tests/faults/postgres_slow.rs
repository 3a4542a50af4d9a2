//! The messages table locked (Postgres stalled for the writer) while clients
//! send: sends keep being acknowledged, the writer waits instead of failing
//! or dead-lettering, and everything is stored once the lock is gone (G1, G6).

use std::time::Duration;

use crate::common::load::Load;
use crate::common::promises::assert_promises_kept;
use crate::common::{Stack, User, WAIT};
use crate::{clients, room_with_members};

#[tokio::test]
async fn a_stalled_messages_table_delays_storage_but_not_acks_and_loses_nothing() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let sites = [east.addr, west.addr];
    let (room, users) = room_with_members(&sites, 4).await;
    let mut load = Load::start(clients(&sites, room, &users, Duration::from_millis(10)));
    load.wait_for_acks(50).await;

    // every insert now waits behind this transaction
    let lock = lock_messages(&stack).await;
    let pool = &stack.db.pool;
    test_support::wait_until("the writer waits for the lock", WAIT, || async move {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE relation = 'messages'::regclass AND NOT granted",
        )
        .fetch_one(pool)
        .await
        .ok()?;
        (waiting > 0).then_some(())
    })
    .await;
    let before = load.progress.acks();
    load.wait_for_acks(before + 100).await;
    lock.commit().await.expect("release the lock");

    let acked = load.progress.acks();
    load.wait_for_acks(acked + 50).await;
    let reports = load.finish(&stack.db.pool, room).await;
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;
    east.stop().await;
    west.stop().await;
}

/// The send's one Postgres read also looks for the stored message, on the
/// messages table: when that table is locked the read gives up after 200 ms
/// and membership is read alone, so Postgres still decides who may send.
#[tokio::test]
async fn a_locked_messages_table_still_leaves_membership_to_postgres() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("locked", "public").await;
    let mut alice_socket = alice.connect(gateway.addr).await;
    let mut bob_socket = bob.connect(gateway.addr).await;
    // the room's head is in Redis (a room's first message reads it from Postgres)
    let first = alice_socket.send_message(room, "a-0", "first").await;
    assert_eq!(first["type"], "ack", "{first}");

    let lock = lock_messages(&stack).await;

    let refused = bob_socket.send_message(room, "b-1", "not a member").await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let acked = alice_socket.send_message(room, "a-1", "a member").await;
    assert_eq!(acked["type"], "ack", "{acked}");

    lock.commit().await.expect("release the lock");
    gateway.stop().await;
}

/// Holds `ACCESS EXCLUSIVE` on `messages` until the transaction ends: every
/// read and write of the table waits behind it.
async fn lock_messages(stack: &Stack) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut lock = stack.db.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock the messages table");
    lock
}
