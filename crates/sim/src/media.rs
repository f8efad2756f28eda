//! The media origin (a second listener, so a different origin): serves attachment content at the
//! short-lived signed URLs that `attachment/content/{id}` redirects to, and the byte-serving
//! (`Range`, `Content-Disposition`) shared with `attachment/content/{id}?redirect=false`.
//!
//! Real Jira redirects downloads to Atlassian's media service on another host with a pre-signed
//! URL. Clients that follow the redirect must not (and reqwest does not) carry the Jira bearer
//! token across origins; this origin therefore answers 400 to any request that carries an
//! `Authorization` header, the way pre-signed storage URLs refuse a second auth mechanism, so a
//! client leaking its token cross-origin fails loudly instead of silently working.
//!
//! Signed URLs: `/file/{cloudId}/{attachmentId}/binary?exp={ms}&sig={hmac}&name={filename}`.
//! `exp` is on the simulated clock ([`URL_TTL_MS`] after the redirect); `sig` is HMAC-SHA256 over
//! cloud id, attachment id and expiry with a key drawn at random once per process, so URLs do not
//! survive a restart (neither do real ones past their minute).

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use crate::state::SimState;

/// How long a signed download URL stays valid, in simulated milliseconds.
pub const URL_TTL_MS: i64 = 60_000;

/// The signing key of download URLs (random per process).
static KEY: LazyLock<[u8; 32]> = LazyLock::new(rand::random);

/// Routes of the media listener.
pub fn routes() -> Router<SimState> {
    Router::new().route("/file/{cloud_id}/{attachment_id}/binary", get(download))
}

/// A signed, short-lived download URL on the media origin for attachment `attachment_id`.
pub fn signed_url(state: &SimState, cloud_id: &str, attachment_id: u64, filename: &str) -> String {
    let exp = state.clock.now_ms() + URL_TTL_MS;
    let sig = URL_SAFE_NO_PAD.encode(signature(cloud_id, attachment_id, exp));
    format!(
        "{}/file/{cloud_id}/{attachment_id}/binary?exp={exp}&sig={sig}&name={}",
        state.urls.media_url,
        percent_encode(filename)
    )
}

fn mac(cloud_id: &str, attachment_id: u64, exp: i64) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of any length, so this never fails in practice.
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_slice()).ok()?;
    mac.update(format!("{cloud_id}\n{attachment_id}\n{exp}").as_bytes());
    Some(mac)
}

fn signature(cloud_id: &str, attachment_id: u64, exp: i64) -> Vec<u8> {
    mac(cloud_id, attachment_id, exp)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

fn verify(cloud_id: &str, attachment_id: u64, exp: i64, sig: &[u8]) -> bool {
    mac(cloud_id, attachment_id, exp).is_some_and(|m| m.verify_slice(sig).is_ok())
}

#[derive(Debug, Deserialize)]
struct Signed {
    exp: Option<i64>,
    sig: Option<String>,
}

fn media_error(status: StatusCode, code: &str, title: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "code": code, "title": title } })),
    )
        .into_response()
}

/// `GET /file/{cloudId}/{attachmentId}/binary?exp&sig`: the bytes, no bearer token wanted.
async fn download(
    State(state): State<SimState>,
    Path((cloud_id, attachment_id)): Path<(String, String)>,
    Query(signed): Query<Signed>,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return media_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed: the URL is pre-signed, send no Authorization header.",
        );
    }
    let forged = || {
        media_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "Bad signature.",
        )
    };
    let (Ok(id), Some(exp), Some(sig)) = (attachment_id.parse::<u64>(), signed.exp, signed.sig)
    else {
        return forged();
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig.as_bytes()) else {
        return forged();
    };
    if !verify(&cloud_id, id, exp, &sig) {
        return forged();
    }
    if state.clock.now_ms() > exp {
        return media_error(
            StatusCode::FORBIDDEN,
            "ExpiredToken",
            "The download URL has expired.",
        );
    }
    let found = {
        let world = state.world.read();
        world.site(&cloud_id).and_then(|site| {
            let meta = site.jira.attachments.get(&id)?;
            let content = site.jira.attachment_content.get(&id)?.clone();
            Some((content, meta.mime_type.clone(), meta.filename.clone()))
        })
    };
    let Some((content, mime, filename)) = found else {
        return media_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The file does not exist.",
        );
    };
    // Range syntax errors are ignored here (RFC 9110 lets a server serve the whole file); Jira's
    // own endpoint answers them with 400 instead.
    match serve(
        content.clone(),
        &mime,
        &filename,
        headers.get(header::RANGE),
    ) {
        Ok(response) => response,
        Err(MalformedRange) => serve(content, &mime, &filename, None)
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

/// A `Range` header that could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedRange;

/// A requested byte range, resolved against the content length.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Serve bytes `start..=end`.
    Bytes(u64, u64),
    /// Nothing in the content satisfies the range.
    Unsatisfiable,
}

