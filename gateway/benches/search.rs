//! Search latency over one room of 1,000,000 messages, through the HTTP
//! endpoint of a gateway started in this process (`GET /api/search`).
//!
//! The room is seeded with `COPY` (the search index is dropped for the copy
//! and built after it, then `ANALYZE`): bodies of 3 to 27 words drawn from a
//! vocabulary of 5,000 made-up words (a few accented and CJK ones among them)
//! with a Zipf distribution (s = 1, so the commonest word is in most messages,
//! as "the" would be: the 'simple' configuration has no stop words), and 20
//! rare words planted once per 10,000 messages each. Then each kind of query
//! runs `BENCH_SEARCH_QUERIES` times, one after the other, and the table gives
//! the median and the 99th percentile of the whole request, and the matches.
//!
//!   cargo bench -p chat-gateway --bench search
//!   (BENCH_SEARCH_ROWS, default 1000000, and BENCH_SEARCH_QUERIES, default 50, tune it)

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use test_support::{RedisServer, TestDatabase, bench_setting, required_env};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const VOCABULARY: usize = 5000;
const RARE: usize = 20;
/// One message in this many carries a given rare word.
const RARE_EVERY: u64 = 10_000;
const SYLLABLES: [&str; 26] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "go", "hu", "je", "ku", "la",
    "ma", "no", "pi", "re", "su", "ta", "vu", "xe", "yo", "zu",
];
/// Words of other scripts, placed at these ranks of the vocabulary.
const FOREIGN: [(usize, &str); 4] = [(40, "café"), (120, "über"), (300, "東京"), (900, "crème")];

/// Makes one query of a kind.
type MakeQuery<'a> = Box<dyn Fn(&mut StdRng) -> String + 'a>;

/// The vocabulary, commonest first.
fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = (0..VOCABULARY)
        .map(|i| {
            let mut n = i + 30; // two syllables at least
            let mut word = String::new();
            while n > 0 {
                word.push_str(SYLLABLES[n % 26]);
                n /= 26;
            }
            word
        })
        .collect();
    for (rank, word) in FOREIGN {
        words[rank] = word.into();
    }
    words
}

fn rare_word(i: usize) -> String {
    format!("zyx{}quartz", SYLLABLES[i % 26])
}

