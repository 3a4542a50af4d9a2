//! One client's view of one room: the `seq` order it was shown, checked frame
//! by frame (gap-free, in order, one epoch at a time; a `resync` starts a
//! resume that must continue where the view stopped).

use uuid::Uuid;

/// A message as a client saw it live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub room: Uuid,
    pub epoch: i64,
    pub seq: i64,
    pub id: Uuid,
}

/// The state of one room's feed on one client.
#[derive(Debug, Default)]
pub struct RoomView {
    /// The epoch the view's seqs belong to (`None` before the first `subscribed`).
    pub epoch: Option<i64>,
    /// The last `seq` shown (`None` before the first `subscribed`).
    pub last_seq: Option<i64>,
    /// The epoch and head of the latest `subscribed`.
    server_epoch: Option<i64>,
    server_head: Option<i64>,
    /// A `resync` came: nothing more may arrive until the next `subscribe`.
    resyncing: bool,
}

impl RoomView {
    /// `subscribed {epoch, head_seq}`: a fresh view starts at `head_seq`.
    pub fn subscribed(&mut self, epoch: i64, head_seq: i64) {
        self.server_epoch = Some(epoch);
        self.server_head = Some(head_seq);
        self.resyncing = false;
        if self.epoch.is_none() {
            self.epoch = Some(epoch);
        }
        if self.last_seq.is_none() {
            self.last_seq = Some(head_seq);
        }
    }

    /// A `message` frame; `Err` says what it broke. The message counts as
    /// shown either way (the view continues from it).
    pub fn message(&mut self, epoch: i64, seq: i64) -> Result<(), String> {
        let mut problem = None;
        if self.resyncing {
            problem = Some(format!(
                "seq {seq} (epoch {epoch}) arrived after a resync, before the next subscribe"
            ));
        }
        if let Some(view_epoch) = self.epoch
            && view_epoch != epoch
        {
            problem.get_or_insert(format!(
                "seq {seq} has epoch {epoch}, the view is in epoch {view_epoch} and got no `resync epoch`"
            ));
        }
        match self.last_seq {
            Some(last) if seq == last + 1 => {}
            Some(last) if seq <= last => {
                problem.get_or_insert(format!("seq {seq} after {last}: out of order or twice"));
            }
            Some(last) => {
                problem.get_or_insert(format!(
                    "seq {seq} after {last}: {} missing",
                    seq - last - 1
                ));
            }
            None => {
                problem.get_or_insert(format!("seq {seq} before any `subscribed`"));
            }
        }
        self.epoch = Some(epoch);
        self.last_seq = Some(seq);
        problem.map_or(Ok(()), Err)
    }

    /// A `resync`: the view stops. With `epoch` the client reloads the room,
    /// as the protocol asks: when the last `subscribed` announced another
    /// epoch, the view starts again at that epoch's head (what history holds
    /// up to it); otherwise it resubscribes with its old epoch, and the
    /// answer announces the new one.
    pub fn resync(&mut self, reason: &str) {
        self.resyncing = true;
        if reason == "epoch" && self.server_epoch != self.epoch {
            self.epoch = self.server_epoch.or(self.epoch);
            self.last_seq = self.server_head.or(self.last_seq);
        }
    }

    /// The resume point for the next `subscribe`: (last_seq, epoch).
    pub fn resume_point(&self) -> Option<(i64, i64)> {
        Some((self.last_seq?, self.epoch?))
    }
}

#[cfg(test)]
mod tests {
    use super::RoomView;

    #[test]
    fn consecutive_seqs_are_accepted() {
        let mut view = RoomView::default();
        view.subscribed(7, 3);
        assert_eq!(view.message(7, 4), Ok(()));
        assert_eq!(view.message(7, 5), Ok(()));
        assert_eq!(view.resume_point(), Some((5, 7)));
    }

    #[test]
    fn a_gap_a_repeat_and_a_silent_epoch_change_are_reported() {
        let mut view = RoomView::default();
        view.subscribed(7, 0);
        assert!(view.message(7, 2).is_err());
        assert!(view.message(7, 2).is_err());
        assert!(view.message(8, 3).is_err());
    }

    #[test]
    fn a_resync_epoch_moves_the_view_to_the_new_epoch() {
        let mut view = RoomView::default();
        view.subscribed(7, 0);
        assert_eq!(view.message(7, 1), Ok(()));
        // the room was repaired: its new epoch's head is 1
        view.subscribed(9, 1);
        view.resync("epoch");
        assert_eq!(
            view.resume_point(),
            Some((1, 9)),
            "reloaded at the new head"
        );
        view.subscribed(9, 1);
        assert_eq!(view.message(9, 2), Ok(()));
        assert_eq!(view.resume_point(), Some((2, 9)));
        view.resync("gap");
        assert!(
            view.message(9, 3).is_err(),
            "nothing between a resync and the next subscribe"
        );
    }
}
