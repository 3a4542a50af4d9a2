//! A page of who is online in a room (`GET /api/rooms/{id}/online`), as
//! `presence_page.lua` reads it: users by id, each active or away.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ws::protocol::Status;

/// Someone online in a room.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct OnlineUser {
    pub id: Uuid,
    pub username: String,
    /// `away` while every connection of theirs in the room is away.
    #[schema(schema_with = status_schema)]
    pub status: Status,
}

fn status_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["active", "away"]))
        .description(Some(
            "`away` while every connection of theirs in the room is away",
        ))
        .build()
}

/// Users online after a cursor, how many are online in all, and whether
/// more follow the page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnlinePage {
    pub online: Vec<OnlineUser>,
    pub count: u64,
    pub more: bool,
}

impl OnlinePage {
    /// The script's answer: the count, "1" when more follow, then id, name
    /// and "1" for away of each user. An entry that does not parse is left out.
    pub fn parse(values: &[String]) -> Self {
        let mut values = values.iter();
        let count = values.next().and_then(|c| c.parse().ok()).unwrap_or(0);
        let more = values.next().is_some_and(|m| m == "1");
        let rest: Vec<&String> = values.collect();
        let online = rest
            .chunks_exact(3)
            .filter_map(|user| {
                Some(OnlineUser {
                    id: user[0].parse().ok()?,
                    username: user[1].clone(),
                    status: if user[2] == "1" {
                        Status::Away
                    } else {
                        Status::Active
                    },
                })
            })
            .collect();
        Self {
            online,
            count,
            more,
        }
    }

    /// The cursor of the next page: the last user's id, while more follow.
    pub fn next(&self) -> Option<Uuid> {
        self.online.last().filter(|_| self.more).map(|u| u.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn a_page_reads_each_user_with_their_status_and_its_cursor() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let page = OnlinePage::parse(&strings(&[
            "5",
            "1",
            &a.to_string(),
            "alice",
            "0",
            &b.to_string(),
            "bob",
            "1",
        ]));
        assert_eq!(page.count, 5);
        let status: Vec<_> = page
            .online
            .iter()
            .map(|u| (u.username.as_str(), u.status))
            .collect();
        assert_eq!(status, [("alice", Status::Active), ("bob", Status::Away)]);
        assert_eq!(page.next(), Some(b));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let a = Uuid::from_u128(1);
        let page = OnlinePage::parse(&strings(&["1", "0", &a.to_string(), "alice", "0"]));
        assert_eq!(page.next(), None);
        assert_eq!(OnlinePage::parse(&strings(&["0", "0"])).next(), None);
    }
}
