//! Codes from the controlled lists, each parsed once at the edge: a value of one of these
//! types is known to be on its list.

use crate::vocabulary::{self as vocab, check_code};

macro_rules! listed_code {
    ($(#[$doc:meta])* $name:ident from $list:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The code, trimmed and lower-cased where its list is, or why it is not one.
            pub fn parse(raw: &str) -> Result<Self, String> {
                check_code(raw, &$list()).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

listed_code!(
    /// A profession, e.g. `occupational_therapy`.
    Profession from vocab::profession_codes
);
listed_code!(
    /// A population served, e.g. `older_adults`.
    Population from vocab::population_codes
);
listed_code!(
    /// A work setting, e.g. `home_visits`.
    Setting from vocab::setting_codes
);
listed_code!(
    /// An ISO 639-1 language code.
    Language from vocab::language_codes
);
listed_code!(
    /// An IANA time zone name, e.g. `Australia/Sydney`.
    Timezone from vocab::timezone_names
);
listed_code!(
    /// A way of meeting: `virtual` or `in_person`.
    MeetingMode from vocab::meeting_mode_codes
);

/// The offset from UTC, in minutes, of the IANA time zone `name` at `at` (0 for a name
/// that is not one).
pub fn utc_offset_minutes(name: &str, at: chrono::DateTime<chrono::Utc>) -> i32 {
    use chrono::{Offset, TimeZone};
    name.parse::<chrono_tz::Tz>()
        .map(|tz| {
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
                / 60
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_codes_parse() {
        assert_eq!(
            Profession::parse("occupational_therapy").unwrap().as_str(),
            "occupational_therapy"
        );
        assert!(Profession::parse("astrology").is_err());
        assert!(Timezone::parse("Australia/Sydney").is_ok());
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert!(Language::parse("en").is_ok());
    }
}
