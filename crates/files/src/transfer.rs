//! Streamed transfers between Jira attachments and file objects, in chunks (never a whole file
//! in memory).
//!
//! - [`Files::download_attachment`]: metadata first (name, media type, declared size), refused
//!   before the download when the declared size is over the limit; the body is streamed into the
//!   content store under the limit and its byte count compared with the declared size.
//! - [`Files::upload_to_issue`]: the object's content is streamed into a multipart upload (the
//!   client checks the site's upload limit first); the attachment Jira reports is then checked:
//!   its size, and its SHA-256 by downloading it again, streamed. A mismatch deletes the
//!   attachment, so a corrupted copy is never left on the issue.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::{AttachmentId, IssueRef};
use jiraflow_jira::ops::attachments::AttachmentFile;
use jiraflow_jira::wire::attachment::Attachment;
use jiraflow_store::{FileId, FileObject, FileOwner};
use sha2::{Digest, Sha256};

use crate::content::hex;
use crate::error::{FilesError, FilesResult, Size};
use crate::service::Files;

impl Files {
    /// Copies a Jira attachment into a new file object owned by `owner`.
    ///
    /// # Errors
    /// [`FilesError::TooLarge`] when Jira declares (or sends) more than the limit;
    /// [`FilesError::LengthMismatch`] when the body is shorter or longer than declared;
    /// [`FilesError::Jira`] for API errors and downloads that break off. Nothing is kept in
    /// any of these cases.
    pub async fn download_attachment(
        &self,
        jira: &JiraClient,
        attachment_id: impl Into<AttachmentId>,
        owner: FileOwner,
    ) -> FilesResult<FileObject> {
        let id: AttachmentId = attachment_id.into();
        let limit = self.config().max_bytes;
        let meta = jira
            .attachments()
            .metadata(id.clone())
            .await
            .map_err(|e| FilesError::jira(format!("reading attachment {id}"), e))?;
        if let Some(size) = meta.size
            && size > limit
        {
            return Err(FilesError::TooLarge {
                size_or_at_least: Size::Exactly(size),
                limit,
            });
        }
        let content = jira
            .attachments()
            .content(id.clone())
            .send()
            .await
            .map_err(|e| FilesError::jira(format!("downloading attachment {id}"), e))?;
        if let Some(len) = content.content_length
            && len > limit
        {
            return Err(FilesError::TooLarge {
                size_or_at_least: Size::Exactly(len),
                limit,
            });
        }
        let declared = meta.size.or(content.content_length);
        let name = meta
            .filename
            .clone()
            .unwrap_or_else(|| format!("attachment-{id}"));
        let stream = content.into_stream().map_err(std::io::Error::other);
        let result = self
            .create_from_stream(&name, meta.mime_type.as_deref(), owner, stream, declared)
            .await;
        match result {
            Err(FilesError::LengthMismatch {
                expected, actual, ..
            }) => Err(FilesError::LengthMismatch {
                what: format!("attachment {id} from Jira"),
                expected,
                actual,
            }),
            // A broken-off body is the client's error, wrapped to pass through the stream.
            Err(FilesError::Source(e))
                if e.get_ref()
                    .is_some_and(|inner| inner.is::<jiraflow_jira::Error>()) =>
            {
                match e
                    .into_inner()
                    .map(|inner| inner.downcast::<jiraflow_jira::Error>())
                {
                    Some(Ok(source)) => Err(FilesError::Jira {
                        context: format!("downloading attachment {id}"),
                        source,
                    }),
                    Some(Err(other)) => Err(FilesError::Source(std::io::Error::other(other))),
                    None => Err(FilesError::Source(std::io::Error::other(
                        "the download failed",
                    ))),
                }
            }
            other => other,
        }
    }

