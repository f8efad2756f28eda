//! Injected faults: the dice that decide them (seedable for reproducible runs), the 5xx answers
//! Jira and its edge give under trouble, and dropped connections.

use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// The fault dice. Unseeded they use the thread-local generator (no lock); with a seed they use
/// one shared generator, so a sequential run replays the same faults.
#[derive(Debug, Default)]
pub struct Dice {
    seeded: Mutex<Option<(u64, StdRng)>>,
}

impl Dice {
    /// True with probability `rate` (clamped to 0.0-1.0). A rate of 0 never rolls.
    pub fn roll(&self, rate: f64, seed: Option<u64>) -> bool {
        if rate <= 0.0 || rate.is_nan() {
            return false;
        }
        let rate = rate.min(1.0);
        self.with_rng(seed, |rng| rng.random_bool(rate))
    }

    /// A uniformly chosen index below `n` (`n` > 0).
    pub fn pick(&self, n: usize, seed: Option<u64>) -> usize {
        self.with_rng(seed, |rng| rng.random_range(0..n.max(1)))
    }

    fn with_rng<T>(&self, seed: Option<u64>, f: impl FnOnce(&mut dyn rand::RngCore) -> T) -> T {
        match seed {
            None => f(&mut rand::rng()),
            Some(seed) => {
                let mut guard = self.seeded.lock();
                // A new seed (or the first roll) restarts the sequence.
                if guard.as_ref().is_none_or(|(current, _)| *current != seed) {
                    *guard = Some((seed, StdRng::seed_from_u64(seed)));
                }
                match guard.as_mut() {
                    Some((_, rng)) => f(rng),
                    None => f(&mut rand::rng()),
                }
            }
        }
    }

    /// Restarts a seeded sequence from its seed (admin reset).
    pub fn clear(&self) {
        *self.seeded.lock() = None;
    }
}

/// One of the server errors a busy Jira Cloud answers with: 500 from Jira itself, 502/504 from
/// the edge proxy in front of it (HTML, not JSON: clients must not assume a JSON error body), and
/// 503, sometimes with `Retry-After`.
pub fn server_error(which: usize, retry_after_secs: u64) -> Response {
    match which % 5 {
        0 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({
                "errorMessages": ["Internal server error"],
                "errors": {},
            })),
        )
            .into_response(),
        1 => edge_page(StatusCode::BAD_GATEWAY),
        2 => edge_page(StatusCode::GATEWAY_TIMEOUT),
        3 => unavailable(None),
        _ => unavailable(Some(retry_after_secs.max(1))),
    }
}

fn unavailable(retry_after: Option<u64>) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({
            "errorMessages": ["Service Unavailable"],
            "errors": {},
        })),
    )
        .into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn edge_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1></body></html>\n",
        code = status.as_u16()
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

/// A response that makes the server abort the connection before anything reaches the client:
/// its body fails on the first read, and hyper closes the connection instead of completing the
/// message (the head is still in the write buffer, so nothing is sent).
pub fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response.extensions_mut().insert(DroppedConnection);
    response
}

/// Marks a [`dropped_connection`] response, so in-process callers (tests) can tell it apart.
#[derive(Debug, Clone, Copy)]
pub struct DroppedConnection;

/// A cut armed by a test: the next `times` successful responses to requests whose Jira path
/// starts with `path_prefix` send their headers (with the full `Content-Length`) and the first
/// `after_bytes` bytes of their body, then the connection drops: a download broken off midway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyCut {
    /// Jira path prefix, e.g. `/rest/api/3/attachment/content/`.
    pub path_prefix: String,
    /// Body bytes sent before the connection drops.
    pub after_bytes: u64,
    /// How many responses to cut.
    pub times: u32,
}

/// The armed [`BodyCut`], if any. In-process only (tests), not a `Settings` knob.
#[derive(Debug, Default)]
pub struct BodyCuts {
    armed: Mutex<Option<BodyCut>>,
}

impl BodyCuts {
    /// Arms a cut, replacing any armed one.
    pub fn arm(&self, cut: BodyCut) {
        *self.armed.lock() = Some(cut);
    }

