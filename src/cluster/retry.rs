//! Bounded retries with backoff for API calls that fail for passing reasons (5xx, 429, 409 on apply,
//! dropped connections). Anything else fails at once.

use std::future::Future;
use std::time::Duration;

/// How many attempts an API call gets in all.
pub const ATTEMPTS: u32 = 8;

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
