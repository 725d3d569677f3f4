//! The web app, embedded in the binary from `web/` (see `build.rs`).
//!
//! Every file is served under `/assets/{version}/…`, where the version is a hash of all the
//! files together, with a year-long immutable cache; the app's modules import one another
//! by relative paths, so they all stay under the same version. The page itself
//! (`index.html`, its asset references rewritten to the versioned prefix at start-up) is
//! never cached and answers every path that is not the API's and not a file, so that
//! emailed links (`/verify-email?token=…`) and reloads open the app. Files are also served
//! at their plain paths (`/manifest.webmanifest`, icons), revalidated on each use.

use std::{collections::HashMap, io::Write, sync::OnceLock};

use actix_web::{
    http::{header, Method},
    HttpRequest, HttpResponse, HttpResponseBuilder,
};
use flate2::{write::GzEncoder, Compression};
use sha2::{Digest, Sha256};

use crate::{error::ApiError, http::headers::APP_POLICY};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// Paths that belong to the API and its operations, never to the app.
const RESERVED: &[&str] = &[
    "/api",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.yaml",
    "/unsubscribe",
];
const PAGE: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

struct Asset {
    bytes: &'static [u8],
    /// The same, gzipped once at start-up, for text that compresses.
    gzipped: Option<Vec<u8>>,
    content_type: &'static str,
}

struct App {
    version: String,
    page: Vec<u8>,
    page_gzipped: Option<Vec<u8>>,
    files: HashMap<&'static str, Asset>,
}

/// `bytes` gzipped, when the content type is text that is worth compressing.
fn gzip(bytes: &[u8], content_type: &str) -> Option<Vec<u8>> {
    let text = content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg+xml");
    if !text || bytes.len() < 256 {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// The content type of a file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The page with `src="/…"` and `href="/…"` pointing at the versioned prefix instead.
fn versioned_page(page: &str, version: &str) -> String {
    let prefix = format!("/assets/{version}/");
    page.replace("src=\"/", &format!("src=\"{prefix}"))
        .replace("href=\"/", &format!("href=\"{prefix}"))
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let mut hasher = Sha256::new();
        let mut files = HashMap::new();
        for (path, bytes) in embedded::ASSETS {
            hasher.update(path.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
            let content_type = content_type(path);
            files.insert(
                *path,
                Asset {
                    bytes,
                    gzipped: gzip(bytes, content_type),
                    content_type,
                },
            );
        }
        let digest = hasher.finalize();
        let version: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let page = files
            .get(PAGE)
            .map(|asset| String::from_utf8_lossy(asset.bytes).into_owned())
            .unwrap_or_default();
        let page = versioned_page(&page, &version).into_bytes();
        App {
            page_gzipped: gzip(&page, "text/html"),
            page,
            version,
            files,
        }
    })
}

fn is_reserved(path: &str) -> bool {
    RESERVED.iter().any(|reserved| {
        path == *reserved
            || path
                .strip_prefix(reserved)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let gzip = parts
                .next()
                .is_some_and(|name| name.eq_ignore_ascii_case("gzip"));
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            gzip && !refused
        })
}

/// The body, gzipped when there is a gzipped form and the client takes it.
fn body(
    mut response: HttpResponseBuilder,
    req: &HttpRequest,
    plain: &[u8],
    gzipped: Option<&Vec<u8>>,
) -> HttpResponse {
    let Some(gzipped) = gzipped else {
        return response.body(plain.to_vec());
    };
    response.insert_header((header::VARY, "Accept-Encoding"));
    if accepts_gzip(req) {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gzipped.clone())
    } else {
        response.body(plain.to_vec())
    }
}

fn file(req: &HttpRequest, asset: &Asset, cache: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, cache));
    body(response, req, asset.bytes, asset.gzipped.as_ref())
}

fn page(req: &HttpRequest, app: &App) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((header::CONTENT_SECURITY_POLICY, APP_POLICY));
    body(response, req, &app.page, app.page_gzipped.as_ref())
}

/// The default service: the app for every GET or HEAD of a path that is not the API's; an
/// RFC 9457 404 for everything else.
pub async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if is_reserved(path) || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::NotFound);
    }
    let app = app();
    if let Some(rest) = path.strip_prefix("/assets/") {
        let (version, name) = rest.split_once('/').ok_or(ApiError::NotFound)?;
        return match app.files.get(name) {
            Some(asset) if version == app.version && name != PAGE => {
                Ok(file(&req, asset, IMMUTABLE))
            }
            _ => Err(ApiError::NotFound),
        };
    }
    let name = path.trim_start_matches('/');
    match app.files.get(name) {
        Some(asset) if name != PAGE => Ok(file(&req, asset, REVALIDATE)),
        _ => Ok(page(&req, app)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_reserved_and_app_paths_are_not() {
        for path in [
            "/api",
            "/api/v1/nothing",
            "/healthz",
            "/unsubscribe",
            "/openapi.yaml",
        ] {
            assert!(is_reserved(path), "{path}");
        }
        for path in [
            "/",
            "/verify-email",
            "/apiary",
            "/healthzone",
            "/connections/1",
        ] {
            assert!(!is_reserved(path), "{path}");
        }
    }

    #[test]
    fn the_page_points_at_versioned_assets() {
        let page = r#"<link rel="stylesheet" href="/app.css"><script type="module" src="/app.js"></script><a href="https://example.org">x</a>"#;
        let out = versioned_page(page, "abc");
        assert!(out.contains(r#"href="/assets/abc/app.css""#));
        assert!(out.contains(r#"src="/assets/abc/app.js""#));
        assert!(out.contains(r#"href="https://example.org""#));
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        use actix_web::test::TestRequest;
        let with = |value: &str| {
            TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value))
                .to_http_request()
        };
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br")));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
        let app = app();
        let script = &app.files["app.js"];
        let gzipped = script.gzipped.as_ref().expect("scripts are compressed");
        assert!(gzipped.len() < script.bytes.len());
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut plain)
            .unwrap();
        assert_eq!(plain, script.bytes);
        assert!(
            app.files["icon-192.png"].gzipped.is_none(),
            "images are not"
        );
    }

    #[test]
    fn the_app_is_embedded_with_its_content_types() {
        let app = app();
        assert!(app.files.contains_key("app.js"));
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a/b.CSS"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json"
        );
        let page = String::from_utf8_lossy(&app.page);
        assert!(page.contains(&format!("/assets/{}/app.js", app.version)));
        assert!(!page.contains("<script>"), "no inline script");
    }
}
