//! `jiraflow jql check`: parse a JQL query offline and print it normalized (or its syntax tree),
//! or print Jira's error message with a caret under the position and exit with status 1.

use std::io::{Read, Write};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

/// Work with JQL offline.
#[derive(Debug, Args)]
pub struct JqlArgs {
    #[command(subcommand)]
    command: JqlCommand,
}

#[derive(Debug, Subcommand)]
enum JqlCommand {
    /// Check a query's syntax the way Jira's parser does, and print it normalized.
    Check {
        /// The query; `-` reads it from standard input.
        jql: String,
        /// `text` prints the normalized query; `json` prints the query, normalized text and
        /// syntax tree (or the error and its position).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// Runs a `jql` subcommand. An invalid query ends the process with status 1 after printing the
/// error, so scripts can test queries with `jiraflow jql check "$q" >/dev/null`.
pub fn run(args: JqlArgs) -> anyhow::Result<()> {
    match args.command {
        JqlCommand::Check { jql, output } => {
            let jql = if jql == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text.trim_end_matches(['\n', '\r']).to_owned()
            } else {
                jql
            };
            let valid = check(&jql, output)?;
            if !valid {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Prints the outcome of checking `jql`; returns whether the query is valid.
fn check(jql: &str, output: Output) -> anyhow::Result<bool> {
    let mut stdout = std::io::stdout().lock();
    match (jiraflow_jira::jql::validate(jql), output) {
        (Ok(query), Output::Text) => {
            writeln!(stdout, "{query}")?;
            Ok(true)
        }
        (Ok(query), Output::Json) => {
            let body = json!({
                "query": jql,
                "valid": true,
                "normalized": query.to_string(),
                "structure": &query,
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&body)?)?;
            Ok(true)
        }
        (Err(error), Output::Text) => {
            eprintln!("{}", jiraflow_jira::jql::render_error(jql, &error));
            Ok(false)
        }
        (Err(error), Output::Json) => {
            let body = json!({
                "query": jql,
                "valid": false,
                "errors": [error.to_string()],
                "position": {
                    "line": error.line(),
                    "column": error.column(),
                    "offset": error.offset(),
                },
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&body)?)?;
            Ok(false)
        }
    }
}
