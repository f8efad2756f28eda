//! Atlassian Document Format: Markdown -> ADF, ADF -> Markdown, ADF -> plain text.
