//! Profiles: writing one's own, reading others', the directory, and the vocabulary.

use actix_web::{web, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::profile::merge_patch,
    error::ApiError,
    http::problem::{failures, Fails},
    http::profile_input::ProfileInput,
    http::{
        extract::{parse_value, AuthUser, Caller, Valid},
        state::AppState,
    },
    index::DirectoryFilter,
    service::{
        matching::{self, PageEnd},
        profiles,
    },
    views::{Profile, PublicProfile},
    vocabulary::{
        self as vocab, check_code, LanguageCode, PopulationCode, ProfessionCode, SettingCode,
        MEETING_MODES, VOCABULARY,
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me/profile")
            .put(put_profile)
            .patch(patch_profile),
    )
    .service(web::resource("/profiles/{user_id}").get(get_profile))
    .service(web::resource("/directory").get(directory))
    .service(web::resource("/vocabulary").get(vocabulary));
}

failures!(PutProfileFailures {
    TooManyRequests: "The location was changed too often in the last hour",
});

/// Creates or replaces the caller's profile.
#[utoipa::path(
    put, path = "/api/v1/me/profile", tag = "profiles",
    security(("bearer" = [])),
    request_body = ProfileInput,
    responses(
        (status = 200, description = "The saved profile", body = Profile),
        PutProfileFailures,
    )
)]
pub async fn put_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(data): Valid<ProfileInput>,
) -> Result<HttpResponse, Fails<PutProfileFailures>> {
    let profile = profiles::save(&state, &user.0, data).await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Every field of ProfileInput, all optional: a JSON merge patch (RFC 7396). Nested objects
/// merge field by field; `null` clears an optional field.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProfilePatch {
    #[schema(schema_with = crate::domain::profile::display_name_schema)]
    display_name: Option<String>,
    #[schema(schema_with = vocab::profession_schema)]
    profession: Option<String>,
    #[schema(schema_with = vocab::populations_schema)]
    populations: Option<Vec<String>>,
    #[schema(schema_with = vocab::settings_schema)]
    settings: Option<Vec<String>>,
    #[schema(nullable = false)]
    location: Option<LocationPatch>,
    #[schema(nullable = false, minimum = 0, maximum = 60)]
    years_experience: Option<i64>,
    #[schema(schema_with = vocab::languages_schema)]
    languages: Option<Vec<String>>,
    #[schema(schema_with = crate::domain::profile::nullable_interests_schema)]
    interests: Option<Vec<String>>,
    #[schema(max_length = 1000)]
    bio: Option<String>,
    #[schema(schema_with = vocab::timezone_schema)]
    timezone: Option<String>,
    #[schema(schema_with = vocab::meeting_modes_schema)]
    meeting_modes: Option<Vec<String>>,
    #[schema(minimum = 0, maximum = 1000)]
    max_travel_km: Option<i64>,
    #[schema(nullable = false)]
    works_alone: Option<bool>,
    #[schema(nullable = false)]
    seeking: Option<SeekingPatch>,
    #[schema(nullable = false)]
    mentoring: Option<MentoringPatch>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct LocationPatch {
    #[schema(nullable = false, minimum = -90.0, maximum = 90.0)]
    latitude: Option<f64>,
    #[schema(nullable = false, minimum = -180.0, maximum = 180.0)]
    longitude: Option<f64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct SeekingPatch {
    #[schema(nullable = false)]
    peers: Option<bool>,
    #[schema(nullable = false)]
    mentor: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct MentoringPatch {
    #[schema(nullable = false)]
    offering: Option<bool>,
    #[schema(nullable = false, minimum = 0, maximum = 20)]
    capacity: Option<i64>,
    #[schema(schema_with = crate::domain::profile::date_schema)]
    paused_until: Option<String>,
}

failures!(PatchProfileFailures {
    ProfileRequired: "There is no profile to change yet",
    TooManyRequests: "The location was changed too often in the last hour",
});

/// Changes only the fields named in the body.
#[utoipa::path(
    patch, path = "/api/v1/me/profile", tag = "profiles",
    security(("bearer" = [])),
    request_body(content = inline(ProfilePatch), content_type = "application/json"),
    responses(
        (status = 200, description = "The saved profile", body = Profile),
        PatchProfileFailures,
    )
)]
pub async fn patch_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, Fails<PatchProfileFailures>> {
    let patch = body.into_inner();
    if !patch.is_object() {
        return Err(ApiError::field("body", "must be a JSON object").into());
    }
    let current = profiles::own(&state, &user.0).await?;
    let mut document = serde_json::to_value(stored_input(&current))
        .map_err(|e| ApiError::unexpected(anyhow::Error::from(e)))?;
    merge_patch(&mut document, &patch);
    let data = parse_value::<ProfileInput>(document)?;
    let profile = profiles::save(&state, &user.0, data).await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// The input that reproduces a stored profile.
fn stored_input(profile: &Profile) -> ProfileInput {
    ProfileInput {
        display_name: profile.display_name.clone(),
        profession: profile.profession.clone(),
        populations: profile.populations.clone(),
        settings: profile.settings.clone(),
        location: profile.location,
        years_experience: i64::from(profile.years_experience),
        languages: profile.languages.clone(),
        interests: profile.interests.clone(),
        bio: profile.bio.clone(),
        timezone: profile.timezone.clone(),
        meeting_modes: profile.meeting_modes.clone(),
        max_travel_km: profile.max_travel_km.map(i64::from),
        works_alone: profile.works_alone,
        seeking: profile.seeking,
        mentoring: profile.mentoring.clone(),
    }
}

failures!(GetProfileFailures {
    NotFound: "No such visible profile",
});

/// A practitioner's public profile. Unverified and suspended accounts, and accounts without
/// a profile, are not found (except by their owner).
#[utoipa::path(
    get, path = "/api/v1/profiles/{user_id}", tag = "profiles",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The practitioner's user id")),
    responses(
        (status = 200, description = "Their public profile", body = PublicProfile),
        GetProfileFailures,
    )
)]
pub async fn get_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<GetProfileFailures>> {
    let profile: PublicProfile = profiles::public(&state, &user.0, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(profile))
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// Practitioners looking for peers.
    Peer,
    /// Mentors with a free slot who are not paused.
    Mentor,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    #[param(inline)]
    kind: Option<DirectoryKind>,
    #[param(inline)]
    profession: Option<ProfessionCode>,
    #[param(inline)]
    population: Option<PopulationCode>,
    #[param(inline)]
    setting: Option<SettingCode>,
    #[param(inline)]
    language: Option<LanguageCode>,
    /// Only practitioners within this many kilometres (as shown, in tens of km), nearest first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2000)]
    within_km: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor` of the previous page.
    #[param(max_length = 200)]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DirectoryPage {
    pub items: Vec<PublicProfile>,
    pub next_cursor: Option<String>,
}

fn bounded(name: &str, raw: Option<&str>, min: u32, max: u32) -> Result<Option<u32>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(Some(v)),
        _ => Err(ApiError::field(
            name,
            format!("must be a whole number from {min} to {max}"),
        )),
    }
}

/// The opaque cursor of a directory page: where the previous page ended.
struct Cursor(PageEnd);

impl Cursor {
    fn encode(&self) -> String {
        let Self(PageEnd {
            distance_km,
            user_id,
        }) = self;
        let raw = match distance_km {
            Some(d) => format!("{d}:{user_id}"),
            None => format!("-:{user_id}"),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(raw: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::field("cursor", "is not a cursor this API issued");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (distance, id) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self(PageEnd {
            distance_km: match distance {
                "-" => None,
                d => Some(d.parse().map_err(|_| invalid())?),
            },
            user_id: id.parse().map_err(|_| invalid())?,
        }))
    }
}

failures!(DirectoryFailures {
    ProfileRequired: "`within_km` needs the caller's own profile",
    ValidationError: "A parameter is invalid",
});

/// Search and pick: practitioners matching every given filter.
#[utoipa::path(
    get, path = "/api/v1/directory", tag = "profiles",
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of public profiles", body = DirectoryPage),
        DirectoryFailures,
    )
)]
pub async fn directory(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse, Fails<DirectoryFailures>> {
    let query = query.into_inner();
    let mut errors = crate::domain::FieldParser::default();
    let mut filter = DirectoryFilter::default();
    if let Some(ProfessionCode(code)) = &query.profession {
        if let Some(code) = errors.field("profession", check_code(code, &vocab::profession_codes()))
        {
            filter.profession = VOCABULARY.profession_id(&code);
        }
    }
    if let Some(code) = query
        .population
        .and_then(|c| errors.field("population", check_code(&c.0, &vocab::population_codes())))
    {
        filter.population = VOCABULARY.population_id(&code);
    }
    if let Some(code) = query
        .setting
        .and_then(|c| errors.field("setting", check_code(&c.0, &vocab::setting_codes())))
    {
        filter.setting = VOCABULARY.setting_id(&code);
    }
    if let Some(code) = query
        .language
        .and_then(|c| errors.field("language", check_code(&c.0, &vocab::language_codes())))
    {
        filter.language = VOCABULARY.language_id(&code);
    }
    let within_km = bounded("within_km", query.within_km.as_deref(), 1, 2000);
    let limit = bounded("limit", query.limit.as_deref(), 1, 100);
    let cursor = query.cursor.as_deref().map(Cursor::decode).transpose();
    let (within_km, limit, cursor) = match (within_km, limit, cursor) {
        (Ok(w), Ok(l), Ok(c)) if errors.is_clean() => (w, l.unwrap_or(20), c),
        (w, l, c) => {
            for (name, result) in [
                ("within_km", w.err()),
                ("limit", l.err()),
                ("cursor", c.err()),
            ] {
                if let Some(ApiError::Validation(e)) = result {
                    for message in e.into_values().flatten() {
                        errors.error(name, message);
                    }
                }
            }
            return Err(errors.into_error().into());
        }
    };
    match query.kind {
        Some(DirectoryKind::Mentor) => filter.mentor_with_free_slot = true,
        Some(DirectoryKind::Peer) => filter.seeking_peers = true,
        None => {}
    }

    let (items, next) = matching::directory(
        &state,
        caller.0,
        &filter,
        within_km,
        cursor.map(|c| c.0),
        limit as usize,
    )
    .await?;
    Ok(HttpResponse::Ok().json(DirectoryPage {
        items,
        next_cursor: next.map(|end| Cursor(end).encode()),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VocabularyEntry {
    pub code: String,
    pub label: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VocabularyLists {
    pub professions: Vec<VocabularyEntry>,
    pub populations: Vec<VocabularyEntry>,
    pub settings: Vec<VocabularyEntry>,
    pub meeting_modes: Vec<VocabularyEntry>,
    /// ISO 639-1 codes accepted in `languages`.
    pub languages: Vec<String>,
}

/// The controlled lists every code in a profile comes from.
#[utoipa::path(
    get, path = "/api/v1/vocabulary", tag = "profiles",
    responses((status = 200, description = "The controlled lists", body = VocabularyLists))
)]
pub async fn vocabulary() -> HttpResponse {
    let entries = |terms: &[matcher::Term]| {
        terms
            .iter()
            .map(|t| VocabularyEntry {
                code: t.code.clone(),
                label: t.label.clone(),
            })
            .collect()
    };
    HttpResponse::Ok().json(VocabularyLists {
        professions: entries(&VOCABULARY.professions),
        populations: entries(&VOCABULARY.populations),
        settings: entries(&VOCABULARY.settings),
        meeting_modes: MEETING_MODES
            .iter()
            .map(|(code, label)| VocabularyEntry {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
            })
            .collect(),
        languages: VOCABULARY.languages.clone(),
    })
}
