//! File objects over the API: list, show, stream the content out, stream an upload in (a raw
//! body with `?name=`, or the first file part of a `multipart/form-data` body), delete.
//!
//! Holders of `manage_integration_connections` see every file object; everyone else sees the
//! objects they uploaded. Uploads are streamed straight into the file store, which refuses them
//! past the size limit without keeping anything.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use jiraflow_files::{FileId, FileObject, FileOwner, FileQuery};
use tokio::sync::mpsc;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult};

fn may_see(user: &ApiUser, file: &FileObject) -> bool {
    user.is_admin() || file.owner == FileOwner::User(user.0.id)
}

fn parse_id(id: &str) -> ApiResult<FileId> {
    id.parse()
        .map_err(|_| ApiError::invalid(format!("{id:?} is not a file id")).at("id"))
}

async fn find(state: &AppState, user: &ApiUser, id: &str) -> ApiResult<FileObject> {
    let id = parse_id(id)?;
    match state.store().get_file(id).await? {
        Some(file) if may_see(user, &file) => Ok(file),
        // Another user's file is reported like a missing one.
        _ => Err(ApiError::not_found(format!("file {id} not found"))),
    }
}

/// `GET /files?limit=N`: newest first.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<FileObject>>> {
    let mut limit = None;
    for (key, value) in super::query_params(query.as_deref(), &["limit"])? {
        limit = Some(super::query_u32(&key, &value)?);
    }
    let owner = (!user.is_admin()).then_some(FileOwner::User(user.0.id));
    let files = state.files().list(FileQuery { owner, limit }).await?;
    Ok(Json(files))
}

/// `GET /files/{id}`.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<FileObject>> {
    Ok(Json(find(&state, &user, &id).await?))
}

/// `GET /files/{id}/content`: the bytes, streamed, with the object's media type, length, name
/// and SHA-256 (`x-checksum-sha256`).
pub async fn content(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let file = find(&state, &user, &id).await?;
    let open = state.files().open(file.id).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(&file.name),
        percent_encode(&file.name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.media_type.clone()),
            (header::CONTENT_LENGTH, open.content.len.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-checksum-sha256"),
                file.sha256.clone(),
            ),
        ],
        Body::from_stream(open.content.stream),
    )
        .into_response())
}

/// `DELETE /files/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let file = find(&state, &user, &id).await?;
    state.files().delete(file.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /files?name=NAME` with the raw bytes (media type from `Content-Type`, else detected),
/// or a `multipart/form-data` body whose first file part is stored under its file name.
/// 201 with the record.
pub async fn upload(
    State(state): State<AppState>,
    user: ApiUser,
    RawQuery(query): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    let mut name = None;
    for (_, value) in super::query_params(query.as_deref(), &["name"])? {
        name = Some(value);
    }
    let owner = FileOwner::User(user.0.id);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let object = if content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/form-data"))
    {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::invalid(format!("malformed multipart body: {e}")))?;
        upload_multipart(&state, owner, name, multipart).await?
    } else {
        let name = name.filter(|n| !n.is_empty()).ok_or_else(|| {
            ApiError::invalid("give the file's name as ?name= (or upload multipart/form-data)")
                .at("name")
        })?;
        let expected_len = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let media_type = content_type
            .filter(|t| !t.starts_with("application/octet-stream"))
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_owned());
        let stream = request
            .into_body()
            .into_data_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        state
            .files()
            .create_from_stream(&name, media_type.as_deref(), owner, stream, expected_len)
            .await?
    };
    Ok((StatusCode::CREATED, Json(object)).into_response())
}

/// Streams the first file part into the file store. The part borrows the multipart reader, so
/// its chunks are handed over through a small channel while the store consumes them.
async fn upload_multipart(
    state: &AppState,
    owner: FileOwner,
    name: Option<String>,
    mut multipart: Multipart,
) -> ApiResult<FileObject> {
    loop {
        let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::invalid(format!("malformed multipart body: {e}")))?
        else {
            return Err(ApiError::invalid("the multipart body has no file part").at("file"));
        };
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let name = name.clone().unwrap_or(file_name);
        let media_type = field
            .content_type()
            .filter(|t| !t.starts_with("application/octet-stream"))
            .map(str::to_owned);
        let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
        let produce = async move {
            loop {
                let item = match field.chunk().await {
                    Ok(Some(bytes)) => Ok(bytes),
                    Ok(None) => break,
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                };
                let failed = item.is_err();
                // The consumer stops reading on an error or over the limit; stop sending then.
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        };
        let consume = state.files().create_from_stream(
            &name,
            media_type.as_deref(),
            owner,
            receiver_stream(rx),
            None,
        );
        let ((), created) = tokio::join!(produce, consume);
        return Ok(created?);
    }
}

fn receiver_stream(
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// The name for the plain `filename=` parameter: non-ASCII and quotes replaced.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 5987 percent-encoding of the UTF-8 name.
fn percent_encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
