//! What sqlx's pool costs a query beyond the query: a connection handed back
//! to a `PgPool` is pinged before it is idle again (sqlx 0.8: a `Sync`
//! message and its `ReadyForQuery`, a second round trip to the backend), so
//! a query made with `fetch_one(&pool)` wakes its backend twice. The same
//! small query (one row, two parameters, as the send path's one read binds
//! its keys) runs through the pool, and on connections acquired once and
//! held, from `BENCH_POOL_WORKERS` tasks at once, alternating; the CPU of
//! every `postgres` process on the machine (from `/proc`) and of this
//! process, per query.
//!
//! Run through `make bench` (it starts the services), or against any
//! Postgres: `TEST_DATABASE_URL=postgres://… cargo bench -p chat-core --bench pool_release`.
//! Other `postgres` processes' CPU counts too: run it on a quiet server.
//!
//! Settings: `BENCH_POOL_QUERIES` (20000 per path and run), `BENCH_POOL_WORKERS`
//! (4), `BENCH_POOL_RUNS` (3).

use std::time::Instant;

use sqlx::postgres::PgPoolOptions;
use test_support::{bench_setting, required_env};
use uuid::Uuid;

const QUERY: &str = "SELECT $1::uuid AS id, $2::text AS key FROM (VALUES (1)) AS one (n)";

/// User and system CPU seconds of a `/proc/<pid>/stat` line.
fn cpu_of(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rfind(')')
        .map(|end| stat[end + 2..].split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// CPU seconds of every process named `postgres`.
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .map(|stat| cpu_of(&stat))
        .sum()
}

fn own_cpu() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| cpu_of(&s))
}

/// One run of one path: (Postgres µs, this process's µs, queries/s).
async fn run(pool: &sqlx::PgPool, held: bool, queries: usize, workers: usize) -> [f64; 3] {
    let (postgres, own, started) = (postgres_cpu(), own_cpu(), Instant::now());
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut conn = if held {
                    Some(pool.acquire().await.expect("a connection"))
                } else {
                    None
                };
                for i in 0..queries / workers {
                    let query = sqlx::query(QUERY).bind(Uuid::new_v4()).bind(i.to_string());
                    match conn.as_mut() {
                        Some(conn) => query.fetch_one(&mut **conn).await,
                        None => query.fetch_one(&pool).await,
                    }
                    .expect("the query");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a worker");
    }
    let done = (queries / workers * workers) as f64;
    [
        (postgres_cpu() - postgres) * 1e6 / done,
        (own_cpu() - own) * 1e6 / done,
        done / started.elapsed().as_secs_f64(),
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let url = required_env("TEST_DATABASE_URL");
    let (queries, workers, runs) = (
        bench_setting("BENCH_POOL_QUERIES", 20_000),
        bench_setting("BENCH_POOL_WORKERS", 4).max(1),
        bench_setting("BENCH_POOL_RUNS", 3).max(1),
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(workers as u32)
            .connect(&url)
            .await
            .expect("Postgres");
        let mut figures = [Vec::new(), Vec::new()];
        for r in 1..=runs {
            for (i, held) in [false, true].into_iter().enumerate() {
                let f = run(&pool, held, queries, workers).await;
                eprintln!(
                    "bench: run {r}/{runs}, {}: Postgres {:.1} µs, client {:.1} µs a query, {:.0} queries/s",
                    if held { "held" } else { "pooled" },
                    f[0],
                    f[1],
                    f[2]
                );
                figures[i].push(f);
            }
        }
        println!(
            "\n| path ({queries} queries per run, {workers} at once, median of {runs}) | Postgres CPU µs a query | client CPU µs a query | queries/s |"
        );
        println!("|---|---:|---:|---:|");
        let labels = [
            "through the pool (each connection pinged when handed back)",
            "connections acquired once and held",
        ];
        for (label, runs) in labels.iter().zip(figures) {
            let col = |k: usize| median(runs.iter().map(|f| f[k]).collect());
            println!("| {label} | {:.1} | {:.1} | {:.0} |", col(0), col(1), col(2));
        }
    });
}
