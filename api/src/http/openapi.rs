//! The OpenAPI document, generated from the handlers and types themselves.

use utoipa::{
    openapi::{
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};

use serde_norway::{Mapping, Value};
use std::collections::BTreeSet;

use crate::http::{
    accounts as auth, admin, circles, connections, follow_through, health, log, me, places,
    profiles, session, unsubscribe, verification,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alongside API",
        description = "Connects allied-health practitioners who work alone with peers and mentors who share their practice.",
        version = "1.0.0",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "The server that serves this document")),
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
        session::sign_in,
        session::refresh_session,
        session::sign_out,
        me::get_me,
        me::delete_me,
        me::export,
        verification::resend,
        profiles::put_profile,
        profiles::patch_profile,
        profiles::get_profile,
        profiles::directory,
        profiles::vocabulary,
        places::search,
        connections::suggestions,
        connections::create,
        connections::list,
        connections::get,
        connections::accept,
        connections::decline,
        connections::withdraw,
        connections::end,
        connections::list_blocks,
        connections::block,
        connections::unblock,
        connections::get_notifications,
        connections::put_notifications,
        circles::circle_directory,
        circles::create_circle,
        circles::my_circles,
        circles::get_circle_interest,
        circles::put_circle_interest,
        circles::get_circle,
        circles::join_circle,
        circles::accept_member,
        circles::remove_member,
        circles::close_circle,
        circles::list_posts,
        circles::create_post,
        circles::get_post,
        circles::edit_post,
        circles::delete_post,
        circles::reply_to_post,
        circles::pin_post,
        circles::hide_post,
        circles::report_post,
        circles::list_resources,
        circles::add_resource,
        circles::list_meetings,
        circles::schedule_meeting,
        circles::answer_meeting,
        circles::change_meeting,
        circles::cancel_meeting,
        log::mark_meeting_held,
        follow_through::my_check_ins,
        follow_through::answer_check_in,
        follow_through::answer_check_in_by_link,
        follow_through::get_agreement,
        follow_through::propose_agreement,
        follow_through::accept_agreement,
        follow_through::mark_goal,
        follow_through::list_connection_meetings,
        follow_through::propose_connection_meeting,
        follow_through::choose_meeting_time,
        follow_through::change_connection_meeting,
        follow_through::cancel_connection_meeting,
        follow_through::mark_connection_meeting_held,
        follow_through::mark_connection_meeting_missed,
        log::list_requirements,
        log::list_log,
        log::add_log_entry,
        log::change_log_entry,
        log::delete_log_entry,
        log::log_summary,
        log::choose_requirement,
        log::export_log_csv,
        log::export_log_pdf,
        unsubscribe::unsubscribe,
        unsubscribe::confirm_page,
        admin::matching_round,
        admin::circle_round,
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
        (name = "circles", description = "Circles: small communities of practice, their members, discussion and resources"),
        (name = "log", description = "The professional development log: activities, the requirement reported to, progress, and files for an audit"),
        (name = "notifications", description = "Unsubscribing from optional emails"),
        (name = "admin", description = "Programme administration"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// Adds the problem responses every operation of a kind can give, so that each handler
/// lists only the ones particular to it; gives public operations an explicit `security: []`.
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

/// Lists every problem type, with its status and meaning, on the `type` of `Problem`: the
/// one place a client learns what it can branch on.
fn document_problem_types(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::Schema;
    let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
        return;
    };
    let Some(RefOr::T(Schema::Object(kind))) = problem.properties.get_mut("type") else {
        return;
    };
    let mut text = String::from(
        "A relative URI naming the kind of problem; stable, safe to branch on. One of:\n\n\
         | type | status | meaning |\n|---|---|---|\n",
    );
    for code in crate::error::ProblemCode::ALL {
        text.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.uri(),
            code.status(),
            code.meaning()
        ));
    }
    kind.description = Some(text);
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        document_problem_types(components);
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
                match &operation.security {
                    Some(requirements) if !requirements.is_empty() => {
                        add(operation, "401", "Missing, invalid or expired access token");
                    }
                    // Public: said explicitly, so that no client or linter guesses.
                    _ => operation.security = Some(Vec::new()),
                }
                let has_path_parameter = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path);
                if has_path_parameter {
                    add(operation, "404", "No such resource");
                }
                let has_client_error = operation
                    .responses
                    .responses
                    .keys()
                    .any(|status| status.starts_with('4'));
                if !has_client_error {
                    // Operations with nothing to refuse still share the HTTP layer's refusals.
                    operation.responses.responses.insert(
                        "4XX".to_owned(),
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(
                                    "The HTTP request could not be read (malformed, or its request \
                                     line or headers too long); no body",
                                )
                                .build(),
                        ),
                    );
                }
            }
        }
    }
}