    /// Attaches a file object to `issue` and returns the attachment Jira created, after
    /// checking its size and SHA-256 against the object's.
    ///
    /// # Errors
    /// [`FilesError::NotFound`] for an unknown file; [`FilesError::TooLarge`] when the object
    /// is over this service's limit (nothing is sent); [`FilesError::Jira`] for API errors
    /// (the site's upload limit included); [`FilesError::LengthMismatch`] or
    /// [`FilesError::ChecksumMismatch`] when Jira's copy differs, after deleting it.
    pub async fn upload_to_issue(
        &self,
        jira: &JiraClient,
        issue: impl Into<IssueRef>,
        file_id: FileId,
    ) -> FilesResult<Attachment> {
        self.upload_to_issue_as(jira, issue, file_id, None).await
    }

    /// [`Files::upload_to_issue`], naming the attachment `name` instead of the object's name.
    ///
    /// # Errors
    /// As [`Files::upload_to_issue`]; `Store(Invalid)` for a bad `name`, before anything is
    /// sent.
    pub async fn upload_to_issue_as(
        &self,
        jira: &JiraClient,
        issue: impl Into<IssueRef>,
        file_id: FileId,
        name: Option<&str>,
    ) -> FilesResult<Attachment> {
        let issue: IssueRef = issue.into();
        if let Some(name) = name {
            jiraflow_store::files::validate_file_name(name)?;
        }
        let object = self.get(file_id).await?;
        let attachment_name = name.map_or_else(|| object.name.clone(), str::to_owned);
        let limit = self.config().max_bytes;
        if object.size > limit {
            return Err(FilesError::TooLarge {
                size_or_at_least: Size::Exactly(object.size),
                limit,
            });
        }
        // Fail now, not halfway through the upload, when the content is gone.
        if !self.content_store().exists(file_id).await? {
            return Err(FilesError::ContentMissing(file_id));
        }
        let content = Arc::clone(self.content_store());
        // Opened lazily for each attempt, so a request refused with 429 can be sent again.
        let file = AttachmentFile::from_opener(attachment_name, object.size, move || {
            let content = Arc::clone(&content);
            Ok(
                futures_util::stream::once(async move { content.open(file_id).await })
                    .map_ok(|opened| opened.stream)
                    .map_err(std::io::Error::other)
                    .try_flatten()
                    .boxed(),
            )
        })
        .mime_type(object.media_type.clone());
        let context = || {
            format!(
                "attaching file {} ({:?}) to {issue}",
                object.id, object.name
            )
        };
        let created = jira
            .attachments()
            .add(issue.clone(), file)
            .send()
            .await
            .map_err(|e| FilesError::jira(context(), e))?;
        let Some(attachment) = created.into_iter().next() else {
            return Err(FilesError::jira(
                context(),
                jiraflow_jira::Error::InvalidInput("Jira returned no attachment".to_owned()),
            ));
        };
        match verify(jira, &attachment, &object).await {
            Ok(()) => Ok(attachment),
            Err(error) => {
                if let Err(e) = jira.attachments().delete(attachment.id.clone()).await {
                    tracing::warn!(attachment = %attachment.id, error = %e,
                        "could not delete an attachment that failed verification");
                }
                Err(error)
            }
        }
    }
}

/// Checks Jira's copy: the size it reports, then the SHA-256 of its content, streamed.
async fn verify(
    jira: &JiraClient,
    attachment: &Attachment,
    object: &FileObject,
) -> FilesResult<()> {
    let what = || {
        format!(
            "attachment {} copied from file {}",
            attachment.id, object.id
        )
    };
    if let Some(size) = attachment.size
        && size != object.size
    {
        return Err(FilesError::LengthMismatch {
            what: what(),
            expected: object.size,
            actual: size,
        });
    }
    let content = jira
        .attachments()
        .content(attachment.id.clone())
        .send()
        .await
        .map_err(|e| FilesError::jira(format!("verifying {}", what()), e))?;
    let mut stream = content.into_stream().boxed();
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FilesError::jira(format!("verifying {}", what()), e))?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    if size != object.size {
        return Err(FilesError::LengthMismatch {
            what: what(),
            expected: object.size,
            actual: size,
        });
    }
    let actual = hex(&hasher.finalize());
    if actual != object.sha256 {
        return Err(FilesError::ChecksumMismatch {
            what: what(),
            expected: object.sha256.clone(),
            actual,
        });
    }
    Ok(())
}
