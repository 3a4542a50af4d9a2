//! `storm`: a reconnect storm through nginx. 10,000 idle connections, each
//! subscribed to one room, spread by nginx over two gateways while senders
//! keep every room busy; then the first gateway is killed and started again.
//! Every connection it held comes back through nginx and resumes from its
//! last seq; the run prints how long that took (each connection's drop to
//! its new `subscribed`, and the kill to the last one back) and checks that
//! no connection missed a message or saw one twice. `scripts/storm.sh`
//! (`make storm`) starts the stack and nginx and runs it.

mod board;
mod config;
mod send;
mod watch;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use loadgen::Site;
use loadgen::child::Proc;
use loadgen::setup::{post, sign_up};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use uuid::Uuid;

use crate::board::Board;
use crate::config::StormConfig;
use crate::send::Heads;
use crate::watch::Watcher;

/// Sender connections (to the gateway that stays up).
const SENDERS: usize = 4;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = StormConfig::parse();
    config.validate()?;
    println!(
        "[storm] {} connections of {} users in {} rooms, {} msgs/s",
        config.connections, config.users, config.rooms, config.rate
    );
    let (mut gateway_1, _gateway_2, _writer) = start_services(&config).await?;
    let site = Site {
        base: config.site(),
        origin: config.site(),
    };
    let http = reqwest::Client::new();
    let (tokens, rooms) = accounts(&config, &http, &site).await?;

    let board = Arc::new(Board::new(config.connections)?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let opened = Instant::now();
    let mut watchers = Vec::with_capacity(config.connections);
    let mut opening = futures::stream::iter((0..config.connections).map(|i| {
        let mut watcher = Watcher::new(
            i,
            tokens[i % config.users].clone(),
            rooms[(i / config.users) % config.rooms],
        );
        let (http, site, board) = (http.clone(), site.clone(), board.clone());
        async move {
            // Three tries: a setup hiccup is not what the run measures.
            let mut tries = 0;
            loop {
                match watch::open(&http, &site, &mut watcher, &board).await {
                    Ok(ws) => return anyhow::Ok((watcher, ws)),
                    Err(error) if tries == 2 => {
                        return Err(error.context(format!("opening connection {i}")));
                    }
                    Err(_) => tries += 1,
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }))
    .buffer_unordered(config.open_concurrency.max(1));
    while let Some((watcher, ws)) = opening.try_next().await? {
        let rng = StdRng::seed_from_u64(config.seed.wrapping_add(watcher.index as u64));
        watchers.push(tokio::spawn(watch::run(
            http.clone(),
            site.clone(),
            watcher,
            Some(ws),
            board.clone(),
            rng,
            stop_rx.clone(),
        )));
        if watchers.len() % 1000 == 0 {
            println!("[storm] {} connections subscribed", watchers.len());
        }
    }
    drop(opening);
    println!(
        "[storm] {} connections subscribed in {:.1} s",
        watchers.len(),
        opened.elapsed().as_secs_f64()
    );

    let heads: Heads = Arc::default();
    let (send_stop_tx, send_stop_rx) = tokio::sync::watch::channel(false);
    let direct = Site {
        base: format!("http://127.0.0.1:{}", config.gateway_2_port),
        origin: site.origin.clone(),
    };
    let period = Duration::from_secs_f64(SENDERS as f64 / config.rate);
    let senders: Vec<_> = (0..SENDERS)
        .map(|k| {
            let mine: Vec<Uuid> = rooms.iter().skip(k).step_by(SENDERS).copied().collect();
            tokio::spawn(send::run(
                direct.clone(),
                tokens[k % tokens.len()].clone(),
                mine,
                period,
                heads.clone(),
                send_stop_rx.clone(),
                Duration::from_secs(60),
            ))
        })
        .collect();
    // Steady state before the storm: a bench's warm-up, nothing waits on it.
    tokio::time::sleep(Duration::from_secs(config.warmup_secs)).await;

    let before = board.subscribed.load(Ordering::Relaxed);
    let presence_before = Board::get(&board.presence);
    let killed = Instant::now();
    gateway_1.kill().await;
    println!("[storm] gateway-1 killed with {before} connections subscribed; starting it again");
    let ready_timeout = config.ready_timeout();
    let restarting = tokio::spawn(async move {
        gateway_1.start(ready_timeout).await?;
        anyhow::Ok((gateway_1, killed.elapsed()))
    });
    let deadline = killed + Duration::from_secs(config.deadline_secs);
    let mut progress = tokio::time::interval(Duration::from_millis(500));
    loop {
        progress.tick().await;
        let down = board.down.load(Ordering::Relaxed);
        let drops = Board::get(&board.drops);
        println!(
            "[storm] {:>5.1} s: {drops} dropped, {down} still down, {} subscribed",
            killed.elapsed().as_secs_f64(),
            board.subscribed.load(Ordering::Relaxed)
        );
        if (drops > 0 && down == 0) || Instant::now() > deadline {
            break;
        }
    }
    let presence_frames = Board::get(&board.presence) - presence_before;
    let (_gateway_1, restart) = restarting.await??;
    println!(
        "[storm] gateway-1 was ready again {:.2} s after the kill",
        restart.as_secs_f64()
    );
    let _ = send_stop_tx.send(true);
    let mut acked = 0;
    for sender in senders {
        acked += sender.await??;
    }
    let caught_up = wait_caught_up(&board, &heads, &rooms, &config).await;
    let _ = stop_tx.send(true);
    for watcher in watchers {
        let _ = watcher.await;
    }
    println!(
        "[storm] presence frames received from the kill until every connection was back: {presence_frames}"
    );
    let ok = report(&config, &board, killed, restart, acked, caught_up);
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

async fn start_services(config: &StormConfig) -> anyhow::Result<(Proc, Proc, Proc)> {
    let gateway = |n: u8, port: u16| {
        Proc::new(
            &format!("gateway-{n}"),
            config.bin_dir.join("gateway"),
            vec![
                ("GATEWAY_ADDR".into(), format!("127.0.0.1:{port}")),
                ("GATEWAY_INSTANCE_ID".into(), format!("gateway-{n}")),
            ],
            &config.log_dir,
            port,
        )
    };
    let mut writer = Proc::new(
        "writer",
        config.bin_dir.join("writer"),
        vec![
            (
                "WRITER_HTTP_ADDR".into(),
                format!("127.0.0.1:{}", config.writer_port),
            ),
            ("WRITER_GROUP_INSTANCE_ID".into(), "writer-1".into()),
        ],
        &config.log_dir,
        config.writer_port,
    );
    let mut gateway_1 = gateway(1, config.gateway_1_port);
    let mut gateway_2 = gateway(2, config.gateway_2_port);
    writer.start(config.ready_timeout()).await?;
    gateway_1.start(config.ready_timeout()).await?;
    gateway_2.start(config.ready_timeout()).await?;
    println!("[storm] writer and gateways ready");
    Ok((gateway_1, gateway_2, writer))
}

/// Signs up the users, the first creates the rooms, every other joins them all.
async fn accounts(
    config: &StormConfig,
    http: &reqwest::Client,
    site: &Site,
) -> anyhow::Result<(Vec<String>, Vec<Uuid>)> {
    let run = &Uuid::new_v4().simple().to_string()[..6];
    let users: Vec<_> = futures::stream::iter((0..config.users).map(|i| {
        let name = format!("storm{run}_{i}");
        async move { sign_up(http, site, &name).await }
    }))
    .buffered(8)
    .try_collect()
    .await?;
    let tokens: Vec<String> = users.into_iter().map(|u| u.token).collect();
    let mut rooms = Vec::with_capacity(config.rooms);
    for i in 0..config.rooms {
        let body = json!({"name": format!("storm {run} {i}"), "kind": "public"});
        let room = post(http, site, &tokens[0], "/api/rooms", body).await?;
        rooms.push(
            room["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("room answer without id"))?,
        );
    }
    let joins = tokens.iter().skip(1).flat_map(|token| {
        rooms.iter().map(move |room| async move {
            post(
                http,
                site,
                token,
                &format!("/api/rooms/{room}/join"),
                json!({}),
            )
            .await
        })
    });
    futures::stream::iter(joins)
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    println!(
        "[storm] {} users signed up, {} rooms joined by all",
        tokens.len(),
        rooms.len()
    );
    Ok((tokens, rooms))
}

/// Waits (30 s at most) until every watcher has seen its room's head; returns
/// how many have not.
async fn wait_caught_up(
    board: &Board,
    heads: &Heads,
    rooms: &[Uuid],
    config: &StormConfig,
) -> usize {
    let heads = heads.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let behind = board
            .last_seq
            .iter()
            .enumerate()
            .filter(|(i, seq)| {
                let room = rooms[(i / config.users) % config.rooms];
                seq.load(Ordering::Relaxed) < heads.get(&room).copied().unwrap_or(0)
            })
            .count();
        if behind == 0 || Instant::now() > deadline {
            return behind;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints the figures and a Markdown row; false when a message was missed or
/// duplicated, or a connection never came back.
fn report(
    config: &StormConfig,
    board: &Board,
    killed: Instant,
    restart: Duration,
    acked: u64,
    behind: usize,
) -> bool {
    let (count, p50, p99, max, last) = board.resume_summary();
    let all_back = last.map_or(f64::NAN, |t| t.duration_since(killed).as_secs_f64());
    let drops = Board::get(&board.drops);
    let missed = Board::get(&board.missed);
    let duplicated = Board::get(&board.duplicated);
    let resyncs = Board::get(&board.resyncs);
    let down = board.down.load(Ordering::Relaxed);
    println!();
    println!(
        "| connections | dropped | resumed | drop → subscribed p50 / p99 / max | kill → last back | gateway restart | messages acked | deliveries | missed | duplicated | resyncs | refusals | failed reconnects | behind at the end |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {drops} | {count} | {p50} / {p99} / {max} ms | {all_back:.2} s | {:.2} s | {acked} | {} | {missed} | {duplicated} | {resyncs} | {} | {} | {behind} |",
        config.connections,
        restart.as_secs_f64(),
        Board::get(&board.deliveries),
        Board::get(&board.refusals),
        Board::get(&board.reconnect_failures),
    );
    let goal = config.goal_secs;
    let met = all_back <= goal;
    test_support::bench_summary::record(&test_support::bench_summary::Figure {
        measure: &format!(
            "reconnect storm: {drops} of {} connections back after a gateway is killed",
            config.connections
        ),
        value: format!("{all_back:.2} s, {missed} missed"),
        baseline: format!("gateway restart {:.2} s", restart.as_secs_f64()),
        goal: &format!("≤ {goal} s, none missed"),
        met: met && missed == 0,
    });
    println!(
        "[storm] goal: every dropped connection back within {goal} s of the kill: {}",
        if met { "met" } else { "MISSED" }
    );
    let ok =
        drops > 0 && down == 0 && missed == 0 && duplicated == 0 && resyncs == 0 && behind == 0;
    if !ok {
        println!("[storm] FAILED: a connection missed or repeated a message, or did not come back");
    }
    ok
}
