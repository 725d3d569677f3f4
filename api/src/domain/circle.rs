//! A circle (a small community of practice): its states, how people join it, its members'
//! roles, and the kinds of discussion post. The rules that need storage live in
//! `service::circles`; what can be decided from these values alone is decided here.

use sea_orm::{entity::prelude::StringLen, DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An enum stored as its snake_case name, shown with the same name on the wire.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize, ToSchema,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* #[sea_orm(string_value = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }
    };
}

text_enum!(
    /// forming → active → closed. A circle is active once it has its minimum of members.
    CircleState {
        Forming = "forming",
        Active = "active",
        Closed = "closed",
    }
);

text_enum!(
    /// How a request to join is answered: at once while a seat is free (`open`), or by a
    /// facilitator, or by any member when there is none (`approval`).
    Admission {
        Open = "open",
        Approval = "approval",
    }
);

text_enum!(
    MemberRole {
        Member = "member",
        /// Runs the circle: accepts joins, pins and hides posts, removes members, closes it.
        Facilitator = "facilitator",
    }
);

text_enum!(
    MemberStatus {
        /// Asked to join; waits for an answer.
        Pending = "pending",
        Active = "active",
    }
);

text_enum!(
    PostKind {
        Discussion = "discussion",
        /// A case study with guiding questions; members answer in replies.
        Case = "case",
        Reply = "reply",
    }
);

/// Sizes a circle may be created with.
pub const CAP_RANGE: std::ops::RangeInclusive<i32> = 4..=8;
/// Members a circle needs to become active.
pub const MIN_ACTIVE: u64 = 4;
/// Circles one practitioner may belong to (or have asked to join) at once.
pub const CIRCLES_PER_PERSON: u64 = 3;

impl CircleState {
    /// Whether members may still talk, meet, share and join.
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }

    /// The state after a membership change leaves `active_members` in the circle.
    pub fn after_membership(self, active_members: u64) -> Self {
        match self {
            Self::Forming if active_members >= MIN_ACTIVE => Self::Active,
            other => other,
        }
    }
}

/// Someone's place in a circle, as far as the rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Outsider,
    Pending,
    Member,
    Facilitator,
    /// A programme administrator who is not a member.
    Admin,
}

impl Standing {
    pub fn is_member(self) -> bool {
        matches!(self, Self::Member | Self::Facilitator)
    }

    /// Reads the circle's content.
    pub fn sees_content(self) -> bool {
        self.is_member()
    }

    /// Pins and hides posts, removes members, closes the circle.
    pub fn moderates(self) -> bool {
        matches!(self, Self::Facilitator | Self::Admin)
    }

    /// Answers a request to join: a facilitator, or any member of a circle without one.
    pub fn admits(self, has_facilitator: bool) -> bool {
        match self {
            Self::Facilitator => true,
            Self::Member => !has_facilitator,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forming_circle_becomes_active_at_its_minimum_and_never_goes_back() {
        assert_eq!(
            CircleState::Forming.after_membership(3),
            CircleState::Forming
        );
        assert_eq!(
            CircleState::Forming.after_membership(4),
            CircleState::Active
        );
        assert_eq!(CircleState::Active.after_membership(2), CircleState::Active);
        assert_eq!(CircleState::Closed.after_membership(6), CircleState::Closed);
    }

    #[test]
    fn who_answers_a_join() {
        for (standing, with_facilitator, without) in [
            (Standing::Facilitator, true, true),
            (Standing::Member, false, true),
            (Standing::Pending, false, false),
            (Standing::Outsider, false, false),
            (Standing::Admin, false, false),
        ] {
            assert_eq!(standing.admits(true), with_facilitator, "{standing:?}");
            assert_eq!(standing.admits(false), without, "{standing:?}");
        }
    }

    #[test]
    fn only_members_read_and_only_facilitators_and_admins_moderate() {
        assert!(Standing::Member.sees_content() && !Standing::Member.moderates());
        assert!(Standing::Facilitator.sees_content() && Standing::Facilitator.moderates());
        assert!(!Standing::Admin.sees_content() && Standing::Admin.moderates());
        assert!(!Standing::Pending.sees_content() && !Standing::Outsider.sees_content());
    }
}
