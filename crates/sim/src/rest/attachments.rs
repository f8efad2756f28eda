//! REST v3 endpoints: attachments (upload, settings, metadata, delete, content).
//!
//! Uploads are `multipart/form-data` guarded by Jira's XSRF rule (`X-Atlassian-Token: no-check`),
//! read part by part and refused with 413 as soon as a file passes the site's upload limit, so an
//! oversized upload is never buffered. File names come from the part's `Content-Disposition`,
//! parsed here rather than by the multipart reader: clients send raw UTF-8 in `filename="..."`
//! (reqwest, Python requests, browsers) or RFC 5987 `filename*=UTF-8''...`, and both must
//! round-trip byte for byte. Content downloads redirect (303) to a signed URL on the media origin
//! ([`crate::media`]) unless `redirect=false` asks for the bytes directly.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::events::IssueEventKind;
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::rest::params::Params;
use crate::rest::render;
use crate::state::SimState;
use crate::world::{Attachment, ChangeHistory, ChangeItem, Site};

/// Most files one upload request may carry (Jira Cloud: 60).
pub const MAX_FILES_PER_REQUEST: usize = 60;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route(
            "/issue/{issueIdOrKey}/attachments",
            // The handler enforces the site's own (much larger) upload limit while streaming.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/attachment/meta", get(meta))
        .route("/attachment/{id}", get(metadata).delete(remove))
        .route("/attachment/content/{id}", get(content))
}

fn attachment_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("The attachment with id '{id}' does not exist"))
}

fn disabled() -> ApiError {
    ApiError::not_found("Attachments are disabled.")
}

/// `GET /attachment/meta`: `AttachmentSettings`.
async fn meta(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let settings = &issue_site_of(&world, &caller)?.jira.settings;
    Ok(Json(json!({
        "enabled": settings.attachments_enabled,
        "uploadLimit": settings.attachment_upload_limit,
    })))
}

/// Finds attachment `id` on an issue the caller may browse; missing, hidden and (with
/// attachments disabled) every attachment answer 404.
fn visible_attachment<'s>(site: &'s Site, caller: &Caller, id: &str) -> ApiResult<&'s Attachment> {
    if !site.jira.settings.attachments_enabled {
        return Err(disabled());
    }
    let attachment = id
        .parse::<u64>()
        .ok()
        .and_then(|n| site.jira.attachments.get(&n))
        .ok_or_else(|| attachment_not_found(id))?;
    let visible = site
        .jira
        .issues
        .get(&attachment.issue_id)
        .is_some_and(|issue| Viewer::from(caller).can_see_issue(site, issue));
    if visible {
        Ok(attachment)
    } else {
        Err(attachment_not_found(id))
    }
}

/// `GET /attachment/{id}`: `AttachmentMetadata` (numeric id, full `User` author, `properties`).
async fn metadata(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let attachment = visible_attachment(site, &caller, &id)?;
    let mut body = render::attachment(&world, site, attachment);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".to_owned(), json!(attachment.id));
        let author = world
            .user(&attachment.author)
            .map_or(Value::Null, |u| render::user(site, u));
        obj.insert("author".to_owned(), author);
        obj.insert("properties".to_owned(), json!({}));
    }
    Ok(Json(body))
}

/// `DELETE /attachment/{id}`: the author ("Delete own attachments") or a project/Jira admin
/// ("Delete all attachments"). Bumps `updated` and records the removal in the changelog.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    let attachment = visible_attachment(site, &caller, &id)?.clone();
    let administers = site
        .jira
        .issues
        .get(&attachment.issue_id)
        .and_then(|i| site.jira.projects.get(&i.project_id))
        .is_some_and(|p| Viewer::from(&caller).administers_project(p));
    if attachment.author != caller.account_id && !administers {
        return Err(ApiError::forbidden(format!(
            "You do not have permission to delete attachment with id '{id}'."
        )));
    }
    let history_id = world.allocate_id();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    site.jira.attachments.remove(&attachment.id);
    site.jira.attachment_content.remove(&attachment.id);
    let Some(issue) = site.jira.issues.get_mut(&attachment.issue_id) else {
        return Ok(StatusCode::NO_CONTENT);
    };
    issue.attachment_ids.retain(|a| *a != attachment.id);
    issue.updated = now;
    let changelog = ChangeHistory {
        id: history_id,
        author: caller.account_id.clone(),
        created: now,
        items: vec![attachment_item(
            Some((attachment.id, &attachment.filename)),
            None,
        )],
    };
    issue.changelog.push(changelog.clone());
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(snapshot, IssueEventKind::Updated { changelog }, now),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A changelog item for an attachment added (`to`) or removed (`from`).
fn attachment_item(from: Option<(u64, &str)>, to: Option<(u64, &str)>) -> ChangeItem {
    ChangeItem {
        field: "Attachment".to_owned(),
        field_id: "attachment".to_owned(),
        field_type: "jira".to_owned(),
        from: from.map(|(id, _)| id.to_string()),
        from_string: from.map(|(_, name)| name.to_owned()),
        to: to.map(|(id, _)| id.to_string()),
        to_string: to.map(|(_, name)| name.to_owned()),
    }
}