/// The document as `openapi.yaml` holds it: what utoipa generates, made exact for validators
/// and client generators (see [`refine`]), written as YAML that YAML 1.1 parsers read the
/// same way as YAML 1.2 ones.
pub fn yaml() -> anyhow::Result<String> {
    let document = document()?;
    let text = serde_norway::to_string(&document)?;
    Ok(quote_yaml_1_1_scalars(
        &text,
        &yaml_1_1_ambiguous_strings(&document),
    ))
}

fn document() -> anyhow::Result<Value> {
    let mut document = serde_norway::to_value(ApiDoc::openapi())?;
    refine(&mut document)?;
    Ok(document)
}

/// Request types read absent fields as their `Default` (`#[serde(default)]`), so that a
/// missing field gets the same 422 naming it as a bad one; utoipa then gives each property a
/// `default`, which for a required property is meaningless (and often invalid: `''` for a
/// password of at least 10 characters), and for an optional one is `null`, which says no
/// more than that it is optional (and makes some generators require it). This drops those,
/// unwraps the one-branch `oneOf` utoipa wraps a defaulted `$ref` in, and names the members
/// of enums whose values are not identifiers (time zones such as `Etc/GMT+0` and
/// `Etc/GMT-0`) with `x-enum-varnames`, so that generated enums have one distinct member per
/// value.
fn refine(node: &mut Value) -> anyhow::Result<()> {
    match node {
        Value::Mapping(map) => {
            drop_meaningless_defaults(map);
            unwrap_single_one_of(map);
            name_enum_members(map)?;
            for (_, child) in map.iter_mut() {
                refine(child)?;
            }
        }
        Value::Sequence(items) => {
            for item in items {
                refine(item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn drop_meaningless_defaults(schema: &mut Mapping) {
    let required: Vec<Value> = match schema.get("required") {
        Some(Value::Sequence(names)) => names.clone(),
        _ => Vec::new(),
    };
    let Some(Value::Mapping(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Value::Mapping(property) = property else {
            continue;
        };
        if required.contains(name) || property.get("default").is_some_and(Value::is_null) {
            property.remove("default");
        }
    }
}

/// `{oneOf: [X]}` (with at most a description and a default beside it) is X, with them.
fn unwrap_single_one_of(schema: &mut Mapping) {
    let single =
        matches!(schema.get("oneOf"), Some(Value::Sequence(branches)) if branches.len() == 1);
    let only_described = schema
        .keys()
        .all(|key| matches!(key.as_str(), Some("oneOf" | "description" | "default")));
    if !single || !only_described {
        return;
    }
    let Some(Value::Sequence(mut branches)) = schema.remove("oneOf") else {
        return;
    };
    let Some(Value::Mapping(branch)) = branches.pop() else {
        return;
    };
    let beside: Vec<(Value, Value)> = ["description", "default"]
        .into_iter()
        .filter_map(|key| schema.remove(key).map(|value| (key.into(), value)))
        .collect();
    *schema = branch;
    schema.extend(beside);
}

fn name_enum_members(schema: &mut Mapping) -> anyhow::Result<()> {
    let Some(Value::Sequence(values)) = schema.get("enum") else {
        return Ok(());
    };
    let Some(values) = values.iter().map(Value::as_str).collect::<Option<Vec<_>>>() else {
        return Ok(());
    };
    let identifiers = values
        .iter()
        .all(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if identifiers {
        return Ok(());
    }
    let names: Vec<String> = values.iter().map(|v| member_name(v)).collect();
    let distinct: BTreeSet<&String> = names.iter().collect();
    anyhow::ensure!(
        distinct.len() == names.len(),
        "two enum values get the same member name: {names:?}"
    );
    let position = schema.keys().position(|k| k.as_str() == Some("enum"));
    let entries: Vec<(Value, Value)> = std::mem::take(schema).into_iter().collect();
    for (index, (key, value)) in entries.into_iter().enumerate() {
        schema.insert(key, value);
        if Some(index) == position {
            schema.insert(
                "x-enum-varnames".into(),
                Value::Sequence(names.iter().map(|n| n.as_str().into()).collect()),
            );
        }
    }
    Ok(())
}

/// An upper-case identifier for an enum value: `Etc/GMT+10` is `ETC_GMT_PLUS_10`,
/// `Etc/GMT-10` is `ETC_GMT_MINUS_10`, `America/Port-au-Prince` is `AMERICA_PORT_AU_PRINCE`.
fn member_name(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut name = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        match c {
            c if c.is_ascii_alphanumeric() => name.push(c.to_ascii_uppercase()),
            '+' => name.push_str("_PLUS_"),
            '-' if next_is_digit => name.push_str("_MINUS_"),
            _ => name.push('_'),
        }
    }
    let mut words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    if words
        .first()
        .is_none_or(|w| w.starts_with(|c: char| c.is_ascii_digit()))
    {
        words.insert(0, "VALUE");
    }
    words.join("_")
}

/// Every string (key or value) that a YAML 1.1 parser would read as something else when
/// written plain: `no` (Norwegian) as false, `on` as true, `1_000` as a number, and so on.
/// YAML 1.2 writers such as serde_norway leave these plain.
fn yaml_1_1_ambiguous_strings(node: &Value) -> BTreeSet<String> {
    fn visit(node: &Value, found: &mut BTreeSet<String>) {
        match node {
            Value::String(s) if is_yaml_1_1_non_string(s) && written_plain(s) => {
                found.insert(s.clone());
            }
            Value::Sequence(items) => items.iter().for_each(|i| visit(i, found)),
            Value::Mapping(map) => {
                for (key, value) in map {
                    visit(key, found);
                    visit(value, found);
                }
            }
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    visit(node, &mut found);
    found
}

/// Whether serde_norway writes `s` unquoted (it quotes what YAML 1.2 reads as non-strings).
fn written_plain(s: &str) -> bool {
    serde_norway::to_string(s).is_ok_and(|text| text.trim_end() == s)
}

fn is_yaml_1_1_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "=",
        "<<",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    // Numbers in YAML 1.1's wider syntax (underscores, 0b…, sexagesimal 1:30, .5, 1e3):
    // quote anything that starts like a number and uses only number characters.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let starts_like_number = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    starts_like_number
        && s.matches('.').count() <= 1
        && unsigned
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '_' | ':' | '.' | 'x' | 'o' | '+' | '-'))
}

/// Single-quotes the plain scalars in `text` that are one of `strings`, where they stand as a
/// whole key (`no:`) or a whole value (`- no`, `key: no`); block scalars are left alone.
fn quote_yaml_1_1_scalars(text: &str, strings: &BTreeSet<String>) -> String {
    let quoted = |s: &str| format!("'{s}'");
    let mut out = String::with_capacity(text.len());
    let mut block_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        let indent = content.len() - content.trim_start().len();
        if let Some(block) = block_indent {
            if content.trim().is_empty() || indent > block {
                out.push_str(line);
                continue;
            }
            block_indent = None;
        }
        let mut rest = content.trim_start();
        let mut head = content[..indent].to_owned();
        while let Some(after) = rest.strip_prefix("- ") {
            head.push_str("- ");
            rest = after;
        }
        let rewritten = if strings.contains(rest) {
            format!("{head}{}", quoted(rest))
        } else if let Some((key, value)) = rest.split_once(": ") {
            let key = if strings.contains(key) {
                quoted(key)
            } else {
                key.to_owned()
            };
            let value = if strings.contains(value) {
                quoted(value)
            } else {
                value.to_owned()
            };
            format!("{head}{key}: {value}")
        } else if let Some(key) = rest.strip_suffix(':').filter(|k| strings.contains(*k)) {
            format!("{head}{}:", quoted(key))
        } else {
            content.to_owned()
        };
        let scalar = rest.rsplit_once(": ").map_or(rest, |(_, value)| value);
        if scalar.starts_with(['|', '>']) && scalar.len() <= 3 {
            block_indent = Some(indent);
        }
        out.push_str(&rewritten);
        out.push_str(&line[content.len()..]);
    }
    out
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
        assert_eq!(crate::http::health::OPENAPI_YAML, committed);
    }

    /// Generated clients name each operation by its id: no two may share one.
    #[test]
    fn operation_ids_are_unique() {
        use utoipa::OpenApi;
        let api = super::ApiDoc::openapi();
        let mut seen = std::collections::BTreeSet::new();
        for (path, item) in &api.paths.paths {
            for operation in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(seen.insert(id.clone()), "{id} ({path}) is used twice");
            }
        }
    }

    /// Every problem type the code can answer with is documented, with its status, in the
    /// document and in the project's additions to the API contract.
    #[test]
    fn every_problem_code_is_documented() {
        let committed = crate::http::health::OPENAPI_YAML;
        let contract = include_str!("../../../docs/api-contract.md");
        for code in crate::error::ProblemCode::ALL {
            let row = format!("| `{}` | {} |", code.uri(), code.status());
            assert!(committed.contains(&row), "openapi.yaml lacks {row}");
            assert!(contract.contains(&row), "docs/api-contract.md lacks {row}");
        }
    }

    /// Quoting for YAML 1.1 changes how the text is written, never what it says.
    #[test]
    fn the_yaml_reads_back_as_the_document() {
        let document = super::document().unwrap();
        let read: super::Value = serde_norway::from_str(&super::yaml().unwrap()).unwrap();
        assert_eq!(read, document);
    }

    #[test]
    fn yaml_1_1_booleans_and_numbers_are_quoted_where_they_stand_plain() {
        let text = "enum:\n- nb\n- no\n- 'yes'\nno: on\ndescription: |-\n  no\n  - no\nlist:\n- - no\n- key: 1_000\n";
        let strings = ["no", "yes", "on", "1_000"]
            .map(String::from)
            .into_iter()
            .collect();
        assert_eq!(
            super::quote_yaml_1_1_scalars(text, &strings),
            "enum:\n- nb\n- 'no'\n- 'yes'\n'no': 'on'\ndescription: |-\n  no\n  - no\nlist:\n- - 'no'\n- key: '1_000'\n"
        );
        for s in [
            "no",
            "ON",
            "y",
            "1_000",
            "1:30",
            "0b101",
            "2024-01-01",
            ".5",
            "~",
        ] {
            assert!(super::is_yaml_1_1_non_string(s), "{s}");
        }
        for s in [
            "nb",
            "none",
            "Norway",
            "Etc/GMT+1",
            "en",
            "ok",
            "UTC",
            "3.1.0",
        ] {
            assert!(!super::is_yaml_1_1_non_string(s), "{s}");
        }
    }

    #[test]
    fn enum_member_names_are_distinct_identifiers() {
        assert_eq!(super::member_name("Etc/GMT+0"), "ETC_GMT_PLUS_0");
        assert_eq!(super::member_name("Etc/GMT-0"), "ETC_GMT_MINUS_0");
        assert_eq!(super::member_name("GMT0"), "GMT0");
        assert_eq!(
            super::member_name("America/Port-au-Prince"),
            "AMERICA_PORT_AU_PRINCE"
        );
        assert_eq!(super::member_name("W-SU"), "W_SU");
        let names: Vec<String> = crate::vocabulary::timezone_names()
            .into_iter()
            .map(super::member_name)
            .collect();
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
    }
}
