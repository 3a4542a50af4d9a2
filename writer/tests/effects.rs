//! What stored events do to their messages (issue 13, "Writer effects"):
//! edits, deletes, reactions and mentions, applied in the batch's transaction
//! whatever order the events are stored in, and once however often a record
//! is delivered.

use chat_core::event::{EventExt, EventOp};
use chat_core::{ChatEvent, MessageKind, Sequencer, SequencerConfig};
use chat_writer::batch::Record;
use chat_writer::dlq::DeadLetters;
use chat_writer::persist::Persister;
use sqlx::PgPool;
use test_support::{RedisServer, TestDatabase, kafka};
use uuid::Uuid;

struct Setup {
    db: TestDatabase,
    _redis: RedisServer,
    sequencer: Sequencer,
    persister: Persister,
    room: Uuid,
    alice: Uuid,
    bob: Uuid,
}

async fn user(pool: &PgPool, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, password_hash) VALUES ($1, $2, 'x')")
        .bind(id)
        .bind(format!("{name}{}", &id.simple().to_string()[20..]))
        .execute(pool)
        .await
        .expect("insert user");
    id
}

async fn setup() -> Setup {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(1).await;
    let alice = user(&db.pool, "alice").await;
    let bob = user(&db.pool, "bob").await;
    let room = Uuid::now_v7();
    sqlx::query("INSERT INTO rooms (id, name, kind, created_by) VALUES ($1, 'r', 'public', $2)")
        .bind(room)
        .bind(alice)
        .execute(&db.pool)
        .await
        .expect("insert room");
    let config = SequencerConfig {
        redis_url: redis.url(),
        tail_len: 256,
        ttl_secs: 300,
    };
    let sequencer = Sequencer::new(&config, db.pool.clone()).expect("sequencer");
    let dead = DeadLetters::new(&topics.brokers, &topics.dlq).expect("dlq producer");
    let persister = Persister::new(db.pool.clone(), sequencer.clone(), dead);
    Setup {
        db,
        _redis: redis,
        sequencer,
        persister,
        room,
        alice,
        bob,
    }
}

impl Setup {
    fn message(&self, sender: Uuid, body: &str, mentions: Vec<Uuid>) -> ChatEvent {
        ChatEvent::new(
            self.room,
            sender,
            Uuid::now_v7().to_string(),
            MessageKind::User,
            body,
        )
        .with_ext(EventExt {
            mentions,
            ..EventExt::default()
        })
    }

    fn targeted(&self, sender: Uuid, op: EventOp, target: Uuid, body: &str) -> ChatEvent {
        let emoji = matches!(op, EventOp::React | EventOp::Unreact).then(|| "\u{1F44D}".into());
        ChatEvent::new(
            self.room,
            sender,
            Uuid::now_v7().to_string(),
            MessageKind::User,
            body,
        )
        .with_ext(EventExt {
            op,
            target: Some(target),
            emoji,
            ..EventExt::default()
        })
    }

    /// Gives `events` their seqs in this order, as gateways would.
    async fn sequence(&self, events: &[&ChatEvent]) {
        let owned: Vec<ChatEvent> = events.iter().map(|e| (*e).clone()).collect();
        self.sequencer
            .sequence_new(&owned)
            .await
            .expect("sequenced");
    }

    /// Stores `events` as one batch.
    async fn store(&self, events: &[&ChatEvent]) {
        let records: Vec<Record> = events
            .iter()
            .enumerate()
            .map(|(i, e)| Record {
                topic: "t".into(),
                partition: 0,
                offset: i as i64,
                generation: 0,
                key: Some(e.room_id.to_string().into_bytes()),
                payload: e.encode(),
            })
            .collect();
        let outcome = self
            .persister
            .store_batch(&records)
            .await
            .expect("batch stored");
        assert_eq!(outcome.dead_lettered, 0, "nothing is poison here");
    }
}

#[derive(Debug, sqlx::FromRow, PartialEq)]
struct State {
    body: String,
    original_body: Option<String>,
    edit_seq: Option<i64>,
    state_seq: Option<i64>,
    deleted: bool,
}

