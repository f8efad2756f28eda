//! Attachments: upload as a streamed multipart form (never buffered whole), metadata, the site's
//! upload settings, content download as a byte stream, and delete.
//!
//! Uploads check `GET /attachment/meta` first and fail before sending a byte when a file is over
//! the site's limit (Jira would read the whole body and then answer 413). The file name travels
//! raw UTF-8 in `filename="..."` with `\` and `"` escaped, which is how reqwest writes it and
//! what Jira (and the simulator) decode; names with control characters are refused because they
//! cannot be carried in a header. Downloads default to `redirect=false` so the bytes come from
//! the API host itself; with [`GetContent::follow_redirect`] the hop to the media host is
//! followed and the client's redirect handling drops the bearer token on any change of origin.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use parking_lot::Mutex;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderValue, RANGE};
use reqwest::multipart::{Form, Part};
use reqwest::{Body, StatusCode};
use tokio::io::AsyncReadExt;

use crate::client::{ApiRequest, Idempotency, JiraClient, RequestBody};
use crate::error::{Error, Result, TransportKind};
use crate::ids::{AttachmentId, IssueRef};
use crate::wire::attachment::{Attachment, AttachmentSettings};

/// Most files Jira accepts in one upload request.
pub const MAX_FILES_PER_REQUEST: usize = 60;

/// Chunk size when streaming a file from disk.
const READ_CHUNK: usize = 64 * 1024;

/// A stream of file bytes.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

type Opener = Arc<dyn Fn() -> Result<ByteStream> + Send + Sync>;

/// A file to upload: its name, exact length and a way to open its bytes as a stream. The bytes
/// are opened again for each attempt, so a request refused with 429 can be sent again (except
/// for [`from_stream`](Self::from_stream), which can be read only once).
#[derive(Clone)]
pub struct AttachmentFile {
    name: String,
    len: u64,
    mime: Option<String>,
    open: Opener,
}

impl std::fmt::Debug for AttachmentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentFile")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("mime", &self.mime)
            .finish_non_exhaustive()
    }
}

impl AttachmentFile {
    /// A file from bytes in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes: Bytes = bytes.into();
        let len = bytes.len() as u64;
        Self::from_opener(name, len, move || {
            let bytes = bytes.clone();
            Ok(futures_util::stream::once(async move { Ok(bytes) }).boxed())
        })
    }

    /// A file on disk, read in chunks while sending; named after the path's last component.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the file's metadata cannot be read or it has no name.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let len = tokio::fs::metadata(&path)
            .await
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?
            .len();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::InvalidInput(format!("{}: no UTF-8 file name", path.display())))?
            .to_owned();
        Ok(Self::from_opener(name, len, move || {
            let file = std::fs::File::open(&path)
                .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
            Ok(file_stream(tokio::fs::File::from_std(file)))
        }))
    }

    /// A file whose bytes `open` streams, once per attempt; `len` must be its exact length.
    pub fn from_opener(
        name: impl Into<String>,
        len: u64,
        open: impl Fn() -> Result<ByteStream> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            len,
            mime: None,
            open: Arc::new(open),
        }
    }

    /// A file from a stream that can be read only once; `len` must be its exact length. A
    /// retry after a 429 fails with [`Error::InvalidInput`], as the bytes are gone.
    pub fn from_stream<S>(name: impl Into<String>, len: u64, stream: S) -> Self
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        let slot: Mutex<Option<ByteStream>> = Mutex::new(Some(stream.boxed()));
        Self::from_opener(name, len, move || {
            slot.lock().take().ok_or_else(|| {
                Error::InvalidInput(
                    "the upload stream was already consumed; it cannot be resent".into(),
                )
            })
        })
    }

    /// Sets the media type (default: Jira guesses from the name).
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime = Some(mime.into());
        self
    }

    /// Renames the file.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check_name(&self) -> Result<()> {
        if self.name.is_empty() || self.name.chars().any(char::is_control) {
            return Err(Error::InvalidInput(format!(
                "attachment name {:?} must be non-empty and free of control characters",
                self.name
            )));
        }
        Ok(())
    }

    fn part(&self) -> Result<Part> {
        let stream = ExactLength {
            inner: (self.open)()?,
            expected: self.len,
            seen: 0,
        };
        let part = Part::stream_with_length(Body::wrap_stream(stream), self.len)
            .file_name(self.name.clone());
        match &self.mime {
            Some(mime) => part
                .mime_str(mime)
                .map_err(|e| Error::InvalidInput(format!("media type {mime:?}: {e}"))),
            None => Ok(part),
        }
    }
}

