//! `idle-memory`: runs one gateway process against a fresh database and a
//! Redis of its own, opens N authenticated WebSocket connections each
//! subscribed to one room (rooms of `--room-size`), lets them idle, and prints
//! the gateway's resident memory (`VmRSS`) before and after and per
//! connection, with the kernel's TCP buffer memory apart (`/proc/net/sockstat`,
//! both ends of every loopback connection): the figures of BENCHMARKS.md.
//!
//! Sign-ups cost an Argon2 hash each, so `--users` users (default 100) share
//! the connections evenly; a room's members are distinct users as long as
//! there are at least `--room-size` users. Needs `TEST_DATABASE_URL` and
//! `TEST_KAFKA_BROKERS` (the test stack).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use futures::{SinkExt, StreamExt, TryStreamExt};
use loadgen::bench_gateway::BenchGateway;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ORIGIN: &str = "http://idle-memory.bench";
const PASSWORD: &str = "idle memory bench password 0123";

#[derive(Debug, Parser)]
#[command(about = "Resident memory of a gateway per idle, subscribed WebSocket connection")]
struct Args {
    /// The gateway binary.
    #[arg(long, default_value = "target/release/gateway")]
    gateway: PathBuf,
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Connections per room.
    #[arg(long, default_value_t = 100)]
    room_size: usize,
    /// Users signed up (each an Argon2 hash); they share the connections.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Connections (and HTTP requests) under way at once while setting up.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// How long the connections idle before the last reading, in seconds.
    #[arg(long, default_value_t = 15)]
    settle_secs: u64,
    /// Open the connections without subscribing them (what a room costs is then apart).
    #[arg(long)]
    no_subscribe: bool,
    /// Extra gateway settings, `KEY=VALUE` (e.g. `WS_READ_BUFFER_BYTES=4096`).
    #[arg(long = "set")]
    settings: Vec<String>,
}

/// The kernel's memory for TCP buffers, all sockets of the machine, in KiB
/// (`/proc/net/sockstat`, `TCP: … mem N`, in pages).
fn tcp_mem_kib() -> anyhow::Result<u64> {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat")?;
    let pages: u64 = sockstat
        .lines()
        .find_map(|l| l.strip_prefix("TCP:"))
        .and_then(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .find(|w| w[0] == "mem")
                .and_then(|w| w[1].parse().ok())
        })
        .context("no TCP mem in /proc/net/sockstat")?;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)?.unwrap_or(4096) as u64;
    Ok(pages * page / 1024)
}

struct Site {
    base: String,
    http: reqwest::Client,
}

