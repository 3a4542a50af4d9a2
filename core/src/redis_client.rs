//! Redis clients as every service opens them: Nagle's algorithm off.
//!
//! redis-rs leaves `TCP_NODELAY` off unless told. Every connection here is
//! shared by many small requests at once (the sends of a gateway's every
//! socket, the relay's subscriptions); with Nagle on, a request written while
//! an earlier one is unanswered waits for that answer's ACK, so each stage
//! of a send that talks to Redis waits on the others.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, RedisError};

/// A client for `url` whose connections send each request at once.
pub fn client(url: &str) -> Result<redis::Client, RedisError> {
    let info = url.into_connection_info()?;
    let tcp = info.tcp_settings().clone().set_nodelay(true);
    redis::Client::open(info.set_tcp_settings(tcp))
}

/// A connection that reconnects by itself and does not connect before first use.
pub fn managed(url: &str) -> Result<ConnectionManager, RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1));
    client(url)?.get_connection_manager_lazy(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_keeps_the_url_and_turns_nagle_off() {
        let client = client("redis://:secret@127.0.0.1:6390/2").expect("a valid url");
        let info = client.get_connection_info();
        assert!(info.tcp_settings().nodelay());
        assert_eq!(info.addr().to_string(), "127.0.0.1:6390");
        assert_eq!(info.redis_settings().db(), 2);
        assert_eq!(info.redis_settings().password(), Some("secret"));
    }

    #[test]
    fn a_bad_url_is_refused() {
        assert!(client("http://127.0.0.1:6379").is_err());
    }
}
