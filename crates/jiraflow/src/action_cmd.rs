//! `jiraflow action NAME --connection C --input JSON|@FILE`: runs one action outside any flow,
//! with the store as its write ledger (so an upsert keyed by an external id finds what an
//! earlier call created). The result is always one JSON document on stdout, for scripts:
//! `{"outcome", "output"}`, or `{"error": {"action", "message", "retryable", "kind"}}` with exit
//! status 1.
//!
//! Permissions: an acting user who may use the connection (holders of
//! `manage_integration_connections` use every connection, others the ones they created).
//!
//! The file actions (`get_file`, `attach_file`, `delete_file`) work on the file store in the
//! data directory; files they make are owned by the system. `delete_file` takes no connection.

use clap::Args;
use jiraflow_engine::actions::{self, ActionContext, ActionError};
use jiraflow_engine::connections::{ClientSource, ConnectionError};
use jiraflow_engine::flow::Action;
use jiraflow_store::WriteLedger;
use serde::Serialize;
use serde_json::Value;

use crate::data_dir::{CommonArgs, Context};
use crate::{jira_access, output, payload};

/// The step id an action run from the command line reports in its messages.
const STEP_ID: &str = "action";

/// Options of `jiraflow action`.
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// The action's name, as in flow files (`create_issue`).
    name: String,
    /// The connection to call Jira with (every action but `delete_file` needs one).
    #[arg(long)]
    connection: Option<String>,
    /// The action's input: JSON text, or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE", required_unless_present = "schema")]
    input: Option<String>,
    /// Print the JSON Schema of the action's input instead of running it.
    #[arg(long, conflicts_with_all = ["input", "connection"])]
    schema: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// A failure as printed.
#[derive(Debug, Serialize)]
struct Failure {
    action: String,
    message: String,
    retryable: bool,
    /// `unknown_action`, `input`, `connection`, `jira`, `denied`, `resolve`, `unavailable`,
    /// `ledger`, `files`, or
    /// `store` / `user` for what failed before the action could run.
    kind: &'static str,
}

impl Failure {
    fn new(action: &str, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            action: action.to_owned(),
            message: message.into(),
            retryable: false,
            kind,
        }
    }
}

/// Runs `jiraflow action ...`; exits with status 1 after printing a failure.
pub async fn run(args: ActionArgs) -> anyhow::Result<()> {
    if args.schema {
        return match prepare_action(&args) {
            Ok(action) => output::json(&actions::schema::input_schema(action)),
            Err(failure) => {
                output::json(&serde_json::json!({ "error": failure }))?;
                std::process::exit(1);
            }
        };
    }
    let result = match prepare(&args) {
        Ok((action, input)) => {
            let ctx = Context::open(&args.common).await?;
            let result = call(&ctx, &args, action, input).await;
            ctx.close().await;
            result
        }
        Err(failure) => Err(failure),
    };
    match result {
        Ok(done) => output::json(&done),
        Err(failure) => {
            output::json(&serde_json::json!({ "error": failure }))?;
            std::process::exit(1);
        }
    }
}

/// The action and its input, checked before the store is opened.
fn prepare(args: &ActionArgs) -> Result<(Action, Value), Failure> {
    let action = prepare_action(args)?;
    let input = payload::parse("--input", args.input.as_deref().unwrap_or_default())
        .map_err(|e| Failure::new(action.name(), "input", e.to_string()))?;
    Ok((action, input))
}

/// The named action, or the flow format's own message for an unknown name.
fn prepare_action(args: &ActionArgs) -> Result<Action, Failure> {
    Action::from_name(&args.name).ok_or_else(|| {
        // Deserializing the name yields the flow format's own message (closest name, valid
        // names), so the command line and flow files say the same thing.
        let message = serde_json::from_value::<Action>(Value::String(args.name.clone()))
            .err()
            .map_or_else(
                || format!("unknown action `{}`", args.name),
                |e| e.to_string(),
            );
        Failure::new(&args.name, "unknown_action", message)
    })
}

async fn call(
    ctx: &Context,
    args: &ActionArgs,
    action: Action,
    input: Value,
) -> Result<actions::ActionOutput, Failure> {
    let name = action.name();
    let user = ctx
        .acting_user()
        .await
        .map_err(|e| Failure::new(name, "user", format!("{e:#}")))?;
    let files = jira_access::files(ctx, &args.common.data_dir)
        .await
        .map_err(|e| Failure::new(name, "store", format!("{e:#}")))?;
    let connection = match (&args.connection, action.needs_connection()) {
        (Some(connection), _) => connection,
        (None, true) => {
            return Err(Failure::new(
                name,
                "connection",
                format!(
                    "{name} calls Jira: give --connection NAME (see `jiraflow connection list`)"
                ),
            ));
        }
        // Works on the file store alone.
        (None, false) => {
            return actions::files::delete_file_in(Some(&files), STEP_ID, input)
                .await
                .map_err(|e| action_failure(name, &e));
        }
    };
    let clients = jira_access::clients(ctx, Some(user))
        .map_err(|e| Failure::new(name, "store", e.to_string()))?;
    let client = clients
        .client(connection)
        .await
        .map_err(|e| connection_failure(name, &e))?;
    let ledger: &dyn WriteLedger = ctx.store.as_ref();
    let action_ctx = ActionContext::new(&client, STEP_ID)
        .with_ledger(ledger)
        .with_files(&files, None);
    actions::run(action, action_ctx, input)
        .await
        .map_err(|e| action_failure(name, &e))
}

fn connection_failure(action: &str, error: &ConnectionError) -> Failure {
    let mut failure = Failure::new(action, "connection", error.to_string());
    failure.retryable = matches!(error, ConnectionError::Store(e) if e.is_retryable());
    failure
}

fn action_failure(action: &str, error: &ActionError) -> Failure {
    let kind = match error {
        ActionError::Input { .. } => "input",
        ActionError::Jira { .. } => "jira",
        ActionError::Resolve { .. } => "resolve",
        ActionError::Denied { .. } => "denied",
        ActionError::Unavailable { .. } => "unavailable",
        ActionError::Ledger { .. } => "ledger",
        ActionError::Files { .. } => "files",
    };
    Failure {
        action: action.to_owned(),
        message: error.to_string(),
        retryable: error.is_retryable(),
        kind,
    }
}
