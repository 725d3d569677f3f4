//! A practitioner's profile once parsed (`ProfileData`), the value types requests and
//! responses share, and the rules each field is parsed by.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    codes::{Language, Population, Profession, Setting, Timezone},
    DisplayName,
};

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

pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}

/// A calendar date written exactly as YYYY-MM-DD.
pub fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == raw)
        .ok_or_else(|| "must be a date written as YYYY-MM-DD".to_owned())
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
    pub profession: Profession,
    pub populations: Vec<Population>,
    pub settings: Vec<Setting>,
    pub location: Coordinates,
    pub years_experience: i32,
    pub languages: Vec<Language>,
    pub interests: Vec<String>,
    pub bio: Option<String>,
    pub timezone: Timezone,
    pub meets_virtual: bool,
    pub meets_in_person: bool,
    pub max_travel_km: Option<i32>,
    pub works_alone: bool,
    pub seeking: Seeking,
    pub mentoring_offering: bool,
    pub mentoring_capacity: i32,
    pub mentoring_paused_until: Option<NaiveDate>,
}

pub fn int_in(value: i64, min: i64, max: i64) -> Result<i32, String> {
    if (min..=max).contains(&value) {
        i32::try_from(value).map_err(|e| e.to_string())
    } else {
        Err(format!("must be between {min} and {max}"))
    }
}

/// A list of codes from one controlled list: `min..=max` entries, no duplicates.
pub fn code_list<T: PartialEq + AsRef<str>>(
    codes: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
    min: usize,
    max: usize,
) -> Result<Vec<T>, String> {
    if codes.len() < min || codes.len() > max {
        return Err(format!("must have {min} to {max} entries"));
    }
    let mut seen = Vec::with_capacity(codes.len());
    for raw in codes {
        let code = parse(raw)?;
        if seen.contains(&code) {
            return Err(format!("`{}` is listed twice", code.as_ref()));
        }
        seen.push(code);
    }
    Ok(seen)
}

/// Trimmed, 1 to 40 characters each, at most 20, duplicates (ignoring case) dropped.
pub fn interest_tags(tags: &[String]) -> Result<Vec<String>, String> {
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

pub fn bio(bio: Option<String>) -> Result<Option<String>, String> {
    match bio {
        Some(bio) if bio.chars().count() > 1000 => Err("must be at most 1000 characters".into()),
        Some(bio) if bio.trim().is_empty() => Ok(None),
        other => Ok(other),
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
