//! The send worker: runs a connection's sends one at a time, in the order
//! they arrived, so their acks keep that order.

use tokio::sync::mpsc;

use crate::state::AppState;
use crate::ws::protocol::{ServerFrame, UserRef, encode};
use crate::ws::send;

use super::{Outbound, SendRequest};

/// Runs the connection's sends one at a time, in the order they arrived.
pub(super) async fn send_worker(
    state: AppState,
    user: UserRef,
    mut requests: mpsc::Receiver<SendRequest>,
    out: mpsc::Sender<Outbound>,
) {
    while let Some(request) = requests.recv().await {
        let frame = match send::send_message(
            &state,
            &user,
            request.room,
            &request.client_msg_id,
            request.body,
        )
        .await
        {
            Ok(accepted) => encode(&ServerFrame::Ack {
                room: accepted.room,
                client_msg_id: &request.client_msg_id,
                id: accepted.id,
                seq: accepted.seq,
                epoch: accepted.epoch,
            }),
            Err(refused) => encode(&ServerFrame::Error {
                code: refused.code,
                message: refused.message,
                room: Some(request.room),
                client_msg_id: Some(&request.client_msg_id),
            }),
        };
        if out.send(Outbound::Text(frame)).await.is_err() {
            return;
        }
    }
}
