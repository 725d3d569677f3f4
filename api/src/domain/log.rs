//! The professional development log's vocabulary: kinds of activity, the regulators'
//! requirements (data in `api/data/cpd-requirements.json`, each with its source), and the
//! period a requirement counts over.

use std::sync::OnceLock;

use chrono::{Datelike, Months, NaiveDate};
use sea_orm::{entity::prelude::StringLen, DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Stored as its code.
/// What kind of development an entry records.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    EnumIter,
    DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    #[sea_orm(string_value = "mentoring_received")]
    MentoringReceived,
    #[sea_orm(string_value = "mentoring_given")]
    MentoringGiven,
    #[sea_orm(string_value = "peer_supervision")]
    PeerSupervision,
    #[sea_orm(string_value = "community_of_practice")]
    CommunityOfPractice,
    #[sea_orm(string_value = "course")]
    Course,
    #[sea_orm(string_value = "reading")]
    Reading,
    #[sea_orm(string_value = "other")]
    Other,
}

impl ActivityKind {
    pub const ALL: [Self; 7] = [
        Self::MentoringReceived,
        Self::MentoringGiven,
        Self::PeerSupervision,
        Self::CommunityOfPractice,
        Self::Course,
        Self::Reading,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::MentoringReceived => "mentoring_received",
            Self::MentoringGiven => "mentoring_given",
            Self::PeerSupervision => "peer_supervision",
            Self::CommunityOfPractice => "community_of_practice",
            Self::Course => "course",
            Self::Reading => "reading",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::MentoringReceived => "Mentoring received",
            Self::MentoringGiven => "Mentoring given",
            Self::PeerSupervision => "Peer supervision",
            Self::CommunityOfPractice => "Community of practice",
            Self::Course => "Course",
            Self::Reading => "Reading",
            Self::Other => "Other",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|k| k.code()).collect();
                format!("must be one of {}", codes.join(", "))
            })
    }
}

/// A regulator's (or certifier's) requirement, as published at `source`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    #[schema(example = "otba")]
    pub code: String,
    #[schema(example = "Occupational Therapy Board of Australia")]
    pub name: String,
    /// What it asks for, in plain words.
    pub summary: String,
    /// The professions it is for (profession codes); empty for any.
    pub professions: Vec<String>,
    /// How long one period is.
    #[schema(example = 12)]
    pub period_months: u32,
    /// `MM-DD` when every practitioner's period starts on that day (a registration year);
    /// absent when the cycle is the practitioner's own (they give its start).
    #[schema(example = "12-01")]
    pub period_starts: Option<String>,
    /// Hours required in a period; absent when only a record is required.
    #[schema(example = 20)]
    pub hours: Option<u32>,
    /// Whether each activity is expected to say what was learned and how it is applied.
    pub reflection_expected: bool,
    /// Where the requirement is published.
    #[schema(example = "https://www.occupationaltherapyboard.gov.au/")]
    pub source: String,
}

/// Every requirement the service knows, from the file in the repository.
pub fn requirements() -> &'static [Requirement] {
    static ALL: OnceLock<Vec<Requirement>> = OnceLock::new();
    ALL.get_or_init(|| {
        // A unit test reads the file, so a bad edit fails the tests before it ships.
        serde_json::from_str(include_str!("../../data/cpd-requirements.json")).unwrap_or_else(
            |error| {
                tracing::error!(%error, "api/data/cpd-requirements.json does not parse");
                Vec::new()
            },
        )
    })
}

pub fn requirement(code: &str) -> Option<&'static Requirement> {
    requirements().iter().find(|r| r.code == code)
}

/// Days `from..=to` that one period covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn contains(self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

fn months_after(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months)).unwrap_or(day)
}

fn months_before(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(months)).unwrap_or(day)
}

/// The period of `requirement` that holds `today`: from the fixed start day when the
/// regulator has one, else from the practitioner's `cycle_start` (1 January of this year
/// when they gave none), one period after another.
pub fn current_period(
    requirement: &Requirement,
    cycle_start: Option<NaiveDate>,
    today: NaiveDate,
) -> Period {
    let months = requirement.period_months.max(1);
    let fixed = requirement.period_starts.as_deref().and_then(|mmdd| {
        let (m, d) = mmdd.split_once('-')?;
        NaiveDate::from_ymd_opt(today.year(), m.parse().ok()?, d.parse().ok()?)
    });
    let mut from = fixed
        .or(cycle_start)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    while from > today {
        from = months_before(from, months);
    }
    while months_after(from, months) <= today {
        from = months_after(from, months);
    }
    let to = months_after(from, months).pred_opt().unwrap_or(from);
    Period { from, to }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn every_requirement_names_its_source_and_a_real_period() {
        assert!(requirements().len() >= 4);
        for r in requirements() {
            assert!(r.source.starts_with("https://"), "{}", r.code);
            assert!(r.period_months >= 12, "{}", r.code);
            if let Some(mmdd) = &r.period_starts {
                let (m, d) = mmdd.split_once('-').unwrap();
                assert!(
                    NaiveDate::from_ymd_opt(2027, m.parse().unwrap(), d.parse().unwrap()).is_some()
                );
            }
        }
    }

    #[test]
    fn a_registration_year_runs_from_the_first_of_december() {
        let otba = requirement("otba").unwrap();
        assert_eq!(
            current_period(otba, None, day(2026, 12, 5)),
            Period {
                from: day(2026, 12, 1),
                to: day(2027, 11, 30)
            }
        );
        assert_eq!(
            current_period(otba, None, day(2027, 11, 30)),
            Period {
                from: day(2026, 12, 1),
                to: day(2027, 11, 30)
            }
        );
        assert_eq!(
            current_period(otba, Some(day(2020, 3, 3)), day(2026, 6, 1)),
            Period {
                from: day(2025, 12, 1),
                to: day(2026, 11, 30)
            }
        );
    }

    #[test]
    fn an_own_cycle_rolls_on_from_its_start() {
        let nbcot = requirement("nbcot").unwrap();
        assert_eq!(
            current_period(nbcot, Some(day(2021, 4, 1)), day(2026, 12, 5)),
            Period {
                from: day(2024, 4, 1),
                to: day(2027, 3, 31)
            }
        );
        assert_eq!(
            current_period(nbcot, Some(day(2027, 4, 1)), day(2026, 12, 5)),
            Period {
                from: day(2024, 4, 1),
                to: day(2027, 3, 31)
            }
        );
    }

    #[test]
    fn kinds_parse_from_their_codes_only() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.code()), Ok(kind));
            assert_eq!(
                sea_orm::ActiveEnum::to_value(&kind),
                kind.code(),
                "stored as its code"
            );
        }
        assert!(ActivityKind::parse("Course")
            .unwrap_err()
            .contains("peer_supervision"));
    }
}