    /// Disarms it.
    pub fn disarm(&self) {
        *self.armed.lock() = None;
    }

    /// For a request to `path`: the bytes to let through if a cut applies (counting it).
    pub(crate) fn take(&self, path: &str) -> Option<u64> {
        let mut guard = self.armed.lock();
        let cut = guard.as_mut()?;
        if cut.times == 0 || !path.starts_with(&cut.path_prefix) {
            return None;
        }
        cut.times -= 1;
        let after = cut.after_bytes;
        if cut.times == 0 {
            *guard = None;
        }
        Some(after)
    }
}

/// Lets `after` bytes of the response body through, then fails the body so hyper aborts the
/// connection. `Content-Length` keeps announcing the whole body, so the client sees a short read
/// rather than a complete shorter file.
pub fn cut_body(response: Response, after: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(len) = body.size_hint().exact() {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    let data = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other))
        .boxed();
    let cut =
        futures_util::stream::unfold((data, after, false), |(mut data, left, done)| async move {
            if done {
                return None;
            }
            match data.next().await {
                None => None,
                Some(Err(e)) => Some((Err(e), (data, left, true))),
                Some(Ok(_)) if left == 0 => {
                    // Give hyper time to flush the head and the bytes let through; failing at once
                    // would drop them unsent, and the client would see a dropped connection (which it
                    // retries) instead of a short body.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    let aborted = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "simulated connection drop mid-body",
                    );
                    Some((Err(aborted), (data, 0, true)))
                }
                Some(Ok(chunk)) if (chunk.len() as u64) <= left => {
                    let left = left - chunk.len() as u64;
                    Some((Ok(chunk), (data, left, false)))
                }
                Some(Ok(chunk)) => {
                    // Send the allowed head; the tail comes back as the next chunk and trips the cut.
                    let take = usize::try_from(left).unwrap_or(chunk.len());
                    let tail = chunk.slice(take..);
                    let resumed = futures_util::stream::once(async move { Ok(tail) })
                        .chain(data)
                        .boxed();
                    Some((Ok(chunk.slice(..take)), (resumed, 0, false)))
                }
            }
        });
    Response::from_parts(parts, Body::from_stream(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_rolls() {
        let dice = Dice::default();
        let first: Vec<bool> = (0..32).map(|_| dice.roll(0.5, Some(7))).collect();
        dice.clear();
        let second: Vec<bool> = (0..32).map(|_| dice.roll(0.5, Some(7))).collect();
        assert_eq!(first, second);
        assert!(first.iter().any(|b| *b) && first.iter().any(|b| !*b));
    }

    #[test]
    fn a_body_cut_applies_to_matching_paths_the_armed_number_of_times() {
        let cuts = BodyCuts::default();
        assert_eq!(cuts.take("/rest/api/3/attachment/content/1"), None);
        cuts.arm(BodyCut {
            path_prefix: "/rest/api/3/attachment/content/".to_owned(),
            after_bytes: 10,
            times: 2,
        });
        assert_eq!(cuts.take("/rest/api/3/issue/DEMO-1"), None);
        assert_eq!(cuts.take("/rest/api/3/attachment/content/1"), Some(10));
        assert_eq!(cuts.take("/rest/api/3/attachment/content/2"), Some(10));
        assert_eq!(cuts.take("/rest/api/3/attachment/content/3"), None);
    }

    #[test]
    fn zero_and_one_are_certain() {
        let dice = Dice::default();
        assert!((0..100).all(|_| !dice.roll(0.0, None)));
        assert!((0..100).all(|_| dice.roll(1.0, None)));
        assert!((0..100).all(|_| dice.roll(7.0, Some(1))));
    }

    #[test]
    fn server_errors_cover_500_to_504() {
        let statuses: Vec<u16> = (0..5)
            .map(|i| server_error(i, 3).status().as_u16())
            .collect();
        assert_eq!(statuses, [500, 502, 504, 503, 503]);
        assert_eq!(
            server_error(4, 3).headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(3u64))
        );
    }
}