/// `GET /attachment/content/{id}?redirect=true|false`, with `Range` support.
async fn content(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require_scope("read:jira-work")?;
    let redirect = Params::parse(query.as_deref()).bool("redirect", true)?;
    let (attachment_id, filename, mime, bytes) = {
        let world = state.world.read();
        let site = issue_site_of(&world, &caller)?;
        let a = visible_attachment(site, &caller, &id)?;
        let bytes = site
            .jira
            .attachment_content
            .get(&a.id)
            .cloned()
            .ok_or_else(|| attachment_not_found(&id))?;
        (a.id, a.filename.clone(), a.mime_type.clone(), bytes)
    };
    if redirect {
        let url = crate::media::signed_url(&state, &caller.cloud_id, attachment_id, &filename);
        let location =
            HeaderValue::from_str(&url).map_err(|_| ApiError::bad_request("Invalid file name."))?;
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response());
    }
    match crate::media::serve(bytes, &mime, &filename, headers.get(header::RANGE)) {
        Ok(response) => Ok(response),
        Err(crate::media::MalformedRange) => Err(ApiError::bad_request(
            "The range supplied in the Range header is malformed.",
        )),
    }
}

/// One file read from the upload.
struct Upload {
    filename: String,
    mime_type: String,
    content: Bytes,
}

/// `POST /issue/{issueIdOrKey}/attachments`: 200 with a JSON array of `Attachment`.
async fn upload(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let token = request
        .headers()
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    if !matches!(token.as_deref(), Some("no-check" | "nocheck")) {
        return Err(ApiError::forbidden("XSRF check failed"));
    }
    let (limit, room) = {
        let world = state.world.read();
        let site = issue_site_of(&world, &caller)?;
        let issue = issue_or_404(site, Viewer::from(&caller), &key)?;
        let settings = &site.jira.settings;
        if !settings.attachments_enabled {
            return Err(ApiError::forbidden("Attachments are disabled."));
        }
        (
            settings.attachment_upload_limit,
            settings
                .max_attachments_per_issue
                .saturating_sub(issue.attachment_ids.len()),
        )
    };
    let uploads = read_files(request, &state, limit).await?;
    if uploads.is_empty() {
        return Err(ApiError::bad_request("No attachments were provided."));
    }
    if uploads.len() > room {
        return Err(ApiError::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The per-issue limit for attachments has been breached.",
        ));
    }
    store(&state, &caller, &key, uploads)
}

fn too_large(limit: u64) -> ApiError {
    ApiError::message(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The attachment exceeds the maximum attachment size of {limit} bytes."),
    )
}

/// Reads the `file` parts, stopping with 413 at the first file over `limit` or past
/// [`MAX_FILES_PER_REQUEST`] files. Other parts are skipped unread, as Jira ignores them.
async fn read_files(request: Request, state: &SimState, limit: u64) -> ApiResult<Vec<Upload>> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|rejection| ApiError::message(rejection.status(), rejection.body_text()))?;
    let malformed =
        |e: axum::extract::multipart::MultipartError| ApiError::message(e.status(), e.body_text());
    let mut uploads = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let disposition = field
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .map(|v| parse_disposition(v.as_bytes()))
            .unwrap_or_default();
        if disposition.name.as_deref() != Some("file") {
            continue;
        }
        // A `file` part without a name is a form field, not a file (an empty file input).
        let Some(filename) = disposition.filename.filter(|f| !f.is_empty()) else {
            continue;
        };
        if uploads.len() == MAX_FILES_PER_REQUEST {
            return Err(ApiError::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("You can upload at most {MAX_FILES_PER_REQUEST} files at a time."),
            ));
        }
        let declared = field
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty() && v != "application/octet-stream");
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            chunks.push(chunk);
        }
        // One chunk is kept as is; several are joined once.
        let content = if chunks.len() == 1 {
            chunks.pop().unwrap_or_default()
        } else {
            let mut joined = BytesMut::with_capacity(usize::try_from(size).unwrap_or(0));
            for chunk in &chunks {
                joined.extend_from_slice(chunk);
            }
            joined.freeze()
        };
        let mime_type = declared.unwrap_or_else(|| mime_from_extension(&filename).to_owned());
        uploads.push(Upload {
            filename,
            mime_type,
            content,
        });
    }
    Ok(uploads)
}

