//! The send worker: runs a connection's sends one at a time, in the order
//! they arrived, so their acks keep that order.

use tokio::sync::mpsc;

use crate::state::AppState;
use crate::ws::protocol::{ServerFrame, UserRef, encode};
use crate::ws::send;

use super::{Outbound, Outbox, SendRequest};

/// Runs the connection's sends one at a time, in the order they arrived.
pub(super) async fn send_worker(
    state: AppState,
    user: UserRef,
    mut requests: mpsc::Receiver<Box<SendRequest>>,
    out: Outbox,
) {
    while let Some(request) = requests.recv().await {
        let SendRequest {
            room,
            client_msg_id,
            action,
        } = *request;
        // boxed: the send path's state is only held while a send runs, not by every idle worker
        let frame = match Box::pin(send::send_message(
            &state,
            &user,
            room,
            &client_msg_id,
            action,
        ))
        .await
        {
            Ok(accepted) => encode(&ServerFrame::Ack {
                room: accepted.room,
                client_msg_id: &client_msg_id,
                id: accepted.id,
                seq: accepted.seq,
                epoch: accepted.epoch,
            }),
            Err(refused) => encode(&ServerFrame::Error {
                code: refused.code,
                message: refused.message,
                room: Some(room),
                client_msg_id: Some(&client_msg_id),
                retry_after_ms: refused.retry_after_ms,
            }),
        };
        if out.send(Outbound::Text(frame)).await.is_err() {
            return;
        }
    }
}
