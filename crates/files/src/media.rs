//! Media type detection for new file objects: the type the caller gave wins; otherwise the
//! first bytes are matched against the signatures of common formats (PNG, JPEG, GIF, PDF, ZIP,
//! gzip); otherwise the name's extension is looked up in a small table; otherwise
//! `application/octet-stream`.
//!
//! Office documents (docx, xlsx, pptx, odt, ...) are ZIP archives, so for a ZIP signature an
//! extension naming a ZIP-based format is kept: a `.docx` stays a Word document.

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 8;

/// The fallback media type.
pub const OCTET_STREAM: &str = "application/octet-stream";

const ZIP: &str = "application/zip";

/// The media type of content starting with `head`, for the formats listed in the module
/// documentation.
#[must_use]
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", ZIP),
        // An empty archive, and one written as a spanned stream.
        (b"PK\x05\x06", ZIP),
        (b"PK\x07\x08", ZIP),
        (b"\x1f\x8b", "application/gzip"),
    ];
    SIGNATURES
        .iter()
        .find(|(signature, _)| head.starts_with(signature))
        .map(|(_, media_type)| *media_type)
}

/// The media type for the extension of `name` (case-insensitive), if it is in the table.
#[must_use]
pub fn from_extension(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    let media_type = match ext.to_ascii_lowercase().as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "zip" => ZIP,
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "ppt" => "application/vnd.ms-powerpoint",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "jar" => "application/java-archive",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => return None,
    };
    Some(media_type)
}

/// Extensions whose files are ZIP archives underneath.
fn is_zip_based(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        matches!(
            ext.to_ascii_lowercase().as_str(),
            "docx" | "xlsx" | "pptx" | "odt" | "ods" | "jar"
        )
    })
}

/// Picks the media type of a new file: `given` (when not blank), else [`sniff`] of `head`, else
/// [`from_extension`] of `name`, else [`OCTET_STREAM`].
#[must_use]
pub fn detect(given: Option<&str>, head: &[u8], name: &str) -> String {
    if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
        return given.to_owned();
    }
    let sniffed = match sniff(head) {
        Some(ZIP) if is_zip_based(name) => from_extension(name),
        other => other,
    };
    sniffed
        .or_else(|| from_extension(name))
        .unwrap_or(OCTET_STREAM)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_type_wins_over_content_and_name() {
        assert_eq!(
            detect(Some("text/plain"), b"%PDF-1.7", "a.png"),
            "text/plain"
        );
        assert_eq!(detect(Some("  "), b"%PDF-1.7", "a.png"), "application/pdf");
    }

    #[test]
    fn common_signatures_are_recognised_whatever_the_name() {
        let cases: [(&[u8], &str); 8] = [
            (b"\x89PNG\r\n\x1a\n\0\0", "image/png"),
            (b"\xff\xd8\xff\xe0", "image/jpeg"),
            (b"GIF89a..", "image/gif"),
            (b"GIF87a..", "image/gif"),
            (b"%PDF-1.4", "application/pdf"),
            (b"PK\x03\x04\x14\0", "application/zip"),
            (b"PK\x05\x06", "application/zip"),
            (b"\x1f\x8b\x08\0", "application/gzip"),
        ];
        for (head, expected) in cases {
            assert_eq!(detect(None, head, "noextension"), expected, "{head:?}");
            assert_eq!(detect(None, head, "misleading.txt"), expected, "{head:?}");
        }
    }

    #[test]
    fn the_extension_decides_when_the_content_is_not_recognised() {
        assert_eq!(detect(None, b"a,b\n1,2", "data.CSV"), "text/csv");
        assert_eq!(detect(None, b"{}", "報告書.json"), "application/json");
        assert_eq!(detect(None, b"", "empty.txt"), "text/plain");
        assert_eq!(detect(None, b"\0\x01", "blob"), OCTET_STREAM);
        assert_eq!(detect(None, b"hi", "archive.unknownext"), OCTET_STREAM);
        assert_eq!(detect(None, b"hi", "trailing."), OCTET_STREAM);
    }

    #[test]
    fn office_documents_keep_their_type_though_they_are_zip_archives() {
        assert_eq!(
            detect(None, b"PK\x03\x04", "plan.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(detect(None, b"PK\x03\x04", "plan.pdf"), "application/zip");
    }
}
