//! How the flow, run, action and files commands reach Jira and the file store: one token
//! manager over the store and the store-backed client source, optionally limited to the
//! connections the acting user may use; the check that a user may use every connection a flow
//! names; and the file objects service over `<data_dir>/files`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use jiraflow_engine::connections::{StoreClients, may_use};
use jiraflow_engine::flow::FlowFile;
use jiraflow_files::{Files, FilesConfig, LocalFileStore};
use jiraflow_oauth::{OAuthClient, TokenManager, TokenManagerConfig};
use jiraflow_store::User;

use crate::data_dir::Context;

/// Clients for the store's connections; with `user`, only those the user may use.
pub fn clients(ctx: &Context, user: Option<User>) -> anyhow::Result<Arc<StoreClients>> {
    let manager = Arc::new(TokenManager::new(
        ctx.store.clone(),
        OAuthClient::new()?,
        TokenManagerConfig::default(),
    ));
    let clients = StoreClients::new(ctx.store.clone(), manager);
    Ok(Arc::new(match user {
        Some(user) => clients.acting_as(user),
        None => clients,
    }))
}

/// The file objects service: records in the store, content in `<data_dir>/files` (created on
/// first use), with the default limits (15 MiB, 24 hours).
pub async fn files(ctx: &Context, data_dir: &Path) -> anyhow::Result<Arc<Files>> {
    let content = LocalFileStore::open(data_dir)
        .await
        .with_context(|| format!("opening the file store in {}", data_dir.display()))?;
    Ok(Arc::new(Files::new(
        ctx.store.clone(),
        Arc::new(content),
        FilesConfig::default(),
    )?))
}

/// The connection names a flow uses (trigger and steps), lowercased and sorted.
pub fn connection_names(spec: &FlowFile) -> BTreeSet<String> {
    std::iter::once(spec.trigger.connection.as_str())
        .chain(spec.steps.iter().filter_map(|s| s.connection.as_deref()))
        .map(str::to_lowercase)
        .collect()
}

/// Fails unless `user` may use every connection the flow names; someone else's connection is
/// reported like a missing one.
pub async fn require_connections(
    ctx: &Context,
    user: &User,
    spec: &FlowFile,
) -> anyhow::Result<()> {
    for name in connection_names(spec) {
        let connection = ctx.store.find_connection_by_name(&name).await?;
        if !connection.is_some_and(|c| may_use(user, &c)) {
            bail!(
                "flow {:?} uses the connection {name:?}, which is unknown or not yours to use \
                 (see `jiraflow connection list`)",
                spec.name
            );
        }
    }
    Ok(())
}
