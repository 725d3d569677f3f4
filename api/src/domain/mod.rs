//! Newtypes that parse request input once; handlers hold only valid values.

pub mod address;
pub mod circle;
pub mod codes;
pub mod connection;
pub mod follow_through;
pub mod log;
pub mod profile;
pub mod role;

use validator::ValidateEmail;

use crate::error::{ApiError, FieldErrors};

/// An email address as the user typed it (trimmed), compared by its lower-case form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        if trimmed.chars().count() > Self::MAX_LEN || !trimmed.validate_email() {
            return Err("must be an email address".into());
        }
        Ok(Self {
            display: trimmed.to_owned(),
            normalized: trimmed.to_lowercase(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// A new password: 10 to 128 characters, anything else is the user's business.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, String> {
        let chars = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            Ok(Self(raw))
        } else {
            Err(format!(
                "must be {} to {} characters",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A name shown to other practitioners: trimmed, 1 to 80 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be blank".into());
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects the outcome of parsing several fields so that one response names every bad one.
#[derive(Default)]
pub struct FieldParser {
    errors: FieldErrors,
}

impl FieldParser {
    /// Keeps the value, or records the message; a field already reported (say, as missing)
    /// keeps its first message.
    pub fn field<T>(&mut self, name: &str, result: Result<T, String>) -> Option<T> {
        if self.errors.contains_key(name) {
            return None;
        }
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors
                    .entry(name.to_owned())
                    .or_default()
                    .push(message);
                None
            }
        }
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn from_errors(errors: FieldErrors) -> Self {
        Self { errors }
    }

    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.errors)
    }

    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_compared_in_lower_case() {
        let email = Email::parse("  Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@Example.ORG");
        assert_eq!(email.normalized(), "ada.lovelace@example.org");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in ["", "   ", "no-at-sign", "a@", "@b.org", "a b@c.org"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("ünïcödé-pw".into()).is_ok());
        assert!(Password::parse("x".repeat(128)).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Sam  ").unwrap().as_str(), "Sam");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse(&"é".repeat(80)).is_ok());
        assert!(DisplayName::parse("Sam\u{0}").is_err());
    }

    #[test]
    fn field_parser_names_every_bad_field() {
        let mut fields = FieldParser::default();
        let email = fields.field("email", Email::parse("nope"));
        let name = fields.field("display_name", DisplayName::parse(""));
        assert!(email.is_none() && name.is_none());
        match fields.into_error() {
            ApiError::Validation(errors) => {
                assert_eq!(errors.keys().collect::<Vec<_>>(), ["display_name", "email"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