/// Parses a single `bytes=` range (`a-b`, `a-`, `-n`) against `size`. `None` when malformed or
/// when several ranges are asked for (multipart ranges are not served; the caller falls back).
fn parse_range(value: &str, size: u64) -> Option<Range> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        if !digits(last) {
            return None;
        }
        let n: u64 = last.parse().ok()?;
        if n == 0 || size == 0 {
            return Some(Range::Unsatisfiable);
        }
        return Some(Range::Bytes(size.saturating_sub(n), size - 1));
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return None;
    }
    let start: u64 = first.parse().ok()?;
    let end: Option<u64> = if last.is_empty() {
        None
    } else {
        Some(last.parse().ok()?)
    };
    if end.is_some_and(|e| e < start) {
        return None;
    }
    if start >= size {
        return Some(Range::Unsatisfiable);
    }
    Some(Range::Bytes(
        start,
        end.map_or(size - 1, |e| e.min(size - 1)),
    ))
}

/// Serves `content` (200, or 206/416 for a `Range`), with `Content-Type`, `Content-Length` and an
/// RFC 6266 `Content-Disposition` carrying the UTF-8 name as `filename*`. The body is a slice of
/// the stored bytes, not a copy. A malformed `Range` yields `Err`, so each caller decides between
/// serving the whole content and answering 400.
pub fn serve(
    content: Bytes,
    mime: &str,
    filename: &str,
    range: Option<&HeaderValue>,
) -> Result<Response, MalformedRange> {
    let size = content.len() as u64;
    let headers = |response: &mut Response| {
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(mime)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if let Ok(value) = HeaderValue::from_str(&content_disposition(filename)) {
            h.insert(header::CONTENT_DISPOSITION, value);
        }
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    };
    let full = |content: Bytes| {
        let mut response = Response::new(Body::from(content));
        headers(&mut response);
        response
    };
    let Some(range) = range else {
        return Ok(full(content));
    };
    let parsed = range.to_str().ok().and_then(|r| parse_range(r, size));
    match parsed {
        None => Err(MalformedRange),
        Some(Range::Unsatisfiable) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Ok(response)
        }
        Some(Range::Bytes(start, end)) => {
            // Both bounds are within `size`, which came from `content.len()`.
            let part = content.slice(start as usize..=end as usize);
            let mut response = Response::new(Body::from(part));
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            headers(&mut response);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Ok(response)
        }
    }
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 and
/// RFC 5987): old clients read the fallback, every current one the exact UTF-8 name.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode(filename)
    )
}

/// Percent-encodes everything but RFC 5987 `attr-char`s.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_of_every_form_resolve_against_the_size() {
        assert_eq!(parse_range("bytes=0-3", 10), Some(Range::Bytes(0, 3)));
        assert_eq!(parse_range("bytes=4-", 10), Some(Range::Bytes(4, 9)));
        assert_eq!(parse_range("bytes=-3", 10), Some(Range::Bytes(7, 9)));
        assert_eq!(parse_range("bytes=-30", 10), Some(Range::Bytes(0, 9)));
        assert_eq!(parse_range("bytes=5-100", 10), Some(Range::Bytes(5, 9)));
    }

    #[test]
    fn ranges_beyond_the_content_are_unsatisfiable_and_garbage_is_malformed() {
        assert_eq!(parse_range("bytes=10-", 10), Some(Range::Unsatisfiable));
        assert_eq!(parse_range("bytes=0-0", 0), Some(Range::Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 10), Some(Range::Unsatisfiable));
        assert_eq!(parse_range("bytes=5-2", 10), None);
        assert_eq!(parse_range("bytes=a-b", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
    }

    #[test]
    fn content_disposition_keeps_the_utf8_name_exactly() {
        assert_eq!(
            content_disposition("r\u{e9}sum\u{e9} \"1\".txt"),
            "attachment; filename=\"r_sum_ _1_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.txt"
        );
    }
}
