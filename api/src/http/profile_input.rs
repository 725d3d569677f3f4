//! The profile as a client sends it (PUT, and PATCH once merged), parsed into the
//! domain's [`ProfileData`] by the rules of each field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{
        codes::{Language, MeetingMode, Population, Profession, Setting, Timezone},
        profile::{
            bio, code_list, date, display_name_schema, int_in, interest_tags, interests_schema,
            optional_whole_number, whole_number, Coordinates, LocationInput, MentoringInput,
            ProfileData, Seeking,
        },
        DisplayName, FieldParser,
    },
    http::extract::ParseBody,
    vocabulary as vocab,
};

/// What a practitioner says about their practice. All fields are required on PUT except
/// `interests`, `bio` and `max_travel_km`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ProfileInput {
    #[schema(required = true, schema_with = display_name_schema)]
    pub display_name: String,
    #[schema(required = true, schema_with = vocab::profession_schema)]
    pub profession: String,
    #[schema(required = true, schema_with = vocab::populations_schema)]
    pub populations: Vec<String>,
    #[schema(required = true, schema_with = vocab::settings_schema)]
    pub settings: Vec<String>,
    #[schema(required = true)]
    pub location: LocationInput,
    #[serde(deserialize_with = "whole_number")]
    #[schema(required = true, minimum = 0, maximum = 60)]
    pub years_experience: i64,
    /// ISO 639-1 codes.
    #[schema(required = true, schema_with = vocab::languages_schema)]
    pub languages: Vec<String>,
    /// Free tags, compared without regard to case.
    #[schema(schema_with = interests_schema)]
    pub interests: Vec<String>,
    #[schema(max_length = 1000)]
    pub bio: Option<String>,
    #[schema(required = true, schema_with = vocab::timezone_schema)]
    pub timezone: String,
    #[schema(required = true, schema_with = vocab::meeting_modes_schema)]
    pub meeting_modes: Vec<String>,
    /// How far the practitioner will travel to meet in person.
    #[serde(deserialize_with = "optional_whole_number")]
    #[schema(minimum = 0, maximum = 1000)]
    pub max_travel_km: Option<i64>,
    /// The only one of their profession at work.
    #[schema(required = true)]
    pub works_alone: bool,
    #[schema(required = true)]
    pub seeking: Seeking,
    #[schema(required = true)]
    pub mentoring: MentoringInput,
}

impl ParseBody for ProfileInput {
    type Parsed = ProfileData;

    fn parse(self, fields: &mut FieldParser) -> Option<ProfileData> {
        let display_name = fields.field("display_name", DisplayName::parse(&self.display_name));
        let profession = fields.field("profession", Profession::parse(&self.profession));
        let populations = fields.field(
            "populations",
            code_list(&self.populations, Population::parse, 1, 10),
        );
        let settings = fields.field("settings", code_list(&self.settings, Setting::parse, 1, 10));
        let location = fields.field("location", Coordinates::parse(self.location));
        let years = fields.field("years_experience", int_in(self.years_experience, 0, 60));
        let languages = fields.field(
            "languages",
            code_list(&self.languages, Language::parse, 1, 10),
        );
        let interests = fields.field("interests", interest_tags(&self.interests));
        let bio = fields.field("bio", bio(self.bio));
        let timezone = fields.field("timezone", Timezone::parse(&self.timezone));
        let modes = fields.field(
            "meeting_modes",
            code_list(&self.meeting_modes, MeetingMode::parse, 1, 2),
        );
        let max_travel = match self.max_travel_km {
            Some(km) => fields.field("max_travel_km", int_in(km, 0, 1000).map(Some)),
            None => Some(None),
        };
        let capacity = fields.field("mentoring.capacity", int_in(self.mentoring.capacity, 0, 20));
        let paused_until = match &self.mentoring.paused_until {
            Some(raw) => fields.field("mentoring.paused_until", date(raw).map(Some)),
            None => Some(None),
        };
        let modes = modes?;
        Some(ProfileData {
            display_name: display_name?,
            profession: profession?,
            populations: populations?,
            settings: settings?,
            location: location?,
            years_experience: years?,
            languages: languages?,
            interests: interests?,
            bio: bio?,
            timezone: timezone?,
            meets_virtual: modes.iter().any(|m| m.as_str() == "virtual"),
            meets_in_person: modes.iter().any(|m| m.as_str() == "in_person"),
            max_travel_km: max_travel?,
            works_alone: self.works_alone,
            seeking: self.seeking,
            mentoring_offering: self.mentoring.offering,
            mentoring_capacity: capacity?,
            mentoring_paused_until: paused_until?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::profile::merge_patch;
    use crate::{error::ApiError, http::extract::parse_value};

    pub fn valid() -> serde_json::Value {
        json!({
            "display_name": "Sam Rivera",
            "profession": "occupational_therapy",
            "populations": ["older_adults", "neurology"],
            "settings": ["community", "home_visits"],
            "location": {"latitude": -32.2569, "longitude": 148.6011},
            "years_experience": 4,
            "languages": ["en"],
            "interests": ["Falls prevention", " falls PREVENTION ", "Driving"],
            "timezone": "Australia/Sydney",
            "meeting_modes": ["virtual", "in_person"],
            "max_travel_km": 100,
            "works_alone": true,
            "seeking": {"peers": true, "mentor": true},
            "mentoring": {"offering": false, "capacity": 0}
        })
    }

    fn errors_of(body: serde_json::Value) -> Vec<String> {
        match parse_value::<ProfileInput>(body) {
            Err(ApiError::Validation(errors)) => errors.into_keys().collect(),
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn a_full_profile_parses_and_tags_are_deduplicated() {
        let parsed = parse_value::<ProfileInput>(valid()).unwrap();
        assert_eq!(parsed.interests, ["Falls prevention", "Driving"]);
        assert!(parsed.meets_in_person && parsed.meets_virtual);
    }

    #[test]
    fn each_bound_names_its_field() {
        let cases = [
            ("display_name", json!("")),
            ("profession", json!("astrology")),
            ("populations", json!([])),
            ("populations", json!(["older_adults", "older_adults"])),
            ("settings", json!(["moon_base"])),
            ("years_experience", json!(61)),
            ("languages", json!(["xx"])),
            ("interests", json!(["x".repeat(41)])),
            ("bio", json!("x".repeat(1001))),
            ("timezone", json!("Mars/Base")),
            ("meeting_modes", json!(["carrier_pigeon"])),
            ("max_travel_km", json!(1001)),
        ];
        for (field, value) in cases {
            let mut body = valid();
            body[field] = value;
            assert_eq!(errors_of(body), [field], "{field}");
        }
        let mut body = valid();
        body["location"]["latitude"] = json!(91.0);
        assert_eq!(errors_of(body), ["location"]);
        let mut body = valid();
        body["mentoring"]["capacity"] = json!(21);
        assert_eq!(errors_of(body), ["mentoring.capacity"]);
    }

    #[test]
    fn missing_fields_are_all_named() {
        let errors = errors_of(json!({"display_name": "Sam"}));
        for field in [
            "profession",
            "populations",
            "location",
            "timezone",
            "seeking",
            "mentoring",
        ] {
            assert!(errors.contains(&field.to_owned()), "{field} in {errors:?}");
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(&mut doc, &json!({"a": null, "b": {"c": 5}, "e": [2, 3]}));
        assert_eq!(doc, json!({"b": {"c": 5, "d": 3}, "e": [2, 3]}));
    }
}
