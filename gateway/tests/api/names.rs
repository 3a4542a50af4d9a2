//! Names: room names and usernames are normalised, and refuse invisible and
//! bidi characters and reserved names.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn room_names_refuse_bidi_control_and_invisible_characters() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "nora").await;

    for name in [
        "\u{202E}gnp.exe",
        "left\u{202A}right",
        "\u{2066}isolated\u{2069}",
        "zero\u{200B}width",
        "joiner\u{200D}here",
        "byte\u{FEFF}order",
        "mark\u{200F}rtl",
        "soft\u{00AD}hyphen",
        "filler\u{3164}",
        "tab\tname",
    ] {
        let response = user
            .post("/api/rooms", json!({ "name": name, "kind": "public" }))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        let body = json_of(response).await;
        assert_eq!(body["error"]["code"], "invalid", "{name:?}");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("invisible"),
            "the refusal says why: {body}"
        );
    }
}

#[tokio::test]
async fn room_names_are_normalised_before_they_are_stored() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "omar").await;

    let created = user
        .post(
            "/api/rooms",
            json!({ "name": "  ｆｕｌｌ\u{3000}\u{3000}width \u{00A0} room ", "kind": "public" }),
        )
        .await;

    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(json_of(created).await["name"], "full width room");
}

#[tokio::test]
async fn reserved_names_are_refused_for_users_and_rooms_in_any_disguise() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "pia").await;

    for name in [
        "admin",
        "ADMIN",
        "Adm1n",
        "system",
        "sys.tem",
        "bot",
        "B0T",
        "root",
        "r00t",
        "support",
        "moderator",
        "staff",
        "everyone",
        "here",
        "null",
        "ａｄｍｉｎ",
    ] {
        let response = sign_up(&gateway, name, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "username {name:?}"
        );
        assert_eq!(json_of(response).await["error"]["code"], "invalid");
    }
    for name in [
        "admin",
        "System",
        "Ｓｙｓｔｅｍ",
        "\u{0455}y\u{0455}t\u{0435}m",
        "A d m i n",
        "bot",
        "Moderator",
    ] {
        let response = user
            .post("/api/rooms", json!({ "name": name, "kind": "public" }))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "room {name:?}"
        );
    }
    assert_eq!(
        sign_up(&gateway, &unique("admiral"), PASSWORD)
            .await
            .status(),
        StatusCode::CREATED,
        "a name that only contains a reserved one is fine"
    );
    user.create_room("admin talk", "public").await;
}

#[tokio::test]
async fn the_bot_account_keeps_its_reserved_name_and_can_be_invited() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "quin").await;
    // what the bot does on start-up (bot/src/account.rs)
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, is_bot) VALUES (gen_random_uuid(), 'bot', '!', true)",
    )
    .execute(&stack.db.pool)
    .await
    .expect("bot account");
    let room = owner.create_room(&unique("with bot"), "private").await;

    let invited = owner
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": "bot" }),
        )
        .await;

    assert_eq!(invited.status(), StatusCode::OK);
}
