//! File object records: the metadata of a file jiraflow holds for a while (name, media type,
//! size, SHA-256, owner, expiry). The bytes live in a content store outside the database
//! (`jiraflow-files`); a record is written only once its content is complete, so a record always
//! describes bytes that exist.
//!
//! The validators here are the single definition of what a file name, media type and digest may
//! look like; the content layer calls them before reading a byte, the backends again on write.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, StoreResult};
use crate::ids::{FileId, RunId, UserId};

/// Longest accepted file name, in UTF-8 bytes (the common file system limit).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Longest accepted media type, in bytes (RFC 6838 allows 127 + `/` + 127).
pub const MAX_MEDIA_TYPE_BYTES: usize = 255;

/// Who a file object belongs to, which decides when it goes away besides its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum FileOwner {
    /// Made by a run of a flow; removed with the run's files when the run is purged.
    Run(RunId),
    /// Uploaded by a user (CLI or HTTP API).
    User(UserId),
    /// Made by jiraflow itself.
    System,
}

impl FileOwner {
    /// The stored kind name.
    #[must_use]
    pub fn kind(self) -> &'static str {
        match self {
            Self::Run(_) => "run",
            Self::User(_) => "user",
            Self::System => "system",
        }
    }

    /// The owner's id as stored (`None` for the system).
    #[must_use]
    pub fn id_text(self) -> Option<String> {
        match self {
            Self::Run(id) => Some(id.to_string()),
            Self::User(id) => Some(id.to_string()),
            Self::System => None,
        }
    }
}

/// A file object's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileObject {
    /// Its id; also the content store's key.
    pub id: FileId,
    /// The file name, exactly as received (UTF-8, no control characters, at most 255 bytes).
    pub name: String,
    /// The media type (`application/pdf`).
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// When the content was complete and the record written.
    pub created_at: DateTime<Utc>,
    /// After this instant the sweeper deletes it; `None` keeps it until deleted.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who it belongs to.
    pub owner: FileOwner,
}

/// What `FileObjectStore::list_files` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileQuery {
    /// Only this owner's files.
    pub owner: Option<FileOwner>,
    /// At most this many (newest first); `None` for all.
    pub limit: Option<u32>,
}

/// Checks a file name: not empty, no control characters, at most [`MAX_FILE_NAME_BYTES`] bytes.
/// Any other character (spaces, quotes, emoji, any script) is kept as is, untrimmed.
///
/// # Errors
/// [`StoreError::Invalid`] naming the field and what is wrong.
pub fn validate_file_name(name: &str) -> StoreResult<()> {
    if name.is_empty() {
        return Err(StoreError::invalid("file name", "must not be empty"));
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(StoreError::invalid(
            "file name",
            format!(
                "is {} bytes of UTF-8; at most {MAX_FILE_NAME_BYTES} are allowed",
                name.len()
            ),
        ));
    }
    if let Some((at, c)) = name.char_indices().find(|(_, c)| c.is_control()) {
        return Err(StoreError::invalid(
            "file name",
            format!("{name:?} contains the control character {c:?} at byte {at}"),
        ));
    }
    Ok(())
}

/// Checks a media type: `type/subtype` in printable ASCII without spaces (parameters such as
/// `; charset=utf-8` are allowed after it), at most [`MAX_MEDIA_TYPE_BYTES`] bytes.
///
/// # Errors
/// [`StoreError::Invalid`] naming the field and the value.
pub fn validate_media_type(media_type: &str) -> StoreResult<()> {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    let well_formed = media_type.len() <= MAX_MEDIA_TYPE_BYTES
        && media_type.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| is_token(t) && is_token(s));
    if well_formed {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "media type",
            format!("{media_type:?} is not a type/subtype media type"),
        ))
    }
}

fn is_token(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

/// Checks a SHA-256 digest: 64 lowercase hex digits.
///
/// # Errors
/// [`StoreError::Invalid`] naming the field and the value.
pub fn validate_sha256(sha256: &str) -> StoreResult<()> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "sha256",
            format!("{sha256:?} is not 64 lowercase hex digits"),
        ))
    }
}

/// Checks every field of a record before it is written.
///
/// # Errors
/// [`StoreError::Invalid`] for the first bad field.
pub fn validate_file_object(file: &FileObject) -> StoreResult<()> {
    validate_file_name(&file.name)?;
    validate_media_type(&file.media_type)?;
    validate_sha256(&file.sha256)?;
    if i64::try_from(file.size).is_err() {
        return Err(StoreError::invalid(
            "file size",
            format!("{} bytes is out of range", file.size),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_any_printable_character_and_refuse_control_characters_and_length() {
        for ok in [
            "報告書.pdf",
            "party 🎉.txt",
            "say \"hi\".txt",
            " spaced  name ",
        ] {
            assert!(validate_file_name(ok).is_ok(), "{ok}");
        }
        assert!(validate_file_name("").is_err());
        let err = validate_file_name("a\nb").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("file name") && e.contains("byte 1")));
        assert!(validate_file_name(&"a".repeat(255)).is_ok());
        // 86 three-byte characters are 258 bytes though only 86 characters.
        let err = validate_file_name(&"書".repeat(86))
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("258 bytes")));
    }

    #[test]
    fn media_types_need_a_type_and_subtype() {
        assert!(validate_media_type("application/pdf").is_ok());
        assert!(validate_media_type("text/plain; charset=utf-8").is_ok());
        assert!(validate_media_type("application/vnd.ms-excel").is_ok());
        assert!(validate_media_type("pdf").is_err());
        assert!(validate_media_type("text/").is_err());
        assert!(validate_media_type("text/pl ain").is_err());
    }

    #[test]
    fn digests_are_64_lowercase_hex_digits() {
        assert!(validate_sha256(&"ab".repeat(32)).is_ok());
        assert!(validate_sha256(&"AB".repeat(32)).is_err());
        assert!(validate_sha256("abc").is_err());
    }
}
