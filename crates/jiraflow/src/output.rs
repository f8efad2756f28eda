//! Printing results as text (aligned columns, `key: value` records) or JSON (one document per
//! command on stdout). Nothing here ever receives a secret: the views handed in are built from
//! store records, which carry none, and credentials are shown as [`MASKED`].

use clap::ValueEnum;
use serde::Serialize;

/// What a write-only credential looks like on screen.
pub const MASKED: &str = "••••";

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// JSON (one document on stdout).
    Json,
}

/// Prints a value as one line of JSON.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Prints `key: value` lines, keys padded to one width; `None` values are skipped.
pub fn record(fields: &[(&str, Option<String>)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in fields {
        if let Some(value) = value {
            println!("{key:<width$}  {value}");
        }
    }
}

/// Prints a table with a header row; columns are padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        println!("(none)");
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_contains_no_letters_or_digits() {
        assert!(!MASKED.chars().any(char::is_alphanumeric));
    }
}
