//! The OpenAPI document, generated from the handlers and types themselves.

use utoipa::{
    openapi::{
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};

use crate::routes::{admin, auth, connections, health, me, profiles, unsubscribe};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alongside API",
        description = "Connects allied-health practitioners who work alone with peers and mentors who share their practice.",
        version = "1.0.0",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        health::openapi,
        auth::register,
        auth::verify_email,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::password_reset,
        auth::password_reset_confirm,
        me::get_me,
        me::delete_me,
        me::export,
        profiles::put_profile,
        profiles::patch_profile,
        profiles::get_profile,
        profiles::directory,
        profiles::vocabulary,
        connections::suggestions,
        connections::create,
        connections::list,
        connections::get,
        connections::accept,
        connections::decline,
        connections::withdraw,
        connections::end,
        connections::block,
        connections::unblock,
        connections::get_notifications,
        connections::put_notifications,
        unsubscribe::unsubscribe,
        unsubscribe::confirm_page,
        admin::matching_round,
        admin::stats,
        admin::suspend,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&CommonResponses),
    tags(
        (name = "auth", description = "Accounts and sign-in"),
        (name = "me", description = "The signed-in practitioner"),
        (name = "profiles", description = "Practitioner profiles, the directory and the vocabulary"),
        (name = "connections", description = "Suggestions, connection requests, blocks and email preferences"),
        (name = "notifications", description = "Unsubscribing from optional emails"),
        (name = "admin", description = "Programme administration"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// Adds the problem responses every operation of a kind can give, so that each handler
/// lists only the ones particular to it.
struct CommonResponses;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| problem(description));
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                if operation.request_body.is_some() {
                    add(operation, "400", "The body is not valid JSON");
                    add(operation, "413", "The body is too large");
                    add(operation, "415", "The body is not JSON");
                    add(
                        operation,
                        "422",
                        "Some fields are invalid; `errors` names each one",
                    );
                }
                if operation.security.is_some() {
                    add(operation, "401", "Missing, invalid or expired access token");
                }
                let has_path_parameter = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path);
                if has_path_parameter {
                    add(operation, "404", "No such resource");
                }
            }
        }
    }
}

pub fn yaml() -> anyhow::Result<String> {
    Ok(ApiDoc::openapi().to_yaml()?)
}

#[cfg(test)]
mod tests {
    /// The committed `openapi.yaml` must be what the code describes. Run with
    /// `UPDATE_OPENAPI=1` to rewrite the file after changing the API.
    #[test]
    fn openapi_yaml_matches_the_code() {
        let generated = super::yaml().unwrap();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            committed == generated,
            "openapi.yaml differs from the API the code serves; \
             run `UPDATE_OPENAPI=1 cargo test -p api openapi` and review the diff"
        );
        assert_eq!(crate::routes::health::OPENAPI_YAML, committed);
    }
}
