//! The rules every meeting's fields keep, for circles and connections alike.

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;

/// A title of 1 to 140 characters, trimmed.
pub fn title(raw: &str) -> Result<String, ApiError> {
    let title = raw.trim().to_owned();
    if (1..=140).contains(&title.chars().count()) {
        Ok(title)
    } else {
        Err(ApiError::field("title", "must be 1 to 140 characters"))
    }
}

/// From a quarter of an hour to four hours.
pub fn minutes(minutes: i32) -> Result<i32, ApiError> {
    if (15..=240).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(ApiError::field(
            "duration_minutes",
            "must be from 15 to 240",
        ))
    }
}

/// Where, or the video link: up to 300 characters; empty is none.
pub fn location(raw: &str) -> Result<Option<String>, ApiError> {
    let location = raw.trim().to_owned();
    if location.chars().count() > 300 {
        return Err(ApiError::field(
            "location",
            "must be at most 300 characters",
        ));
    }
    Ok((!location.is_empty()).then_some(location))
}

/// A start within the coming year, named `field` when it is not.
pub fn in_the_coming_year(at: DateTime<Utc>, field: &str) -> Result<DateTime<Utc>, ApiError> {
    let now = Utc::now();
    if at <= now || at > now + Duration::days(366) {
        return Err(ApiError::field(field, "must be in the coming year"));
    }
    Ok(at)
}
