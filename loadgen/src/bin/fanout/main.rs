//! `fanout`: send → delivery latency and fan-out throughput of the chat
//! against the same load on a bare WebSocket broadcast server (the ceiling)
//! and a bare Kafka producer (the floor of the durable path), in one run, with
//! the CPU seconds and peak memory of every server process (the two
//! baselines in processes of their own), the stages of a send and of its
//! storage, and the produce cost (the gateways' CPU per message over the bare
//! producer's per record). `make bench` runs it (scripts/fanout.sh);
//! `loadgen/tests/fanout_smoke.rs` runs a small one.

mod bare;
mod cluster;
mod cost;
mod goals;
mod pacer;
mod procstat;
mod producer;
mod report;
mod run;
mod saturation;
mod setup;
mod stages;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::cluster::{Cluster, Size};
use crate::procstat::{Meter, Watched};
use crate::report::Row;
use crate::target::Target;

#[derive(Debug, Parser)]
#[command(
    about = "Fan-out latency and throughput of the chat against its baselines",
    // scripts/fanout.sh passes its defaults first: an option given again wins
    args_override_self = true
)]
struct Args {
    /// WebSocket connections (one user each).
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Connections per room.
    #[arg(long, default_value_t = 100)]
    room_size: usize,
    /// Senders per room.
    #[arg(long, default_value_t = 10)]
    senders_per_room: usize,
    /// Message rates to run (messages/s over all rooms), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "200")]
    rates: Vec<f64>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Sending seconds before the measured window.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Seconds of sending at the highest rate before the first run, not
    /// measured: a broker that has just started, or met a new producer,
    /// spends its first minutes compiling (the JVM's JIT) and its CPU then
    /// is not the steady state's. 0 for none.
    #[arg(long, default_value_t = 60)]
    prime: u64,
    /// The priming's rate (messages/s); default the highest of `--rates`.
    #[arg(long)]
    prime_rate: Option<f64>,
    /// The rates are a ladder toward saturation: also report the highest
    /// rate held (p99 under 250 ms, nothing lost) before the first that was
    /// not, and the run at 70 % of that saturation, against their goals.
    #[arg(long)]
    saturation: bool,
    /// Messages of history stored in each room before the first run (a
    /// running service's table, analysed), 0 for none.
    #[arg(long, default_value_t = 10_000)]
    history: u32,
    /// Runs per rate, the chat and the bare server alternating.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Gateways (connection i on gateway i mod n).
    #[arg(long, default_value_t = 2)]
    gateways: usize,
    /// Connect through nginx (test-support's) in front of the gateways.
    #[arg(long)]
    nginx: bool,
    /// Skip the bare broadcast baseline.
    #[arg(long)]
    no_bare: bool,
    /// Skip the bare producer baseline.
    #[arg(long)]
    no_producer: bool,
    /// Where the gateway and writer binaries are (default: next to this one).
    #[arg(long, env = "FANOUT_BIN_DIR")]
    bin_dir: Option<PathBuf>,
    /// The test stack's profile directory (`$STACK_DIR/test`), to count Postgres and Kafka.
    #[arg(long, env = "FANOUT_STACK_DIR")]
    stack_dir: Option<PathBuf>,
    /// Print one JSON line per run after the table.
    #[arg(long)]
    json: bool,
    /// Internal: serve the bare broadcast baseline on this port.
    #[arg(long, hide = true)]
    bare_server: Option<u16>,
    /// Internal: run one bare producer of the baseline at this rate for `--seconds`.
    #[arg(long, hide = true)]
    bare_producer: Option<f64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(port) = args.bare_server {
        return bare::serve(port).await;
    }
    if let Some(rate) = args.bare_producer {
        return producer::serve(rate, Duration::from_secs(args.seconds)).await;
    }
    anyhow::ensure!(
        args.room_size > 0 && args.connections >= args.room_size,
        "--connections must be at least --room-size"
    );
    anyhow::ensure!(
        args.rates.iter().chain(&args.prime_rate).all(|&r| r > 0.0),
        "--rates and --prime-rate must be above 0"
    );
    let rooms = args.connections / args.room_size;
    let connections = rooms * args.room_size;
    let bin_dir = args
        .bin_dir
        .clone()
        .or_else(cluster::own_bin_dir)
        .ok_or_else(|| anyhow::anyhow!("--bin-dir"))?;
    eprintln!(
        "[fanout] starting {} gateways and a writer from {}",
        args.gateways,
        bin_dir.display()
    );
    let size = Size {
        gateways: args.gateways,
        users: connections,
        connections,
        rooms,
    };
    let cluster = Cluster::start(&bin_dir, size, args.stack_dir.as_deref()).await?;
    let _nginx;
    let bases = if args.nginx {
        let ports: Vec<u16> = cluster
            .bases
            .iter()
            .filter_map(|b| b.rsplit(':').next()?.parse().ok())
            .collect();
        let nginx = test_support::nginx::NginxServer::start(&ports);
        let base = nginx.url();
        _nginx = Some(nginx);
        vec![base]
    } else {
        _nginx = None;
        cluster.bases.clone()
    };
    let chat = Target::Chat {
        bases,
        origin: cluster::ORIGIN.to_owned(),
    };
    eprintln!(
        "[fanout] signing up {connections} users into {rooms} rooms of {}",
        args.room_size
    );
    let users = setup::users(&chat, connections, rooms).await?;
    if args.history > 0 {
        eprintln!(
            "[fanout] storing {} messages of history in each room",
            args.history
        );
        cluster.store_history(args.history).await?;
    }

