//! Attachments: what an upload returns (`Attachment`, id a string, `created` sometimes epoch
//! milliseconds), what `GET /attachment/{id}` returns (`AttachmentMetadata`, id a number) and the
//! site's upload settings (`/attachment/meta`). Both id forms decode into [`AttachmentId`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::AttachmentId;
use crate::time::Timestamp;
use crate::wire::user::UserDetails;

/// An attachment, as uploads and issue fields describe it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The id (string or number on the wire).
    pub id: AttachmentId,
    /// The file name, exactly as uploaded (UTF-8).
    #[serde(default)]
    pub filename: Option<String>,
    /// The media type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// When it was attached.
    #[serde(default, with = "crate::time::option")]
    pub created: Option<Timestamp>,
    /// Who attached it.
    #[serde(default)]
    pub author: Option<UserDetails>,
    /// Site URL of the content; download by id through the API instead.
    #[serde(default)]
    pub content: Option<String>,
    /// Site URL of a thumbnail, for images.
    #[serde(default)]
    pub thumbnail: Option<String>,
    /// Link to the metadata.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Everything else (`properties` on metadata, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /attachment/meta`: whether attachments are on and the upload limit in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentSettings {
    /// Whether attachments are enabled on the site.
    #[serde(default)]
    pub enabled: bool,
    /// Largest file accepted, in bytes.
    #[serde(default)]
    pub upload_limit: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn upload_and_metadata_shapes_both_decode() {
        let upload: Attachment = serde_json::from_str(
            r#"{"id":"10000","filename":"a.txt","size":3,"created":1651316514000,"mimeType":"text/plain"}"#,
        )
        .unwrap();
        let meta: Attachment = serde_json::from_str(
            r#"{"id":10000,"filename":"a.txt","created":"2022-04-30T11:01:54.000+0000","properties":{}}"#,
        )
        .unwrap();
        assert_eq!(upload.id, meta.id);
        assert_eq!(upload.created, meta.created);
        assert!(meta.extra.contains_key("properties"));
    }
}
