//! Towns by name, for picking a location without sharing one's own position.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::FieldParser,
    http::problem::{failures, Fails},
    service::profiles,
    views::Place,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/places").get(search));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceQuery {
    /// What the person typed: the start of a town's name or of a word in it, 1 to 100
    /// characters; case and accents do not matter.
    #[param(required = true, min_length = 1, max_length = 100, example = "Dubbo")]
    q: Option<String>,
    /// Towns in this country (ISO 3166-1 alpha-2) come first.
    #[param(pattern = "^[A-Z]{2}$", example = "AU")]
    country: Option<String>,
    /// How many towns, 1 to 20 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 20)]
    limit: Option<String>,
}

/// A town from the offline gazetteer (GeoNames, places over 1,000 people).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Town {
    #[serde(flatten)]
    pub place: Place,
    /// The town's own position (public), to use as a profile's `location`.
    #[schema(example = -32.24295)]
    pub latitude: f64,
    #[schema(example = 148.60484)]
    pub longitude: f64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TownList {
    /// Whole-name matches first, then towns in `country`, then names that start with `q`
    /// (before those with a later word that does), then shorter names.
    pub items: Vec<Town>,
}

failures!(PlaceFailures {
    ValidationError: "`q` is missing or too long, or `country` or `limit` is invalid",
});

/// Towns whose name, or a word of it, starts with what was typed. Public: it says nothing
/// about anyone.
#[utoipa::path(
    get, path = "/api/v1/places", tag = "profiles",
    params(PlaceQuery),
    responses(
        (status = 200, description = "Matching towns, best first", body = TownList),
        PlaceFailures,
    )
)]
pub async fn search(query: web::Query<PlaceQuery>) -> Result<HttpResponse, Fails<PlaceFailures>> {
    let PlaceQuery { q, country, limit } = query.into_inner();
    let mut errors = FieldParser::default();
    let typed = errors.field(
        "q",
        match q.as_deref().map(str::trim) {
            Some(typed) if !typed.is_empty() && typed.chars().count() <= 100 => {
                Ok(typed.to_owned())
            }
            _ => Err("must be 1 to 100 characters".to_owned()),
        },
    );
    let country = match country {
        None => Some(None),
        Some(code) => errors.field(
            "country",
            if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                Ok(Some(code))
            } else {
                Err("must be two capital letters (ISO 3166-1 alpha-2)".to_owned())
            },
        ),
    };
    let limit = match limit.as_deref().map(str::trim) {
        None => Some(10),
        Some(raw) => errors.field(
            "limit",
            match raw.parse::<usize>() {
                Ok(n) if (1..=20).contains(&n) => Ok(n),
                _ => Err("must be a whole number from 1 to 20".to_owned()),
            },
        ),
    };
    let (Some(typed), Some(country), Some(limit)) = (typed, country, limit) else {
        return Err(errors.into_error().into());
    };
    let items = profiles::find_towns(&typed, country.as_deref(), limit)
        .into_iter()
        .map(|town| Town {
            latitude: town.location.lat,
            longitude: town.location.lon,
            place: Place {
                name: town.name,
                region: town.region,
                country_code: town.country_code,
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(TownList { items }))
}