fn file_stream(file: tokio::fs::File) -> ByteStream {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
    .boxed()
}

/// Fails a stream that yields more or fewer bytes than announced: the multipart length was
/// already sent, and a mismatch would corrupt the form instead of failing cleanly.
struct ExactLength {
    inner: ByteStream,
    expected: u64,
    seen: u64,
}

impl Stream for ExactLength {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.expected {
                    return Poll::Ready(Some(Err(length_error(self.expected, self.seen))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) if self.seen != self.expected => {
                let error = length_error(self.expected, self.seen);
                self.seen = self.expected;
                Poll::Ready(Some(Err(error)))
            }
            other => other,
        }
    }
}

fn length_error(expected: u64, seen: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("upload announced {expected} bytes but the stream gave {seen}"),
    )
}

/// Attachment operations: `client.attachments()`.
#[derive(Debug, Clone, Copy)]
pub struct Attachments<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Attachment operations.
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { client: self }
    }
}

impl<'c> Attachments<'c> {
    /// `POST /issue/{issue}/attachments` with one file (add more with [`AddAttachments::file`]).
    pub fn add(self, issue: impl Into<IssueRef>, file: AttachmentFile) -> AddAttachments<'c> {
        AddAttachments {
            client: self.client,
            issue: issue.into(),
            files: vec![file],
            check_limit: true,
        }
    }

    /// `GET /attachment/meta`: whether attachments are enabled and the upload limit.
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn settings(self) -> Result<AttachmentSettings> {
        self.client
            .send(ApiRequest::get("/attachment/meta"))
            .await?
            .json()
    }

    /// `GET /attachment/{id}`: name, media type, size, author.
    ///
    /// # Errors
    /// 404 for a missing or hidden attachment, or when attachments are disabled.
    pub async fn metadata(self, id: impl Into<AttachmentId>) -> Result<Attachment> {
        let request = ApiRequest::get("/attachment/{id}").param(id.into());
        self.client.send(request).await?.json()
    }

    /// `GET /attachment/content/{id}`: the bytes, as a stream.
    pub fn content(self, id: impl Into<AttachmentId>) -> GetContent<'c> {
        GetContent {
            client: self.client,
            id: id.into(),
            range: None,
            follow_redirect: false,
            max_bytes: None,
        }
    }

    /// `DELETE /attachment/{id}`.
    ///
    /// # Errors
    /// 403 without permission to delete it; 404 for a missing or hidden attachment.
    pub async fn delete(self, id: impl Into<AttachmentId>) -> Result<()> {
        let request = ApiRequest::delete("/attachment/{id}").param(id.into());
        self.client.send(request).await?;
        Ok(())
    }
}

/// `POST /issue/{issue}/attachments`.
#[must_use]
#[derive(Debug, Clone)]
pub struct AddAttachments<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    files: Vec<AttachmentFile>,
    check_limit: bool,
}

impl AddAttachments<'_> {
    /// Adds another file to the same request (at most 60).
    pub fn file(mut self, file: AttachmentFile) -> Self {
        self.files.push(file);
        self
    }

    /// Skips the `GET /attachment/meta` preflight (the server still enforces its limit).
    pub fn skip_limit_check(mut self) -> Self {
        self.check_limit = false;
        self
    }

    /// The upload request (without the preflight).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, no files or more than 60.
    pub fn request(&self) -> Result<ApiRequest> {
        if self.files.is_empty() || self.files.len() > MAX_FILES_PER_REQUEST {
            return Err(Error::InvalidInput(format!(
                "an upload carries 1 to {MAX_FILES_PER_REQUEST} files, not {}",
                self.files.len()
            )));
        }
        for file in &self.files {
            file.check_name()?;
        }
        let files = self.files.clone();
        let factory = Arc::new(move || {
            files.iter().try_fold(
                Form::new(),
                |form, file| Ok(form.part("file", file.part()?)),
            )
        });
        // Never repeated after an ambiguous failure: a second upload would attach twice.
        Ok(ApiRequest::post("/issue/{issueIdOrKey}/attachments")
            .param(&self.issue)
            .issue_scope(self.issue.clone())
            .idempotency(Idempotency::Never)
            .body(RequestBody::Multipart(factory)))
    }

    async fn preflight(&self) -> Result<()> {
        let settings = Attachments {
            client: self.client,
        }
        .settings()
        .await?;
        if !settings.enabled {
            return Err(Error::InvalidInput(
                "attachments are disabled on this Jira site".into(),
            ));
        }
        if let Some(limit) = settings.upload_limit
            && let Some(file) = self.files.iter().find(|f| f.len > limit)
        {
            return Err(Error::InvalidInput(format!(
                "attachment {:?} is {} bytes; the site's upload limit is {limit} bytes",
                file.name, file.len
            )));
        }
        Ok(())
    }

    /// Checks the site's limit (unless skipped), then uploads.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a file over the limit or disabled attachments; 403 without
    /// permission; 404 for a hidden issue; 413 over a limit the preflight did not see.
    pub async fn send(self) -> Result<Vec<Attachment>> {
        let request = self.request()?;
        if self.check_limit {
            self.preflight().await?;
        }
        self.client.send(request).await?.json()
    }
}