    let bare = if args.no_bare {
        None
    } else {
        Some(bare_server()?)
    };
    let plan = |rate: f64| run::Plan {
        rate,
        warmup: Duration::from_secs(args.warmup),
        window: Duration::from_secs(args.seconds),
        senders_per_room: args.senders_per_room,
        drain: Duration::from_secs(15),
    };
    // stages read from the gateways themselves (not through nginx) and the writer
    let chat_metrics = stages::sources(&cluster.bases, Some(&cluster.writer_base));
    if args.prime > 0 {
        let rate = args
            .prime_rate
            .unwrap_or_else(|| args.rates.iter().copied().fold(0.0, f64::max));
        eprintln!(
            "[fanout] priming: the chat at {rate} messages/s for {} s, not measured",
            args.prime
        );
        prime(
            &chat,
            &users,
            &run::Plan {
                window: Duration::from_secs(args.prime),
                ..plan(rate)
            },
        )
        .await?;
    }
    let mut rows = Vec::new();
    let mut stage_rows = Vec::new();
    for n in 1..=args.runs {
        for &rate in &args.rates {
            eprintln!("[fanout] run {n}/{}: chat at {rate} messages/s", args.runs);
            let (outcome, costs, stages) =
                measured(&chat, &users, &plan(rate), &cluster.watched, &chat_metrics).await?;
            rows.push(Row::chat(n, rate, (outcome, costs)));
            stage_rows.push((n, rate, stages));
            if let Some((port, child)) = &bare {
                eprintln!(
                    "[fanout] run {n}/{}: bare broadcast at {rate} messages/s",
                    args.runs
                );
                let target = Target::Bare {
                    url: format!("ws://127.0.0.1:{port}/"),
                };
                let watched = vec![Watched {
                    name: "bare".into(),
                    pid: child.id().unwrap_or_default(),
                    with_children: false,
                }];
                let (outcome, costs, _) =
                    measured(&target, &users, &plan(rate), &watched, &[]).await?;
                rows.push(Row::bare(n, rate, (outcome, costs)));
            }
            if !args.no_producer {
                eprintln!(
                    "[fanout] run {n}/{}: bare producers at {rate} records/s, one per gateway",
                    args.runs
                );
                let measured = producer::run_apart(rate, args.seconds, args.gateways).await?;
                rows.push(Row::producer(n, rate, args.seconds as f64, measured));
            }
        }
    }
    report::print(&rows, args.seconds as f64, args.json);
    report::print_stages(&stage_rows);
    cost::print(&rows);
    let shape = format!(
        "{connections} connections in rooms of {}{}",
        args.room_size,
        if args.nginx { ", through nginx" } else { "" }
    );
    goals::record_all(
        &rows,
        &stage_rows,
        (&shape, args.room_size),
        args.seconds as f64,
    );
    if args.saturation {
        let medians: Vec<Row> = args
            .rates
            .iter()
            .filter_map(|&rate| report::median_at(&rows, report::CHAT, rate))
            .collect();
        saturation::record_ladder(&medians, args.room_size, &shape);
    }
    Ok(())
}

/// One run with the processes' cost, and the stage histograms of `metrics`,
/// read over its measured window.
async fn measured(
    target: &Target,
    users: &setup::Users,
    plan: &run::Plan,
    watched: &[Watched],
    metrics: &[stages::Source<'_>],
) -> anyhow::Result<(run::Outcome, Vec<procstat::Cost>, Vec<stages::Stage>)> {
    let http = reqwest::Client::new();
    let conns = setup::connect(target, users).await?;
    let run = {
        let (target, plan) = (target.clone(), plan.clone());
        tokio::spawn(async move { run::run(&target, conns, &plan).await })
    };
    tokio::time::sleep(plan.warmup).await;
    let mut watched = watched.to_vec();
    watched.push(Watched {
        name: procstat::CLIENT.into(),
        pid: std::process::id(),
        with_children: false,
    });
    let meter = Meter::start(watched);
    let before = stages::scrape(&http, metrics).await;
    tokio::time::sleep(plan.window).await;
    let costs = meter.stop();
    let after = stages::scrape(&http, metrics).await;
    Ok((run.await??, costs, stages::window(&before, &after)))
}

/// Sends at `plan`'s rate for its window without measuring; fails if
/// anything acknowledged went missing (the runs after it would not say).
async fn prime(target: &Target, users: &setup::Users, plan: &run::Plan) -> anyhow::Result<()> {
    let conns = setup::connect(target, users).await?;
    let outcome = run::run(target, conns, plan).await?;
    anyhow::ensure!(
        outcome.lost == 0 && outcome.duplicated == 0 && outcome.out_of_order == 0,
        "priming lost {}, duplicated {} and reordered {} deliveries",
        outcome.lost,
        outcome.duplicated,
        outcome.out_of_order
    );
    Ok(())
}

/// This binary again as the bare broadcast server, on a free port.
fn bare_server() -> anyhow::Result<(u16, tokio::process::Child)> {
    let port = test_support::free_port();
    let child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--bare-server")
        .arg(port.to_string())
        .kill_on_drop(true)
        .spawn()?;
    Ok((port, child))
}
