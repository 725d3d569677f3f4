//! The controlled lists (professions, client populations, settings, languages, meeting
//! modes, time zones) and their OpenAPI schemas. The lists themselves live in the matcher's
//! vocabulary, which gives each code the id the matcher works with.

use std::sync::LazyLock;

use matcher::Vocabulary;
use utoipa::openapi::{
    schema::{ArrayBuilder, ObjectBuilder, Type},
    Array, Object,
};

pub static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(Vocabulary::standard);

pub const MEETING_MODES: &[(&str, &str)] = &[("virtual", "Virtual"), ("in_person", "In person")];

pub fn profession_codes() -> Vec<&'static str> {
    VOCABULARY
        .professions
        .iter()
        .map(|t| t.code.as_str())
        .collect()
}

pub fn population_codes() -> Vec<&'static str> {
    VOCABULARY
        .populations
        .iter()
        .map(|t| t.code.as_str())
        .collect()
}

pub fn setting_codes() -> Vec<&'static str> {
    VOCABULARY
        .settings
        .iter()
        .map(|t| t.code.as_str())
        .collect()
}

pub fn language_codes() -> Vec<&'static str> {
    VOCABULARY.languages.iter().map(String::as_str).collect()
}

pub fn meeting_mode_codes() -> Vec<&'static str> {
    MEETING_MODES.iter().map(|(code, _)| *code).collect()
}

pub fn timezone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// Checks a code against its list; the message lists every allowed code.
pub fn check_code(code: &str, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&code) {
        Ok(code.to_owned())
    } else {
        Err(format!(
            "unknown code `{code}`; allowed codes: {}",
            allowed.join(", ")
        ))
    }
}

fn string_enum(values: Vec<&'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

fn enum_array(values: Vec<&'static str>, min: usize, max: usize) -> Array {
    ArrayBuilder::new()
        .items(string_enum(values))
        .min_items(Some(min))
        .max_items(Some(max))
        .unique_items(true)
        .build()
}

pub fn profession_schema() -> Object {
    string_enum(profession_codes())
}

pub fn population_schema() -> Object {
    string_enum(population_codes())
}

pub fn setting_schema() -> Object {
    string_enum(setting_codes())
}

pub fn language_schema() -> Object {
    string_enum(language_codes())
}

pub fn timezone_schema() -> Object {
    string_enum(timezone_names())
}

pub fn populations_schema() -> Array {
    enum_array(population_codes(), 1, 10)
}

pub fn settings_schema() -> Array {
    enum_array(setting_codes(), 1, 10)
}

pub fn languages_schema() -> Array {
    enum_array(language_codes(), 1, 10)
}

pub fn meeting_modes_schema() -> Array {
    enum_array(meeting_mode_codes(), 1, 2)
}

/// A code from one controlled list, as a query parameter. Checked where it is used so that
/// an unknown code gets a 422 listing the allowed ones; the schema lists them too.
macro_rules! code_param {
    ($name:ident, $schema:path) => {
        #[derive(Clone, Debug, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema().into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

code_param!(ProfessionCode, profession_schema);
code_param!(PopulationCode, population_schema);
code_param!(SettingCode, setting_schema);
code_param!(LanguageCode, language_schema);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_list_the_allowed_ones() {
        let error = check_code("astrology", &profession_codes()).unwrap_err();
        assert!(error.contains("occupational_therapy"));
        assert!(error.contains("`astrology`"));
        assert!(check_code("physiotherapy", &profession_codes()).is_ok());
    }

    #[test]
    fn time_zones_are_iana_names() {
        let names = timezone_names();
        assert!(names.contains(&"Australia/Sydney"));
        assert!(!names.contains(&"Mars/Olympus_Mons"));
    }
}