/// `GET /attachment/content/{id}`.
#[must_use]
#[derive(Debug, Clone)]
pub struct GetContent<'c> {
    client: &'c JiraClient,
    id: AttachmentId,
    range: Option<String>,
    follow_redirect: bool,
    max_bytes: Option<u64>,
}

impl GetContent<'_> {
    /// Asks for bytes `start..=end` (or from `start` to the end); the answer is 206.
    pub fn range(mut self, start: u64, end: Option<u64>) -> Self {
        self.range = Some(match end {
            Some(end) => format!("bytes={start}-{end}"),
            None => format!("bytes={start}-"),
        });
        self
    }

    /// Lets Jira answer with a redirect to its media host and follows it (the bearer token is
    /// not sent there). The default asks for the bytes directly (`redirect=false`).
    pub fn follow_redirect(mut self) -> Self {
        self.follow_redirect = true;
        self
    }

    /// Fails the stream once more than `max` bytes arrived (`Content-Length` can be absent).
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = Some(max);
        self
    }

    /// The request this builder sends.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] never in practice (the range header is ASCII).
    pub fn request(&self) -> Result<ApiRequest> {
        let mut request = ApiRequest::get("/attachment/content/{id}")
            .param(&self.id)
            .query("redirect", self.follow_redirect);
        if let Some(range) = &self.range {
            let value = HeaderValue::from_str(range)
                .map_err(|e| Error::InvalidInput(format!("range {range:?}: {e}")))?;
            request = request.header(RANGE, value);
        }
        Ok(request)
    }

    /// Starts the download.
    ///
    /// # Errors
    /// 404 for a missing or hidden attachment; 416 for an unsatisfiable range.
    pub async fn send(self) -> Result<AttachmentContent> {
        let request = self.request()?;
        let path = request.path().to_owned();
        let response = self.client.send_streaming(request).await?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_length = header(CONTENT_LENGTH).and_then(|v| v.parse().ok());
        if let (Some(max), Some(len)) = (self.max_bytes, content_length)
            && len > max
        {
            return Err(Error::InvalidInput(format!(
                "attachment {} is {len} bytes; the limit is {max} bytes",
                self.id
            )));
        }
        Ok(AttachmentContent {
            status: response.status(),
            content_type: header(CONTENT_TYPE),
            content_length,
            content_range: header(CONTENT_RANGE),
            max_bytes: self.max_bytes,
            path,
            response,
        })
    }
}

/// A download in progress: headers are known, the body is still to be read.
#[derive(Debug)]
pub struct AttachmentContent {
    /// 200, or 206 for a range.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Length`, when sent.
    pub content_length: Option<u64>,
    /// `Content-Range`, for a 206.
    pub content_range: Option<String>,
    max_bytes: Option<u64>,
    path: String,
    response: reqwest::Response,
}

impl AttachmentContent {
    /// The body as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let path = self.path;
        let max = self.max_bytes;
        let mut seen: u64 = 0;
        self.response
            .bytes_stream()
            .map_err(move |source| Error::Transport {
                method: "GET".into(),
                path: path.clone(),
                kind: TransportKind::of(&source),
                source: source.without_url(),
            })
            .and_then(move |chunk| {
                seen += chunk.len() as u64;
                let over = max.filter(|max| seen > *max);
                async move {
                    match over {
                        Some(max) => Err(Error::InvalidInput(format!(
                            "attachment is larger than the limit of {max} bytes"
                        ))),
                        None => Ok(chunk),
                    }
                }
            })
    }

    /// Reads the whole body (small files only).
    ///
    /// # Errors
    /// Transport errors while reading; the `max_bytes` limit.
    pub async fn bytes(self) -> Result<Bytes> {
        let chunks: Vec<Bytes> = self.into_stream().try_collect().await?;
        Ok(Bytes::from(chunks.concat()))
    }
}
