//! A practitioner's profile as clients send it (`ProfileInput`), and the parsed value that
//! the rest of the service holds (`ProfileData`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{DisplayName, FieldParser};
use crate::vocabulary::{self as vocab, check_code};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LocationInput {
    #[schema(minimum = -90.0, maximum = 90.0, example = -32.2569)]
    pub latitude: f64,
    #[schema(minimum = -180.0, maximum = 180.0, example = 148.6011)]
    pub longitude: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Seeking {
    /// Wants to meet peers.
    pub peers: bool,
    /// Wants a mentor.
    pub mentor: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MentoringInput {
    pub offering: bool,
    /// How many mentees at once.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 20)]
    pub capacity: i64,
    /// Hidden from mentor suggestions, the directory and rounds until this day (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = date_schema)]
    pub paused_until: Option<String>,
}

/// YYYY-MM-DD or null, with the calendar's own rules (leap years included) in the pattern, since
/// JSON Schema treats `format` as a hint only.
pub fn date_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(
            r"^(?:\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))|(?:\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$",
        ))
        .build()
}

/// JSON Schema counts 55.0 as the integer 55; so does this.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = value.as_i64() {
        return Ok(n);
    }
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {value}"
        ))),
    }
}

fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}

/// A calendar date written exactly as YYYY-MM-DD.
fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == raw)
        .ok_or_else(|| "must be a date written as YYYY-MM-DD".to_owned())
}

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

/// Text with something besides spaces and no control characters.
pub const VISIBLE_TEXT: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// A display name: 1 to 80 visible characters (see [`DisplayName`]).
pub fn display_name_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("The name other practitioners see."))
        .min_length(Some(1))
        .max_length(Some(DisplayName::MAX_CHARS))
        .pattern(Some(VISIBLE_TEXT))
        .examples(["Sam Rivera"])
        .build()
}

/// Up to 20 tags of 1 to 40 visible characters.
pub fn interests_schema() -> utoipa::openapi::Array {
    interests_array().build()
}

/// The same, or null (which clears them in a merge patch).
pub fn nullable_interests_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    interests_array()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .build()
}

fn interests_array() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(40))
                .pattern(Some(VISIBLE_TEXT)),
        )
        .max_items(Some(20))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coordinates {
    latitude: f64,
    longitude: f64,
}

impl Coordinates {
    pub fn parse(input: LocationInput) -> Result<Self, String> {
        let LocationInput {
            latitude,
            longitude,
        } = input;
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err("latitude must be between -90 and 90".into());
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err("longitude must be between -180 and 180".into());
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    pub fn latitude(self) -> f64 {
        self.latitude
    }

    pub fn longitude(self) -> f64 {
        self.longitude
    }
}

/// A profile that has passed every rule of ProfileInput.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileData {
    pub display_name: DisplayName,
    pub profession: String,
    pub populations: Vec<String>,
    pub settings: Vec<String>,
    pub location: Coordinates,
    pub years_experience: i32,
    pub languages: Vec<String>,
    pub interests: Vec<String>,
    pub bio: Option<String>,
    pub timezone: String,
    pub meets_virtual: bool,
    pub meets_in_person: bool,
    pub max_travel_km: Option<i32>,
    pub works_alone: bool,
    pub seeking: Seeking,
    pub mentoring_offering: bool,
    pub mentoring_capacity: i32,
    pub mentoring_paused_until: Option<NaiveDate>,
}

fn int_in(value: i64, min: i64, max: i64) -> Result<i32, String> {
    if (min..=max).contains(&value) {
        i32::try_from(value).map_err(|e| e.to_string())
    } else {
        Err(format!("must be between {min} and {max}"))
    }
}

/// A list of codes from one controlled list: `min..=max` entries, no duplicates.
fn code_list(
    codes: &[String],
    allowed: &[&str],
    min: usize,
    max: usize,
) -> Result<Vec<String>, String> {
    if codes.len() < min || codes.len() > max {
        return Err(format!("must have {min} to {max} entries"));
    }
    let mut seen = Vec::with_capacity(codes.len());
    for code in codes {
        let code = check_code(code, allowed)?;
        if seen.contains(&code) {
            return Err(format!("`{code}` is listed twice"));
        }
        seen.push(code);
    }
    Ok(seen)
}

/// Trimmed, 1 to 40 characters each, at most 20, duplicates (ignoring case) dropped.
fn interest_tags(tags: &[String]) -> Result<Vec<String>, String> {
    if tags.len() > 20 {
        return Err("must have at most 20 entries".into());
    }
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 40 {
            return Err("each interest must be 1 to 40 characters".into());
        }
        if tag.chars().any(char::is_control) {
            return Err("interests must not contain control characters".into());
        }
        if !kept.iter().any(|k| k.to_lowercase() == tag.to_lowercase()) {
            kept.push(tag.to_owned());
        }
    }
    Ok(kept)
}

fn bio(bio: Option<String>) -> Result<Option<String>, String> {
    match bio {
        Some(bio) if bio.chars().count() > 1000 => Err("must be at most 1000 characters".into()),
        Some(bio) if bio.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl crate::extract::ParseBody for ProfileInput {
    type Parsed = ProfileData;

    fn parse(self, fields: &mut FieldParser) -> Option<ProfileData> {
        let display_name = fields.field("display_name", DisplayName::parse(&self.display_name));
        let profession = fields.field(
            "profession",
            check_code(&self.profession, &vocab::profession_codes()),
        );
        let populations = fields.field(
            "populations",
            code_list(&self.populations, &vocab::population_codes(), 1, 10),
        );
        let settings = fields.field(
            "settings",
            code_list(&self.settings, &vocab::setting_codes(), 1, 10),
        );
        let location = fields.field("location", Coordinates::parse(self.location));
        let years = fields.field("years_experience", int_in(self.years_experience, 0, 60));
        let languages = fields.field(
            "languages",
            code_list(&self.languages, &vocab::language_codes(), 1, 10),
        );
        let interests = fields.field("interests", interest_tags(&self.interests));
        let bio = fields.field("bio", bio(self.bio));
        let timezone = fields.field(
            "timezone",
            check_code(&self.timezone, &vocab::timezone_names()),
        );
        let modes = fields.field(
            "meeting_modes",
            code_list(&self.meeting_modes, &vocab::meeting_mode_codes(), 1, 2),
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
            meets_virtual: modes.iter().any(|m| m == "virtual"),
            meets_in_person: modes.iter().any(|m| m == "in_person"),
            max_travel_km: max_travel?,
            works_alone: self.works_alone,
            seeking: self.seeking,
            mentoring_offering: self.mentoring.offering,
            mentoring_capacity: capacity?,
            mentoring_paused_until: paused_until?,
        })
    }
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(
                    target.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{error::ApiError, extract::parse_value};

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
