//! Consent: who may put whom into a room. Leaving a direct room sticks,
//! only a private room's owner invites, a room always has an owner while it
//! has members, and a user can block another.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Stack, User};
use crate::helpers::*;

async fn delete(user: &User, path: &str) -> reqwest::Response {
    user.http
        .delete(format!("{}{path}", user.base))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request")
}

async fn room_ids(user: &User) -> Vec<String> {
    let mine = json_of(user.get("/api/rooms/mine").await).await;
    mine.as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn roles(user: &User, room: Uuid) -> Vec<(String, String)> {
    let members = json_of(user.get(&format!("/api/rooms/{room}/members")).await).await;
    members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["username"].as_str().expect("name").to_owned(),
                m["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect()
}

async fn open_dm(from: &User, to: &User) -> reqwest::Response {
    from.post("/api/dm", json!({ "username": to.username }))
        .await
}

async fn invite(inviter: &User, room: Uuid, invitee: &User) -> reqwest::Response {
    inviter
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": invitee.username }),
        )
        .await
}

#[tokio::test]
async fn a_user_who_left_a_direct_room_is_not_added_back_by_the_other() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let opened = json_of(open_dm(&alice, &bob).await).await;
    let room = opened["room"]["id"].as_str().expect("id").to_owned();

    let left = bob
        .post(&format!("/api/rooms/{room}/leave"), json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let again = open_dm(&alice, &bob).await;

    assert_eq!(
        again.status(),
        StatusCode::FORBIDDEN,
        "the other's call does not bring back who left"
    );
    assert_eq!(json_of(again).await["error"]["code"], "forbidden");
    assert!(
        !room_ids(&bob).await.contains(&room),
        "bob is not a member again"
    );
    let alices = json_of(alice.get("/api/rooms/mine").await).await;
    assert_eq!(
        alices[0]["name"],
        bob.username.as_str(),
        "the one-sided room is still named after the other user"
    );

    let reopened = open_dm(&bob, &alice).await;
    assert_eq!(reopened.status(), StatusCode::OK, "who left may come back");
    assert_eq!(json_of(reopened).await["room"]["id"], room.as_str());
    assert!(room_ids(&bob).await.contains(&room));
    assert_eq!(
        open_dm(&alice, &bob).await.status(),
        StatusCode::OK,
        "once back, the room is open from both sides"
    );
}

#[tokio::test]
async fn only_the_owner_invites_into_a_private_room() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "olga").await;
    let member = User::sign_up(&gateway, "mark").await;
    let outsider = User::sign_up(&gateway, "otto").await;
    let room = owner.create_room(&unique("circle"), "private").await;
    assert_eq!(invite(&owner, room, &member).await.status(), StatusCode::OK);

    let by_member = invite(&member, room, &outsider).await;

    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(by_member).await["error"]["code"], "forbidden");
    assert!(
        !room_ids(&outsider).await.contains(&room.to_string()),
        "a member's invitation adds nobody"
    );
    assert_eq!(
        invite(&owner, room, &outsider).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_owner_leaving_a_room_hands_it_to_the_longest_standing_member() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "olaf").await;
    let first = User::sign_up(&gateway, "fred").await;
    let second = User::sign_up(&gateway, "sara").await;
    let late = User::sign_up(&gateway, "lena").await;
    let room = owner.create_room(&unique("club"), "private").await;
    invite(&owner, room, &first).await;
    invite(&owner, room, &second).await;

    let left = owner
        .post(&format!("/api/rooms/{room}/leave"), json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        roles(&first, room).await,
        vec![
            (first.username.clone(), "owner".to_owned()),
            (second.username.clone(), "member".to_owned()),
        ]
    );
    assert_eq!(
        invite(&first, room, &late).await.status(),
        StatusCode::OK,
        "the new owner invites"
    );
}

#[tokio::test]
async fn a_blocked_user_cannot_open_a_direct_room_with_or_invite_the_blocker() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let dm = json_of(open_dm(&alice, &bob).await).await["room"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let alices_room = alice.create_room(&unique("den"), "private").await;

    let blocked = bob
        .post("/api/blocks", json!({ "user_id": alice.id }))
        .await;
    assert_eq!(blocked.status(), StatusCode::NO_CONTENT);
    let listed = json_of(bob.get("/api/blocks").await).await;
    assert_eq!(listed[0]["id"], alice.id.to_string());
    assert_eq!(listed[0]["username"], alice.username.as_str());

    let dm_again = open_dm(&alice, &bob).await;
    assert_eq!(dm_again.status(), StatusCode::FORBIDDEN);
    let refusal: Value = json_of(dm_again).await;
    assert_eq!(refusal["error"]["code"], "forbidden");
    assert!(
        !refusal["error"]["message"]
            .as_str()
            .expect("message")
            .contains("block"),
        "the refusal does not say why: {refusal}"
    );
    assert!(
        !room_ids(&alice).await.contains(&dm),
        "the blocked user is out of the direct room"
    );
    assert!(room_ids(&bob).await.contains(&dm), "the blocker keeps it");
    assert_eq!(
        invite(&alice, alices_room, &bob).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(!room_ids(&bob).await.contains(&alices_room.to_string()));

    assert_eq!(
        delete(&bob, &format!("/api/blocks/{}", alice.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(json_of(bob.get("/api/blocks").await).await, json!([]));
    assert_eq!(open_dm(&alice, &bob).await.status(), StatusCode::OK);
    assert_eq!(
        invite(&alice, alices_room, &bob).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn blocking_refuses_oneself_and_unknown_users_and_is_idempotent() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let carl = User::sign_up(&gateway, "carl").await;
    let dora = User::sign_up(&gateway, "dora").await;

    let own = carl
        .post("/api/blocks", json!({ "user_id": carl.id }))
        .await;
    assert_eq!(own.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = carl
        .post("/api/blocks", json!({ "user_id": Uuid::now_v7() }))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let blocked = carl
            .post("/api/blocks", json!({ "user_id": dora.id }))
            .await;
        assert_eq!(blocked.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        json_of(carl.get("/api/blocks").await)
            .await
            .as_array()
            .expect("list")
            .len(),
        1
    );
    for _ in 0..2 {
        let unblocked = delete(&carl, &format!("/api/blocks/{}", dora.id)).await;
        assert_eq!(unblocked.status(), StatusCode::NO_CONTENT);
    }
    let anonymous = bare_client()
        .get(gateway.url("/api/blocks"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