/// Saves the files on the issue: one changelog entry with an item per file, `updated` bumped, one
/// `jira:issue_updated` event.
fn store(
    state: &SimState,
    caller: &Caller,
    key: &str,
    uploads: Vec<Upload>,
) -> ApiResult<Response> {
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    // The issue may have gone (or moved out of sight) while the body was read.
    let issue_id = issue_or_404(issue_site_of(world, caller)?, Viewer::from(caller), key)?.id;
    let ids: Vec<u64> = uploads.iter().map(|_| world.allocate_id()).collect();
    let history_id = world.allocate_id();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let mut items = Vec::new();
    for (id, upload) in ids.iter().copied().zip(uploads) {
        items.push(attachment_item(None, Some((id, &upload.filename))));
        site.jira.attachments.insert(
            id,
            Attachment {
                id,
                issue_id,
                filename: upload.filename,
                mime_type: upload.mime_type,
                size: upload.content.len() as u64,
                created: now,
                author: caller.account_id.clone(),
            },
        );
        site.jira.attachment_content.insert(id, upload.content);
    }
    let issue = site
        .jira
        .issues
        .get_mut(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    issue.attachment_ids.extend(ids.iter().copied());
    issue.updated = now;
    let changelog = ChangeHistory {
        id: history_id,
        author: caller.account_id.clone(),
        created: now,
        items,
    };
    issue.changelog.push(changelog.clone());
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(snapshot, IssueEventKind::Updated { changelog }, now),
    );
    let site = issue_site_of(world, caller)?;
    let body: Vec<Value> = ids
        .iter()
        .filter_map(|id| site.jira.attachments.get(id))
        .map(|a| render::attachment(world, site, a))
        .collect();
    Ok((StatusCode::OK, Json(Value::Array(body))).into_response())
}

/// The parameters of a part's `Content-Disposition` that matter here.
#[derive(Debug, Default, PartialEq, Eq)]
struct Disposition {
    name: Option<String>,
    filename: Option<String>,
}

/// Parses `form-data; name="file"; filename="..."; filename*=UTF-8''...`. Quoted values may hold
/// raw UTF-8 and backslash escapes (`\"`, `\\`, as reqwest writes them); `filename*` (RFC 5987)
/// wins over `filename` when both are present, as RFC 6266 says.
fn parse_disposition(raw: &[u8]) -> Disposition {
    let text = String::from_utf8_lossy(raw);
    let mut out = Disposition::default();
    let mut extended: Option<String> = None;
    let mut rest = text.as_ref();
    // Skip the disposition type (`form-data`).
    match rest.find(';') {
        Some(i) => rest = &rest[i + 1..],
        None => return out,
    }
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let Some(eq) = rest.find('=') else {
            break;
        };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            v.push(next);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    other => v.push(other),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        match key.as_str() {
            "name" => out.name = Some(value),
            "filename" => out.filename = Some(value),
            "filename*" => extended = decode_ext_value(&value),
            _ => {}
        }
    }
    if extended.is_some() {
        out.filename = extended;
    }
    out
}

/// Decodes an RFC 5987 `ext-value` (`UTF-8'lang'percent-encoded`). Only UTF-8 is accepted (ISO
/// 8859-1 values are decoded byte by byte as Latin-1).
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.to_ascii_lowercase();
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes = percent_decode(encoded)?;
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A media type for a file name's extension, for parts sent without a useful `Content-Type`.
fn mime_from_extension(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "md" => "text/markdown",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_utf8_and_escaped_quotes_in_filename_round_trip() {
        let d = parse_disposition(
            "form-data; name=\"file\"; filename=\"\u{65e5}\u{672c} \\\"q\\\" \u{1f600}.txt\""
                .as_bytes(),
        );
        assert_eq!(d.name.as_deref(), Some("file"));
        assert_eq!(
            d.filename.as_deref(),
            Some("\u{65e5}\u{672c} \"q\" \u{1f600}.txt")
        );
    }

    #[test]
    fn the_extended_filename_wins_over_the_plain_one() {
        let d = parse_disposition(
            b"form-data; name=file; filename=\"fallback.txt\"; filename*=UTF-8''na%C3%AFve%20file.txt",
        );
        assert_eq!(d.name.as_deref(), Some("file"));
        assert_eq!(d.filename.as_deref(), Some("na\u{ef}ve file.txt"));
    }

    #[test]
    fn a_semicolon_inside_quotes_does_not_end_the_value() {
        let d = parse_disposition(b"form-data; filename=\"a;b.txt\"; name=\"file\"");
        assert_eq!(d.filename.as_deref(), Some("a;b.txt"));
        assert_eq!(d.name.as_deref(), Some("file"));
    }

    #[test]
    fn media_types_fall_back_to_the_extension() {
        assert_eq!(mime_from_extension("x.PNG"), "image/png");
        assert_eq!(mime_from_extension("noext"), "application/octet-stream");
    }
}
