//! What keeps a connection going: the check-in's one question and the agreement's terms.

use sea_orm::{entity::prelude::StringLen, DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Stored as its code.
/// "How is it going?"
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum CheckInAnswer {
    #[sea_orm(string_value = "going_well")]
    GoingWell,
    #[sea_orm(string_value = "not_met_yet")]
    NotMetYet,
    /// Ends the connection kindly and offers the next-best suggestions at once.
    #[sea_orm(string_value = "not_a_good_fit")]
    NotAGoodFit,
}

impl CheckInAnswer {
    pub const ALL: [Self; 3] = [Self::GoingWell, Self::NotMetYet, Self::NotAGoodFit];

    pub fn code(self) -> &'static str {
        match self {
            Self::GoingWell => "going_well",
            Self::NotMetYet => "not_met_yet",
            Self::NotAGoodFit => "not_a_good_fit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::GoingWell => "Going well",
            Self::NotMetYet => "We haven't met yet",
            Self::NotAGoodFit => "Not a good fit",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Where an agreement stands, as stored.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// Waiting for the side that did not propose it.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    #[sea_orm(string_value = "accepted")]
    Accepted,
}

/// Where a meeting of a connection stands: proposed with one or more times, scheduled at
/// the one the other side picked, or cancelled.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    #[sea_orm(string_value = "proposed")]
    Proposed,
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// One of the two said afterwards that it did not take place.
    #[sea_orm(string_value = "missed")]
    Missed,
}

/// How the two meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingMode {
    Video,
    Phone,
    InPerson,
    Mixed,
}

impl MeetingMode {
    pub fn code(self) -> &'static str {
        match self {
            Self::Video => "video",
            Self::Phone => "phone",
            Self::InPerson => "in_person",
            Self::Mixed => "mixed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Video, Self::Phone, Self::InPerson, Self::Mixed]
            .into_iter()
            .find(|m| m.code() == code)
    }
}
