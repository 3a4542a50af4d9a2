//! History pages by seq.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn history_pages_backwards_and_forwards_with_a_capped_limit() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "sam").await;
    let room = user.create_room(&unique("archive"), "public").await;
    seed_messages(&stack, room, user.id, 250).await;

    let newest = history(&user, room, "").await;
    assert_eq!(
        seqs(&newest),
        (201..=250).collect::<Vec<_>>(),
        "the newest 50 by default"
    );
    assert_eq!(newest["has_more"], true);

    let capped = history(&user, room, "?before=201&limit=500").await;
    assert_eq!(
        seqs(&capped),
        (101..=200).collect::<Vec<_>>(),
        "at most 100"
    );
    assert_eq!(capped["has_more"], true);

    let first = history(&user, room, "?before=101&limit=100").await;
    assert_eq!(seqs(&first), (1..=100).collect::<Vec<_>>());
    assert_eq!(first["has_more"], false, "nothing older");

    let oldest = history(&user, room, "?after=0&limit=10").await;
    assert_eq!(seqs(&oldest), (1..=10).collect::<Vec<_>>());
    assert_eq!(oldest["has_more"], true);

    let tail = history(&user, room, "?after=240").await;
    assert_eq!(seqs(&tail), (241..=250).collect::<Vec<_>>());
    assert_eq!(tail["has_more"], false, "nothing newer");

    let between = history(&user, room, "?after=10&before=15").await;
    assert_eq!(seqs(&between), vec![11, 12, 13, 14]);

    let message = &tail["messages"][0];
    assert_eq!(message["room"], room.to_string());
    assert_eq!(message["sender"]["id"], user.id.to_string());
    assert_eq!(message["sender"]["username"], user.username.as_str());
    assert_eq!(message["kind"], "user");
    assert_eq!(message["body"], "message 241");
    assert_eq!(message["client_msg_id"], format!("{room}-241"));
    assert!(
        message["epoch"].as_u64().expect("epoch") > 0,
        "the room's epoch from the sequencer"
    );
    assert!(message["sent_at"].is_string() && message["id"].is_string());

    assert_eq!(
        user.get(&format!("/api/rooms/{room}/messages?limit=0"))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        user.get(&format!("/api/rooms/{room}/messages?before=soon"))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn history_of_an_empty_room_is_an_empty_page() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "tess").await;
    let room = user.create_room(&unique("quiet"), "private").await;

    let page = history(&user, room, "").await;

    assert_eq!(page, json!({ "messages": [], "has_more": false }));
}