async fn state(pool: &PgPool, id: Uuid) -> State {
    sqlx::query_as(
        "SELECT body, original_body, edit_seq, state_seq, deleted_at IS NOT NULL AS deleted
         FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("message row")
}

#[tokio::test]
async fn edits_stored_out_of_seq_order_end_at_the_highest_seqs_text() {
    let s = setup().await;
    let m = s.message(s.alice, "first", vec![]);
    let e1 = s.targeted(s.alice, EventOp::Edit, m.id, "second");
    let e2 = s.targeted(s.alice, EventOp::Edit, m.id, "third");
    let m2 = s.message(s.alice, "other", vec![]);
    let e3 = s.targeted(s.alice, EventOp::Edit, m2.id, "other, edited");
    s.sequence(&[&m, &e1, &e2, &m2, &e3]).await;

    // the later edit first, the earlier one after it; an edit before its message
    s.store(&[&m, &e2]).await;
    s.store(&[&e1, &e3]).await;
    s.store(&[&m2]).await;

    let got = state(&s.db.pool, m.id).await;
    assert_eq!(
        got,
        State {
            body: "third".into(),
            original_body: Some("first".into()),
            edit_seq: Some(3),
            state_seq: Some(3),
            deleted: false,
        }
    );
    let other = state(&s.db.pool, m2.id).await;
    assert_eq!(
        other.body, "other, edited",
        "an edit stored before its message is folded in"
    );
    assert_eq!(other.edit_seq, Some(5));
}

#[tokio::test]
async fn an_edit_by_someone_else_than_the_sender_changes_nothing() {
    let s = setup().await;
    let m = s.message(s.alice, "mine", vec![]);
    let forged = s.targeted(s.bob, EventOp::Edit, m.id, "hijacked");
    s.sequence(&[&m, &forged]).await;
    s.store(&[&m, &forged]).await;
    assert_eq!(state(&s.db.pool, m.id).await.body, "mine");
}

#[tokio::test]
async fn a_delete_removes_the_text_of_the_message_and_of_its_edits_in_any_order() {
    let s = setup().await;
    let m = s.message(s.alice, "secret one", vec![s.bob]);
    let e1 = s.targeted(s.alice, EventOp::Edit, m.id, "secret two");
    let del = s.targeted(s.alice, EventOp::Delete, m.id, "");
    let e2 = s.targeted(s.alice, EventOp::Edit, m.id, "secret three");
    s.sequence(&[&m, &e1, &del, &e2]).await;

    s.store(&[&m]).await;
    let mentions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM message_mentions WHERE message_id = $1")
            .bind(m.id)
            .fetch_one(&s.db.pool)
            .await
            .expect("count");
    assert_eq!(mentions, 1, "the mention of bob is recorded");
    // the edit sequenced after the delete is stored first, the delete last
    s.store(&[&e2]).await;
    s.store(&[&e1, &del]).await;

    let got = state(&s.db.pool, m.id).await;
    assert_eq!(got.body, "");
    assert_eq!(got.original_body, None);
    assert!(got.deleted);
    assert_eq!(got.state_seq, Some(4));
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM messages WHERE body LIKE '%secret%' OR original_body LIKE '%secret%'",
    )
    .fetch_all(&s.db.pool)
    .await
    .expect("texts");
    assert!(texts.is_empty(), "deleted text left in Postgres: {texts:?}");
    let mentions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM message_mentions WHERE message_id = $1")
            .bind(m.id)
            .fetch_one(&s.db.pool)
            .await
            .expect("count");
    assert_eq!(mentions, 0, "a deleted message mentions nobody");
}

#[tokio::test]
async fn the_writer_scrubs_a_deleted_messages_text_from_the_redis_tail() {
    let s = setup().await;
    let m = s.message(s.alice, "tail secret", vec![]);
    let e1 = s.targeted(s.alice, EventOp::Edit, m.id, "tail secret edited");
    let del = s.targeted(s.alice, EventOp::Delete, m.id, "");
    s.sequence(&[&m, &e1, &del]).await;
    s.store(&[&m, &e1, &del]).await;

    let tail = s.sequencer.tail_after(s.room, 0).await.expect("tail");
    assert_eq!(tail.len(), 3, "the tail keeps every record");
    for record in tail {
        assert_eq!(record.event.body, "", "seq {} keeps its text", record.seq);
    }
}

#[tokio::test]
async fn the_last_reaction_event_by_seq_wins_and_redelivery_changes_nothing() {
    let s = setup().await;
    let m = s.message(s.alice, "react to me", vec![]);
    let react = s.targeted(s.bob, EventOp::React, m.id, "");
    let unreact = s.targeted(s.bob, EventOp::Unreact, m.id, "");
    let again = s.targeted(s.alice, EventOp::React, m.id, "");
    s.sequence(&[&m, &react, &unreact, &again]).await;

    // bob's unreact stored before his react: the react (lower seq) must not win
    s.store(&[&m, &unreact, &again]).await;
    s.store(&[&react]).await;
    // everything delivered again, in one batch
    s.store(&[&m, &react, &unreact, &again]).await;

    let rows: Vec<(Uuid, i64, bool)> = sqlx::query_as(
        "SELECT user_id, seq, present FROM message_reactions WHERE message_id = $1 ORDER BY seq",
    )
    .bind(m.id)
    .fetch_all(&s.db.pool)
    .await
    .expect("reactions");
    assert_eq!(rows, vec![(s.bob, 3, false), (s.alice, 4, true)]);
    let (count, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM messages")
            .fetch_one(&s.db.pool)
            .await
            .expect("count");
    assert_eq!((count, distinct), (4, 4), "each event is stored once");
    assert_eq!(state(&s.db.pool, m.id).await.state_seq, Some(4));
}
