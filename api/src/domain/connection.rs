//! A connection between two practitioners: its kinds and states, who may do what, and the
//! one table of transitions every path goes through.

use sea_orm::{entity::prelude::StringLen, DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    #[default]
    #[sea_orm(string_value = "peer")]
    Peer,
    /// The caller is the mentee; the recipient must be offering with a free slot.
    #[sea_orm(string_value = "mentorship")]
    Mentorship,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Peer => "peer",
            Self::Mentorship => "mentorship",
        }
    }

    /// What the matcher looks for on the recipient's side.
    pub fn matcher_kind(self) -> matcher::Kind {
        match self {
            Self::Peer => matcher::Kind::Peer,
            Self::Mentorship => matcher::Kind::Mentor,
        }
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    #[sea_orm(string_value = "ended")]
    Ended,
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
            Self::Ended => "ended",
            Self::Expired => "expired",
        }
    }

    /// Pending and accepted connections hold the pair: no second one may open beside them.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Accepted)
    }
}

// Why a recipient declined; kept for them, never shown to the requester.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    #[sea_orm(string_value = "no_capacity")]
    NoCapacity,
    #[sea_orm(string_value = "not_a_good_fit")]
    NotAGoodFit,
    #[sea_orm(string_value = "outside_my_expertise")]
    OutsideMyExpertise,
    #[sea_orm(string_value = "other")]
    Other,
}

/// What someone (or the clock) does to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    Decline,
    Withdraw,
    End,
    /// Its time ran out unanswered.
    Expire,
    /// A block or a suspension closes a pending request.
    Close,
}

/// Who acts: one of the two parties, or the service itself (its clock, a block, a
/// suspension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Requester,
    Recipient,
    Service,
}

impl Actor {
    fn name(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Recipient => "recipient",
            Self::Service => "service",
        }
    }
}

/// An allowed move: from one status to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: ConnectionStatus,
    pub to: ConnectionStatus,
}

/// Why a move is not allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Only this side may do it.
    NotYourMove { only: &'static str },
    /// Not from the status the connection is in.
    WrongStatus(ConnectionStatus),
}

/// The whole state machine: what `action` by `actor` does to a connection in `status`.
pub fn apply(
    status: ConnectionStatus,
    action: Action,
    actor: Actor,
) -> Result<Transition, Refusal> {
    use ConnectionStatus::{Accepted, Declined, Ended, Expired, Pending, Withdrawn};
    let (only, from, to) = match action {
        Action::Accept => (Actor::Recipient, Pending, Accepted),
        Action::Decline => (Actor::Recipient, Pending, Declined),
        Action::Withdraw => (Actor::Requester, Pending, Withdrawn),
        Action::Expire => (Actor::Service, Pending, Expired),
        Action::Close => (Actor::Service, Pending, Withdrawn),
        Action::End => {
            if actor == Actor::Service {
                return Err(Refusal::NotYourMove { only: "parties" });
            }
            (actor, Accepted, Ended)
        }
    };
    if actor != only {
        return Err(Refusal::NotYourMove { only: only.name() });
    }
    if status != from {
        return Err(Refusal::WrongStatus(status));
    }
    Ok(Transition { from, to })
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    const ACTIONS: [Action; 6] = [
        Action::Accept,
        Action::Decline,
        Action::Withdraw,
        Action::End,
        Action::Expire,
        Action::Close,
    ];
    const ACTORS: [Actor; 3] = [Actor::Requester, Actor::Recipient, Actor::Service];

    /// The table as the product describes it: every allowed (status, action, actor) and
    /// where it leads. Everything not listed is refused.
    fn allowed(status: ConnectionStatus, action: Action, actor: Actor) -> Option<ConnectionStatus> {
        use ConnectionStatus::*;
        match (status, action, actor) {
            (Pending, Action::Accept, Actor::Recipient) => Some(Accepted),
            (Pending, Action::Decline, Actor::Recipient) => Some(Declined),
            (Pending, Action::Withdraw, Actor::Requester) => Some(Withdrawn),
            (Pending, Action::Expire, Actor::Service) => Some(Expired),
            (Pending, Action::Close, Actor::Service) => Some(Withdrawn),
            (Accepted, Action::End, Actor::Requester | Actor::Recipient) => Some(Ended),
            _ => None,
        }
    }

    #[test]
    fn every_status_action_and_actor_follows_the_table() {
        let mut checked = 0;
        for status in ConnectionStatus::iter() {
            for action in ACTIONS {
                for actor in ACTORS {
                    let got = apply(status, action, actor);
                    match allowed(status, action, actor) {
                        Some(to) => assert_eq!(
                            got,
                            Ok(Transition { from: status, to }),
                            "{status:?} {action:?} by {actor:?}"
                        ),
                        None => assert!(got.is_err(), "{status:?} {action:?} by {actor:?}"),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 6 * 3);
    }

    #[test]
    fn the_wrong_side_is_told_whose_move_it_is_before_the_status() {
        assert_eq!(
            apply(ConnectionStatus::Accepted, Action::Accept, Actor::Requester),
            Err(Refusal::NotYourMove { only: "recipient" })
        );
        assert_eq!(
            apply(
                ConnectionStatus::Declined,
                Action::Withdraw,
                Actor::Requester
            ),
            Err(Refusal::WrongStatus(ConnectionStatus::Declined))
        );
    }

    #[test]
    fn only_terminal_statuses_free_the_pair() {
        let live: Vec<_> = ConnectionStatus::iter().filter(|s| s.is_live()).collect();
        assert_eq!(
            live,
            [ConnectionStatus::Pending, ConnectionStatus::Accepted]
        );
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        use sea_orm::ActiveEnum;
        for status in ConnectionStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        for kind in ConnectionKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
        }
    }
}
