//! Connection caps: how many WebSockets one user and one client address may
//! hold open on this instance. A socket takes a [`Permit`] before its upgrade
//! and gives it back when it ends (the permit's drop), so the counts cannot
//! drift. IPv6 addresses count by their `/64`: one host usually holds a whole
//! `/64`, and would otherwise have 2^64 addresses to spread over.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

/// Which cap a new connection would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapReached {
    #[error("too many open connections for this user")]
    User,
    #[error("too many open connections from this address")]
    Address,
}

/// The address a cap counts: the address itself, or an IPv6 address's `/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AddrKey(IpAddr);

impl AddrKey {
    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(bits.into()))
            }
            v4 => Self(v4),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    users: HashMap<Uuid, usize>,
    addrs: HashMap<AddrKey, usize>,
}

/// The open-connection counts of this instance and their limits.
#[derive(Debug, Clone)]
pub struct ConnectionCaps {
    counts: Arc<Mutex<Counts>>,
    per_user: usize,
    per_address: usize,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub struct Permit {
    counts: Arc<Mutex<Counts>>,
    user: Uuid,
    addr: AddrKey,
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ConnectionCaps {
    pub fn new(per_user: usize, per_address: usize) -> Self {
        Self {
            counts: Arc::default(),
            per_user,
            per_address,
        }
    }

    /// Counts a connection of `user` from `addr`, or says which cap it would pass.
    pub fn acquire(&self, user: Uuid, addr: IpAddr) -> Result<Permit, CapReached> {
        let addr = AddrKey::of(addr);
        let mut counts = lock(&self.counts);
        if counts.addrs.get(&addr).copied().unwrap_or(0) >= self.per_address {
            return Err(CapReached::Address);
        }
        if counts.users.get(&user).copied().unwrap_or(0) >= self.per_user {
            return Err(CapReached::User);
        }
        *counts.addrs.entry(addr).or_default() += 1;
        *counts.users.entry(user).or_default() += 1;
        Ok(Permit {
            counts: self.counts.clone(),
            user,
            addr,
        })
    }
}

/// Takes one from `key`'s count, forgetting keys that reach zero (the maps
/// hold only what is open).
fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        release(&mut counts.users, &self.user);
        release(&mut counts.addrs, &self.addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_user_past_its_cap_is_refused_until_one_of_its_connections_ends() {
        let caps = ConnectionCaps::new(2, 100);
        let user = Uuid::now_v7();
        let first = caps.acquire(user, ip("192.0.2.1")).expect("first");
        let _second = caps.acquire(user, ip("192.0.2.2")).expect("second");
        assert_eq!(
            caps.acquire(user, ip("192.0.2.3")).err(),
            Some(CapReached::User)
        );
        drop(first);
        assert!(caps.acquire(user, ip("192.0.2.3")).is_ok());
    }

    #[test]
    fn an_address_past_its_cap_is_refused_whoever_connects() {
        let caps = ConnectionCaps::new(10, 2);
        let _a = caps.acquire(Uuid::now_v7(), ip("2001:db8::1")).expect("a");
        let _b = caps
            .acquire(Uuid::now_v7(), ip("2001:db8::2"))
            .expect("b (same /64)");
        assert_eq!(
            caps.acquire(Uuid::now_v7(), ip("2001:db8::ffff")).err(),
            Some(CapReached::Address)
        );
        assert!(caps.acquire(Uuid::now_v7(), ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn released_permits_leave_no_entries_behind() {
        let caps = ConnectionCaps::new(5, 5);
        let permits: Vec<_> = (0..5)
            .map(|_| {
                caps.acquire(Uuid::now_v7(), ip("192.0.2.1"))
                    .expect("permit")
            })
            .collect();
        drop(permits);
        let counts = lock(&caps.counts);
        assert!(counts.users.is_empty() && counts.addrs.is_empty());
    }
}
