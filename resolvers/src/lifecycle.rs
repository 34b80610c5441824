//! The referral's closed loop, as the contract draws it:
//!
//! ```text
//! REQUESTED → RECEIVED, ACCEPTED, REJECTED (recipient) | CANCELLED (sender)
//! RECEIVED  → ACCEPTED, REJECTED (recipient)           | CANCELLED (sender)
//! ACCEPTED  → IN_PROGRESS (recipient)                  | CANCELLED (sender)
//! IN_PROGRESS → COMPLETED (recipient)
//! REJECTED, COMPLETED, CANCELLED are final.
//! ```
//!
//! REJECTED and COMPLETED need a note (and REJECTED a reason): the feedback that closes the loop
//! for the sender.

use entities::ReferralStatus::{self, *};

/// Which end of a referral makes a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Sender,
    Recipient,
}

/// The side that may move a referral from `from` to `to`; `None` when the move is not in the
/// state machine at all.
pub fn side_for(from: ReferralStatus, to: ReferralStatus) -> Option<Side> {
    match (from, to) {
        (Requested, Received | Accepted | Rejected) => Some(Side::Recipient),
        (Received, Accepted | Rejected) => Some(Side::Recipient),
        (Accepted, InProgress) | (InProgress, Completed) => Some(Side::Recipient),
        (Requested | Received | Accepted, Cancelled) => Some(Side::Sender),
        _ => None,
    }
}

/// Whether a change to `to` must carry a note.
pub fn needs_note(to: ReferralStatus) -> bool {
    matches!(to, Rejected | Completed)
}

/// Whether a change to `to` must carry a rejection reason.
pub fn needs_reason(to: ReferralStatus) -> bool {
    to == Rejected
}
