//! Headers on every response: browser hardening (nosniff, no referrer, no framing, no
//! caching unless the handler says otherwise, HSTS behind https, a Content-Security-Policy
//! by content type, or the web app's own) and CORS for the
//! origins in `CORS_ORIGINS`, none by default.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderMap, HeaderName, HeaderValue},
        Method,
    },
    HttpRequest, HttpResponse,
};
use futures_util::future::{Either, LocalBoxFuture};

/// For HTML this API serves (the unsubscribe page): nothing loads, nothing frames it, and
/// its form may post only back here.
pub const HTML_POLICY: &str =
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// For the web app's page (set by `crate::http::app` on it): scripts, styles, images and API
/// calls from this origin only, no inline script or style, nothing frames it.
pub const APP_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; manifest-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'";
/// For everything else (JSON, YAML, problem documents): nothing at all.
pub const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS: &str = "authorization, content-type, idempotency-key";
const EXPOSED_HEADERS: &str = "location, retry-after, x-request-id";
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

/// The Content-Security-Policy for a response of this content type.
pub fn content_security_policy(content_type: Option<&str>) -> &'static str {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("text/html") => HTML_POLICY,
        _ => DEFAULT_POLICY,
    }
}

/// What the headers middleware needs from the settings.
#[derive(Clone, Debug, Default)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security`, when `PUBLIC_URL` is https.
    pub hsts: bool,
    /// Normalised origins (`scheme://host[:port]`) allowed cross-origin access.
    pub cors_origins: Vec<String>,
}

impl SecurityHeaders {
    fn allowed_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?;
        let text = origin.to_str().ok()?;
        self.cors_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    /// The answer to a CORS preflight from an allowed origin; `None` lets the request
    /// through to the application (which knows nothing of OPTIONS), so a preflight from any
    /// other origin gets no CORS headers and the browser stops there.
    pub fn preflight(&self, req: &HttpRequest) -> Option<HttpResponse> {
        if req.method() != Method::OPTIONS
            || !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let origin = self.allowed_origin(req.headers().get(header::ORIGIN))?;
        Some(
            HttpResponse::NoContent()
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS))
                .insert_header((
                    header::VARY,
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ))
                .finish(),
        )
    }

    /// Adds the headers to a response to a request that came with `origin`. Headers a
    /// handler set itself are kept.
    pub fn apply(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        let mut default = |name: HeaderName, value: &'static str| {
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        };
        default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        default(header::X_FRAME_OPTIONS, "DENY");
        default(header::REFERRER_POLICY, "no-referrer");
        default(header::CACHE_CONTROL, "no-store");
        if self.hsts {
            default(header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let policy = content_security_policy(content_type);
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
        }
        if self.cors_origins.is_empty() {
            return;
        }
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed_origin(origin) {
            if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED_HEADERS),
                );
            }
        }
    }

    /// The middleware (for `App::wrap_fn`): answers allowed preflights, and puts the
    /// headers on every other response, error responses included.
    pub fn middleware<S, B>(
        &self,
        req: ServiceRequest,
        srv: &S,
    ) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
        S::Future: 'static,
        B: MessageBody + 'static,
    {
        let settings = self.clone();
        let origin = req.headers().get(header::ORIGIN).cloned();
        let pending = match self.preflight(req.request()) {
            Some(answer) => Either::Left(req.into_response(answer)),
            None => Either::Right(srv.call(req)),
        };
        Box::pin(async move {
            let mut response = match pending {
                Either::Left(answer) => answer,
                // Handlers' errors arrive here as responses already (with their status).
                Either::Right(call) => call.await?.map_into_boxed_body(),
            };
            settings.apply(origin.as_ref(), response.headers_mut());
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn cors() -> SecurityHeaders {
        SecurityHeaders {
            hsts: false,
            cors_origins: vec!["https://app.example.org".into()],
        }
    }

    #[test]
    fn html_gets_the_page_policy_and_everything_else_none() {
        assert_eq!(
            content_security_policy(Some("text/html; charset=utf-8")),
            HTML_POLICY
        );
        assert_eq!(content_security_policy(Some("TEXT/HTML")), HTML_POLICY);
        assert_eq!(
            content_security_policy(Some("application/json")),
            DEFAULT_POLICY
        );
        assert_eq!(content_security_policy(None), DEFAULT_POLICY);
        assert!(HTML_POLICY.starts_with("default-src 'none'"));
        assert!(HTML_POLICY.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn hardening_headers_are_added_and_a_handlers_own_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        SecurityHeaders::default().apply(None, &mut headers);
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "max-age=60");
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            DEFAULT_POLICY
        );
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert!(
            !headers.contains_key(header::VARY),
            "no CORS, no Vary: Origin"
        );

        let mut headers = HeaderMap::new();
        let https = SecurityHeaders {
            hsts: true,
            ..SecurityHeaders::default()
        };
        https.apply(None, &mut headers);
        assert_eq!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).unwrap(),
            HSTS
        );
    }

    #[test]
    fn only_allowed_origins_get_cors_headers() {
        let allowed = HeaderValue::from_static("https://app.example.org");
        let mut headers = HeaderMap::new();
        cors().apply(Some(&allowed), &mut headers);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "https://app.example.org"
        );
        assert_eq!(headers.get(header::VARY).unwrap(), "Origin");

        let other = HeaderValue::from_static("https://evil.example.org");
        let mut headers = HeaderMap::new();
        cors().apply(Some(&other), &mut headers);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

        let mut headers = HeaderMap::new();
        SecurityHeaders::default().apply(Some(&allowed), &mut headers);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn preflights_are_answered_for_allowed_origins_only() {
        let preflight = |origin: &str| {
            TestRequest::default()
                .method(Method::OPTIONS)
                .insert_header((header::ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
                .to_http_request()
        };
        let answer = cors()
            .preflight(&preflight("https://app.example.org"))
            .unwrap();
        assert_eq!(answer.status(), 204);
        assert_eq!(
            answer
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .unwrap(),
            "https://app.example.org"
        );
        assert!(answer
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS));
        assert!(cors()
            .preflight(&preflight("https://evil.example.org"))
            .is_none());
        assert!(SecurityHeaders::default()
            .preflight(&preflight("https://app.example.org"))
            .is_none());
        let plain_options = TestRequest::default()
            .method(Method::OPTIONS)
            .insert_header((header::ORIGIN, "https://app.example.org"))
            .to_http_request();
        assert!(cors().preflight(&plain_options).is_none());
    }
}
