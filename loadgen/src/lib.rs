//! A load generator for the chat: N users over M rooms sending at a steady
//! rate through the site (nginx), each reconnecting with resume and resending
//! with the same `client_msg_id` until acknowledged, and recording what it saw
//! so that a run can be checked against what was stored.
//!
//! - [`setup`]: sign up the users, create the rooms, join them (HTTP).
//! - [`client`]: one user's connection loop (WebSocket): send, ack, resend,
//!   reconnect, resume.
//! - [`view`]: one client's view of one room, checked frame by frame.
//! - [`record`]: shared counters and what each client saw.
//! - [`child`]: a gateway or the writer run as a child process, restartable.
//!
//! The `soak` binary runs it against a whole stack while killing its parts;
//! `storm` restarts a gateway under 10,000 idle connections and times their resume.
//! `signup_flood` and `idle_memory` measure one gateway's memory (BENCHMARKS.md),
//! started by [`bench_gateway`].

pub mod bench_gateway;
pub mod child;
pub mod client;
pub mod record;
pub mod setup;
pub mod view;

pub use client::{ClientPlan, Phase, run_client};
pub use record::{Ack, ClientRecord, Stats};
pub use setup::{Site, User, setup};
pub use view::{RoomView, Seen};

/// `GATEWAY_WORKER_THREADS` for each of `gateways` gateways run on this
/// machine: the environment's value when set, else each one's share of the
/// cores (at least one). Gateways sharing the cores, each with a thread per
/// core, spent 8 % more CPU (BENCHMARKS.md, session 17).
pub fn gateway_worker_threads(gateways: usize) -> String {
    std::env::var("GATEWAY_WORKER_THREADS")
        .ok()
        .filter(|threads| !threads.is_empty())
        .unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            share_of_cores(cores, gateways).to_string()
        })
}

/// Each of `gateways` gateways' share of `cores`, at least one.
fn share_of_cores(cores: usize, gateways: usize) -> usize {
    (cores / gateways.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::share_of_cores;

    #[test]
    fn each_gateway_gets_its_share_of_the_cores_and_at_least_one() {
        assert_eq!(share_of_cores(2, 2), 1);
        assert_eq!(share_of_cores(8, 2), 4);
        assert_eq!(share_of_cores(7, 2), 3);
        assert_eq!(share_of_cores(1, 2), 1);
        assert_eq!(share_of_cores(4, 0), 4);
    }
}
