//! `jiraflow adf convert`: convert rich text between Markdown, plain text and Atlassian Document
//! Format (ADF) on standard input/output, with the same conversions the connector uses.

use std::io::{Read, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use jiraflow_jira::adf;
use serde_json::Value;

/// Convert rich text between Markdown, ADF and plain text.
#[derive(Debug, Args)]
pub struct AdfArgs {
    #[command(subcommand)]
    command: AdfCommand,
}

#[derive(Debug, Subcommand)]
enum AdfCommand {
    /// Read a document on standard input and write it converted on standard output.
    Convert {
        /// Format of the input.
        #[arg(long, value_enum)]
        from: InputFormat,
        /// Format of the output.
        #[arg(long, value_enum)]
        to: OutputFormat,
        /// Write ADF on one line instead of pretty-printed.
        #[arg(long)]
        compact: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    /// CommonMark with GFM tables and strikethrough; mentions as `[~accountid:ID|Name]`.
    Markdown,
    /// An ADF document (`{"type": "doc", "version": 1, "content": [...]}`).
    Adf,
    /// Plain text: blank lines separate paragraphs, newlines are kept as line breaks.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// An ADF document as JSON.
    Adf,
    /// Markdown.
    Markdown,
    /// Plain text.
    Text,
}

/// Runs an `adf` subcommand. Bad input (invalid JSON, a value that is not an ADF document) is an
/// error naming what is wrong and where; the process then exits with status 1.
pub fn run(args: AdfArgs) -> anyhow::Result<()> {
    match args.command {
        AdfCommand::Convert { from, to, compact } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read standard input (is it UTF-8?)")?;
            let output = convert(&input, from, to, compact)?;
            match write_stdout(&output) {
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
            Ok(())
        }
    }
}

fn write_stdout(output: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes())?;
    if !output.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

/// Converts `input` from one format to another.
fn convert(
    input: &str,
    from: InputFormat,
    to: OutputFormat,
    compact: bool,
) -> anyhow::Result<String> {
    let doc = match from {
        InputFormat::Markdown => adf::from_markdown(input),
        InputFormat::Text => adf::from_plain_text(input),
        InputFormat::Adf => parse_adf(input)?,
    };
    Ok(match to {
        OutputFormat::Adf if compact => serde_json::to_string(&doc)?,
        OutputFormat::Adf => serde_json::to_string_pretty(&doc)?,
        OutputFormat::Markdown => adf::to_markdown(&doc),
        OutputFormat::Text => adf::to_text(&doc),
    })
}

fn parse_adf(input: &str) -> anyhow::Result<Value> {
    let doc: Value = match serde_json::from_str(input) {
        Ok(doc) => doc,
        Err(e) if e.is_eof() && input.trim().is_empty() => {
            bail!("input is empty: expected an ADF document (JSON)")
        }
        Err(e) => bail!(
            "input is not valid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ),
    };
    if let Err(e) = adf::check_doc(&doc) {
        let message = match e {
            jiraflow_jira::Error::InvalidInput(message) => message,
            other => other.to_string(),
        };
        bail!("input is not an ADF document: {message}");
    }
    Ok(doc)
}

/// serde_json appends " at line L column C"; the message already says where.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn markdown_converts_to_adf_and_back() {
        let json = convert(
            "# Hi *there*",
            InputFormat::Markdown,
            OutputFormat::Adf,
            true,
        )
        .unwrap();
        assert!(json.contains("\"heading\""), "{json}");
        let md = convert(&json, InputFormat::Adf, OutputFormat::Markdown, false).unwrap();
        assert_eq!(md, "# Hi *there*\n");
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = convert(
            "{\n  \"type\": }",
            InputFormat::Adf,
            OutputFormat::Text,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 2, column 11"), "{err}");
    }

    #[test]
    fn json_that_is_not_a_doc_is_refused() {
        let err = convert(
            "{\"type\": \"paragraph\"}",
            InputFormat::Adf,
            OutputFormat::Text,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an ADF document"), "{err}");
    }
}
