//! Bounded retries with backoff for API calls that fail for passing reasons. Two layers:
//! - [`HttpRetry`] sits in the kube client's HTTP stack, below every call (discovery, gets, lists, watches): a
//!   429/5xx answer or a connection dropped mid-request is tried again there, so one flaky request never
//!   fails a discovery of forty.
//! - [`retry`] wraps one API call (5xx, 429, 409 on apply, dropped connections) for what the HTTP layer
//!   leaves: a create, or a server that stays away a little longer. Anything else fails at once.

use hyper::{Method, Request, Response};
use kube::client::Body;
use std::future::Future;
use std::time::Duration;

/// How many attempts an API call gets in all.
pub const ATTEMPTS: u32 = 8;

/// How many attempts one HTTP request gets in the client's stack.
pub const HTTP_ATTEMPTS: u32 = 4;

/// Whether an error is worth another try.
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 409 | 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        kube::Error::ReadEvents(_) => true,
        // A dropped connection can also surface as a body that fails to parse.
        kube::Error::SerdeError(_) => true,
        _ => false,
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(5));
    let jitter = rand::random::<u64>() % 50;
    Duration::from_millis(base.min(2_000) + jitter)
}

/// Run `f` until it succeeds, fails for good, or runs out of attempts.
pub async fn retry<T, F, Fut>(what: &str, mut f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt + 1 < ATTEMPTS && is_transient(&e) => {
                tracing::debug!("{what}: transient error (attempt {}): {e}", attempt + 1);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The HTTP-level retry policy (a `tower::retry::Policy`). Retried: 429 and 503 (the server did not act on
/// the request) for every method; 500, 502, 504 and a connection dropped before the answer for every method
/// but POST (a create is not idempotent; the call-level [`retry`] sees its 409). Not retried here: a server
/// that refuses connections or does not answer in time, so a lost server is reported at once.
#[derive(Clone, Default)]
pub struct HttpRetry {
    attempt: u32,
}

/// `true` when the request never got an answer because the connection went away (not: no connection).
fn dropped(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = src {
        if let Some(h) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
            if h.is_connect() {
                return false;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::ConnectionRefused
            ) {
                return false;
            }
        }
        src = err.source();
    }
    true
}

impl<B> tower::retry::Policy<Request<Body>, Response<B>, tower::BoxError> for HttpRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, tower::BoxError>,
    ) -> Option<Self::Future> {
        if self.attempt + 1 >= HTTP_ATTEMPTS {
            return None;
        }
        let idempotent = req.method() != Method::POST;
        let wait = match result {
            Ok(r) => {
                let code = r.status().as_u16();
                let again = matches!(code, 429 | 503) || (idempotent && matches!(code, 500 | 502 | 504));
                if !again {
                    return None;
                }
                let after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(5)));
                tracing::debug!("{} {}: HTTP {code}, trying again", req.method(), req.uri().path());
                after.unwrap_or_else(|| backoff(self.attempt))
            }
            Err(e) if idempotent && dropped(e.as_ref()) => {
                tracing::debug!("{} {}: {e}, trying again", req.method(), req.uri().path());
                backoff(self.attempt)
            }
            Err(_) => return None,
        };
        self.attempt += 1;
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        let body = req.body().try_clone()?;
        let mut out = Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone())
            .version(req.version())
            .body(body)
            .ok()?;
        *out.headers_mut() = req.headers().clone();
        *out.extensions_mut() = req.extensions().clone();
        Some(out)
    }
}
