//! What a run connects to: the chat's gateways (accounts, tickets, protocol
//! 1) or the bare broadcast server of the baseline, and the connections to it.

use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub type Conn = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Sink = SplitSink<Conn, Message>;
pub type Stream = SplitStream<Conn>;

#[derive(Debug, Clone)]
pub enum Target {
    /// The gateways (`http://host:port`), connection `i` on gateway `i % n`.
    Chat { bases: Vec<String>, origin: String },
    /// The bare broadcast server (`ws://host:port`).
    Bare { url: String },
}

impl Target {
    /// Opens connection `i` (as `token`'s user on the chat), subscribes it to
    /// `room` and waits for the subscription.
    pub async fn open(
        &self,
        http: &reqwest::Client,
        i: usize,
        token: Option<&str>,
        room: Uuid,
    ) -> anyhow::Result<Conn> {
        let request = match self {
            Self::Chat { bases, origin } => {
                let base = &bases[i % bases.len()];
                let ticket: Value = http
                    .post(format!("{base}/api/ws-ticket"))
                    .bearer_auth(token.unwrap_or_default())
                    .json(&json!({}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let ticket = ticket["ticket"].as_str().unwrap_or_default();
                let ws_base = base.replacen("http://", "ws://", 1);
                let mut request = format!("{ws_base}/ws?ticket={ticket}").into_client_request()?;
                request.headers_mut().insert("origin", origin.parse()?);
                request
                    .headers_mut()
                    .insert("sec-websocket-protocol", "chat.v1".parse()?);
                request
            }
            Self::Bare { url } => url.as_str().into_client_request()?,
        };
        // Nagle off, as a latency-minded client has it (the gateway too)
        let (mut ws, _) = tokio::time::timeout(
            Duration::from_secs(20),
            tokio_tungstenite::connect_async_with_config(
                request,
                Some(loadgen::client::ws_config()),
                true,
            ),
        )
        .await??;
        ws.send(Message::text(crate::run::subscribe_frame(room)))
            .await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let frame = tokio::time::timeout_at(deadline, ws.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("closed before subscribed"))??;
            if let Message::Text(text) = frame {
                let v: Value = serde_json::from_str(text.as_str())?;
                match v["type"].as_str() {
                    Some("subscribed") => return Ok(ws),
                    Some("error") => anyhow::bail!("subscribe refused: {v}"),
                    _ => {}
                }
            }
        }
    }

    /// A `send` frame (the bare server reads the same one).
    pub fn send_frame(&self, room: Uuid, client_msg_id: &str, body: &str) -> String {
        json!({"type": "send", "room": room, "client_msg_id": client_msg_id, "body": body})
            .to_string()
    }
}