/// A Zipf sampler over ranks `0..n` (s = 1).
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize) -> Self {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|k| {
                acc += 1.0 / k as f64;
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Self(cdf)
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let u: f64 = rng.random();
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
}

#[tokio::main]
async fn main() {
    let rows = bench_setting("BENCH_SEARCH_ROWS", 1_000_000);
    let queries = bench_setting("BENCH_SEARCH_QUERIES", 50);
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = chat_gateway::GatewayConfig::try_parse_from([
        "gateway",
        "--database-url",
        &db.url,
        "--kafka-brokers",
        &required_env("TEST_KAFKA_BROKERS"),
        "--redis-url",
        &redis.url(),
        "--jwt-secret",
        "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "--cookie-secure",
        "false",
    ])
    .unwrap();
    let shutdown = CancellationToken::new();
    let gateway = tokio::spawn(chat_gateway::run(config, listener, shutdown.clone()));
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "gateway not up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session: Value = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({ "username": "searcher", "password": "correct horse battery staple" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let user: Uuid = session["user"]["id"].as_str().unwrap().parse().unwrap();
    let room: Value = http
        .post(format!("{base}/api/rooms"))
        .bearer_auth(&token)
        .json(&json!({ "name": "haystack", "kind": "public" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let room: Uuid = room["id"].as_str().unwrap().parse().unwrap();

    let words = vocabulary();
    let seeding = Instant::now();
    seed(&db, room, user, rows, &words).await;
    let seeded = seeding.elapsed();
    eprintln!(
        "bench: {rows} messages seeded in {:.1} s (COPY, index, ANALYZE)",
        seeded.as_secs_f64()
    );

    let mut rng = StdRng::seed_from_u64(7);
    let kinds: Vec<(String, MakeQuery<'_>)> = vec![
        (
            "commonest word (in most messages)".into(),
            Box::new(|_: &mut StdRng| words[0].clone()),
        ),
        (
            "common word (ranks 10-100)".into(),
            Box::new(|r: &mut StdRng| words[r.random_range(10..100)].clone()),
        ),
        (
            "uncommon word (ranks 1000-5000)".into(),
            Box::new(|r: &mut StdRng| words[r.random_range(1000..VOCABULARY)].clone()),
        ),
        (
            "rare word (1 in 10,000 messages)".into(),
            Box::new(|r: &mut StdRng| rare_word(r.random_range(0..RARE))),
        ),
        (
            "two words, both (ranks 10-100 and 100-1000)".into(),
            Box::new(|r: &mut StdRng| {
                format!(
                    "{} {}",
                    words[r.random_range(10..100)],
                    words[r.random_range(100..1000)]
                )
            }),
        ),
        (
            "quoted phrase of two common words".into(),
            Box::new(|r: &mut StdRng| {
                format!(
                    "\"{} {}\"",
                    words[r.random_range(0..10)],
                    words[r.random_range(0..10)]
                )
            }),
        ),
        (
            "accented word (rank 40), any case".into(),
            Box::new(|_: &mut StdRng| "CAFÉ".into()),
        ),
    ];
    println!(
        "| query ({rows} messages in one room, {queries} queries each, limit 20) | median ms | p99 ms | messages matching the last query |"
    );
    println!("|---|---:|---:|---:|");
    let mut all = Vec::new();
    for (name, make) in &kinds {
        let mut times = Vec::with_capacity(queries);
        let mut last = String::new();
        for _ in 0..queries {
            let q = make(&mut rng);
            let url =
                reqwest::Url::parse_with_params(&format!("{base}/api/search"), [("q", q.as_str())])
                    .unwrap();
            let sent = Instant::now();
            let response = http.get(url).bearer_auth(&token).send().await.unwrap();
            assert!(response.status().is_success(), "{q}: {}", response.status());
            let page: Value = response.json().await.unwrap();
            times.push(sent.elapsed().as_secs_f64() * 1000.0);
            assert!(page["results"].is_array(), "{q}: {page}");
            last = q;
        }
        let matching: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages
             WHERE search @@ websearch_to_tsquery('simple', lower($1 COLLATE \"und-x-icu\"))",
        )
        .bind(&last)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let (median, p99) = (percentile(&mut times, 0.5), percentile(&mut times, 0.99));
        eprintln!("bench: {name}: median {median:.1} ms, p99 {p99:.1} ms");
        println!("| {name} | {median:.1} | {p99:.1} | {matching} |");
        all.extend(times);
    }
    let (median, p99) = (percentile(&mut all, 0.5), percentile(&mut all, 0.99));
    println!("| all of the above | {median:.1} | {p99:.1} | |");
    println!(
        "\nSeeding {rows} messages (COPY, the GIN index built after it, ANALYZE): {:.1} s.",
        seeded.as_secs_f64()
    );
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), gateway).await;
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let i = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[i.min(values.len() - 1)]
}

/// Stores `rows` messages in `room` with `COPY` (text format: the words hold
/// no tab, newline or backslash), then builds the search index and analyses.
async fn seed(db: &TestDatabase, room: Uuid, sender: Uuid, rows: usize, words: &[String]) {
    let zipf = Zipf::new(words.len());
    let mut rng = StdRng::seed_from_u64(42);
    let mut conn = db.pool.acquire().await.unwrap();
    sqlx::query("DROP INDEX messages_search_idx")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut copy = conn
        .copy_in_raw(
            "COPY messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at) FROM STDIN",
        )
        .await
        .unwrap();
    let sent_at = "2026-11-01 00:00:00+00";
    let mut chunk = String::with_capacity(1 << 20);
    for seq in 1..=rows as u64 {
        let length = rng.random_range(3..=27);
        let mut body = String::new();
        for i in 0..length {
            if i > 0 {
                body.push(' ');
            }
            body.push_str(&words[zipf.sample(&mut rng)]);
        }
        if rng.random_range(0..RARE_EVERY) < RARE as u64 {
            body.push(' ');
            body.push_str(&rare_word(rng.random_range(0..RARE)));
        }
        chunk.push_str(&format!(
            "{}\t{room}\t{seq}\t{sender}\tseed-{seq}\tuser\t{body}\t{sent_at}\n",
            Uuid::now_v7()
        ));
        if chunk.len() > 1 << 20 {
            copy.send(chunk.as_bytes()).await.unwrap();
            chunk.clear();
        }
    }
    copy.send(chunk.as_bytes()).await.unwrap();
    copy.finish().await.unwrap();
    sqlx::query("CREATE INDEX messages_search_idx ON messages USING gin (search)")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("ANALYZE messages")
        .execute(&mut *conn)
        .await
        .unwrap();
}