impl Site {
    async fn post(&self, token: Option<&str>, path: &str, body: Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "POST {path} answered {status}: {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Runs `f` over `items` with at most `concurrency` under way; the results in order.
async fn all<T, R, F>(
    items: Vec<T>,
    concurrency: usize,
    f: impl Fn(T) -> F,
) -> anyhow::Result<Vec<R>>
where
    F: std::future::Future<Output = anyhow::Result<R>>,
{
    futures::stream::iter(items.into_iter().map(f))
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

/// Opens one connection for `token`, subscribes to `room` and waits for
/// `subscribed`; then keeps reading (answering pings) until the socket ends.
async fn connect(
    site: &Site,
    token: &str,
    room: Option<&str>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let ticket = site.post(Some(token), "/api/ws-ticket", json!({})).await?;
    let ticket = ticket["ticket"].as_str().context("no ticket")?;
    let ws_base = site.base.replacen("http://", "ws://", 1);
    let mut request = format!("{ws_base}/ws?ticket={ticket}").into_client_request()?;
    request.headers_mut().insert("origin", ORIGIN.parse()?);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "chat.v1".parse()?);
    // the bench's own sockets small: the machine's memory is for the gateway's
    let config = loadgen::client::ws_config().write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    let expect = match room {
        Some(room) => {
            ws.send(Message::text(
                json!({"type": "subscribe", "room": room}).to_string(),
            ))
            .await?;
            "subscribed"
        }
        None => "hello",
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("no `{expect}` within 30 s"))?
            .with_context(|| format!("socket closed before `{expect}`"))??;
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text)?;
            match value["type"].as_str() {
                Some(kind) if kind == expect => break,
                Some("error") => anyhow::bail!("subscribe refused: {value}"),
                _ => {}
            }
        }
    }
    Ok(tokio::spawn(async move {
        while let Some(Ok(_)) = ws.next().await {}
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.room_size > 0 && args.users > 0,
        "room size and users must be positive"
    );
    let rooms = args.connections.div_ceil(args.room_size).max(1);
    let per_user = args.connections.div_ceil(args.users);
    let gateway = BenchGateway::start(
        &args.gateway,
        &[
            ("ALLOWED_ORIGINS", ORIGIN.to_owned()),
            // bench-only: one address signs everyone up and opens every connection
            ("SIGNUP_MAX_PER_ADDRESS", args.users.to_string()),
            ("SIGNUP_MAX_PER_MINUTE", args.users.to_string()),
            ("ROOMS_CREATED_PER_HOUR", rooms.to_string()),
            ("ROOMS_OWNED_MAX", rooms.to_string()),
            (
                "WS_MAX_CONNECTIONS_PER_ADDRESS",
                args.connections.to_string(),
            ),
            ("WS_MAX_CONNECTIONS_PER_USER", per_user.to_string()),
        ],
        &args.settings,
    )
    .await?;
    let site = Arc::new(Site {
        base: gateway.base.clone(),
        http: reqwest::Client::new(),
    });
    let cold = gateway.rss_kib()?;

    let run = std::process::id();
    eprintln!("signing up {} users", args.users);
    let tokens: Vec<String> = all((0..args.users).collect(), 4, |i| {
        let site = site.clone();
        async move {
            let body = site
                .post(
                    None,
                    "/api/auth/signup",
                    json!({"username": format!("idle{run}_{i}"), "password": PASSWORD}),
                )
                .await?;
            Ok(body["access_token"]
                .as_str()
                .context("no token")?
                .to_owned())
        }
    })
    .await?;
    eprintln!("creating {rooms} rooms");
    let room_ids: Vec<String> = all((0..rooms).collect(), args.concurrency, |r| {
        let (site, token) = (site.clone(), tokens[r % tokens.len()].clone());
        async move {
            let body = site
                .post(
                    Some(&token),
                    "/api/rooms",
                    json!({"name": format!("idle {run} {r}"), "kind": "public"}),
                )
                .await?;
            Ok(body["id"].as_str().context("no room id")?.to_owned())
        }
    })
    .await?;
    // connection i: room r = i % rooms, its k-th member (k = i / rooms), user
    // (r * room_size + k) % users: distinct users in a room, every user
    // with the same number of connections
    let plan: Vec<(usize, usize)> = (0..args.connections)
        .map(|i| {
            let (r, k) = (i % rooms, i / rooms);
            (r, (r * args.room_size + k) % args.users)
        })
        .collect();
    let mut joins: Vec<(usize, usize)> = plan.clone();
    joins.sort_unstable();
    joins.dedup();
    // the creator of room r (user r % users) is a member already
    joins.retain(|&(r, u)| u != r % args.users);
    eprintln!("{} joins", joins.len());
    all(joins, args.concurrency, |(r, u)| {
        let (site, token, room) = (site.clone(), tokens[u].clone(), room_ids[r].clone());
        async move {
            site.post(Some(&token), &format!("/api/rooms/{room}/join"), json!({}))
                .await
                .map(drop)
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = gateway.rss_kib()?;
    let tcp_before = tcp_mem_kib()?;

    eprintln!("opening {} connections", args.connections);
    let opened = Instant::now();
    let sockets = all(plan, args.concurrency, |(r, u)| {
        let (site, token, room) = (site.clone(), tokens[u].clone(), room_ids[r].clone());
        let subscribe = !args.no_subscribe;
        async move { connect(&site, &token, subscribe.then_some(room.as_str())).await }
    })
    .await?;
    let open_secs = opened.elapsed().as_secs_f64();
    let opened_rss = gateway.rss_kib()?;
    eprintln!("opened in {open_secs:.1} s; idling {} s", args.settle_secs);
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let after = gateway.rss_kib()?;
    let tcp_after = tcp_mem_kib()?;
    let still_open = sockets.iter().filter(|s| !s.is_finished()).count();
    gateway.stop().await;
    for socket in sockets {
        socket.abort();
    }

    let n = args.connections as f64;
    let per_conn = (after.saturating_sub(before)) as f64 / n;
    let tcp_per_conn = (tcp_after.saturating_sub(tcp_before)) as f64 / n;
    println!(
        "\n| connections | open at end | rooms × size | users | RSS cold | before | just opened | after {} s idle | per connection | kernel TCP buffers, whole machine, before → after |",
        args.settle_secs
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {still_open} | {rooms} × {} | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | **{per_conn:.1} KiB** | {tcp_before} → {tcp_after} KiB ({tcp_per_conn:.1} KiB a connection) |",
        args.connections,
        args.room_size,
        args.users,
        cold as f64 / 1024.0,
        before as f64 / 1024.0,
        opened_rss as f64 / 1024.0,
        after as f64 / 1024.0,
    );
    test_support::bench_summary::record(&test_support::bench_summary::Figure {
        measure: &format!(
            "idle memory per subscribed connection ({} connections, rooms of {})",
            args.connections, args.room_size
        ),
        value: format!("{per_conn:.1} KiB"),
        baseline: format!("kernel TCP buffers apart: {tcp_per_conn:.1} KiB"),
        goal: "≤ 8 KiB",
        met: per_conn <= 8.0,
    });
    anyhow::ensure!(
        still_open == args.connections,
        "{} connections ended while idle",
        args.connections - still_open
    );
    Ok(())
}
