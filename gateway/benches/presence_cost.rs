//! Redis time per presence change against the room's presence, in one run.
//!
//! For each room size a fresh `redis-server` gets that many users online in
//! one room (one connection each, through [`Presence::join`], as subscribes
//! make them), then one more user's connection joins and leaves the room
//! `BENCH_PRESENCE_CALLS` times, changes its status as often, and reads the
//! room's first page of who is online as often. The figure is Redis's own
//! time per script call (`INFO commandstats`, `evalsha`, reset before each
//! kind): what a change holds Redis for, every other client waiting. The
//! baseline in the same run and server is a plain `ZADD` and `ZREM` of one
//! entry of the same room (`zadd`'s and `zrem`'s time per call).
//!
//!   cargo bench -p chat-gateway --bench presence_cost
//!   (BENCH_PRESENCE_SIZES, default "100,1000,10000", and
//!   BENCH_PRESENCE_CALLS, default 2000, tune it)

use chat_gateway::presence::Presence;
use chat_gateway::ws::protocol::{Status, UserRef};
use redis::aio::ConnectionManager;
use test_support::RedisServer;
use uuid::Uuid;

/// Redis's time per call of `command` since the last reset, in µs.
async fn usec_per_call(redis: &mut ConnectionManager, command: &str) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(redis)
        .await
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{command}:");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|stats| {
            stats
                .split(',')
                .find_map(|field| field.strip_prefix("usec_per_call="))
        })
        .and_then(|value| value.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn reset(redis: &mut ConnectionManager) {
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async::<()>(redis)
        .await
        .expect("CONFIG RESETSTAT");
}

fn user(i: usize) -> UserRef {
    UserRef {
        id: Uuid::now_v7(),
        username: format!("user{i}"),
    }
}

fn away_if(away: bool) -> Status {
    if away { Status::Away } else { Status::Active }
}

/// What one room size measured, µs of Redis time per call.
struct Measured {
    size: usize,
    join_leave: f64,
    status: f64,
    page: f64,
    zadd_zrem: f64,
}

async fn run(size: usize, calls: usize) -> Measured {
    let server = RedisServer::start();
    let mut redis = server.manager().await;
    let presence = Presence::new(redis.clone(), "bench", 300);
    let room = Uuid::now_v7();
    for i in 0..size {
        presence
            .join(room, &user(i), &format!("c{i}"), away_if(i % 10 == 0))
            .await
            .expect("join");
    }
    let me = user(size);

    reset(&mut redis).await;
    for _ in 0..calls {
        presence
            .join(room, &me, "mine", Status::Active)
            .await
            .expect("join");
        presence.leave(room, &me, "mine").await.expect("leave");
    }
    let join_leave = 2.0 * usec_per_call(&mut redis, "evalsha").await;

    presence
        .join(room, &me, "mine", Status::Active)
        .await
        .expect("join");
    reset(&mut redis).await;
    for i in 0..calls {
        presence
            .set_status(room, &me, "mine", away_if(i % 2 == 0))
            .await
            .expect("status");
    }
    let status = usec_per_call(&mut redis, "evalsha").await;

    reset(&mut redis).await;
    for _ in 0..calls {
        presence.page(room, None, 50).await.expect("page");
    }
    let page = usec_per_call(&mut redis, "evalsha").await;

    // the floor: one entry in and out of a set of the room's size
    let key = format!("bench:{{{room}}}:floor");
    for i in 0..size {
        redis::cmd("ZADD")
            .arg(&key)
            .arg(i)
            .arg(format!("m{i}"))
            .query_async::<()>(&mut redis)
            .await
            .expect("ZADD");
    }
    reset(&mut redis).await;
    for _ in 0..calls {
        redis::pipe()
            .cmd("ZADD")
            .arg(&key)
            .arg(size)
            .arg("mine")
            .ignore()
            .cmd("ZREM")
            .arg(&key)
            .arg("mine")
            .ignore()
            .query_async::<()>(&mut redis)
            .await
            .expect("ZADD, ZREM");
    }
    let zadd_zrem =
        usec_per_call(&mut redis, "zadd").await + usec_per_call(&mut redis, "zrem").await;
    Measured {
        size,
        join_leave,
        status,
        page,
        zadd_zrem,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_PRESENCE_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_PRESENCE_SIZES: numbers"))
        .collect();
    let calls: usize = std::env::var("BENCH_PRESENCE_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "Redis time per presence change (µs a call, INFO commandstats), {calls} calls of each kind"
    );
    println!(
        "| users online in the room | join + leave | status change | first page of 50 | baseline: ZADD + ZREM |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for size in sizes {
        eprintln!("[presence_cost] {size} users online: filling, then {calls} calls of each kind");
        let m = runtime.block_on(run(size, calls));
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            m.size, m.join_leave, m.status, m.page, m.zadd_zrem
        );
    }
}
