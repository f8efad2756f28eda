//! New comments without N+1 over the whole filter: a comment bumps its issue's `updated`, so
//! only the issues updated inside the window are visited, and each one's comments are read
//! newest first, page by page, stopping at the first comment older than the window.

use futures_util::TryStreamExt;
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::IssueRef;
use jiraflow_jira::ops::comments::CommentOrder;

use super::events::{CommentCandidate, IssueCandidate};
use super::window::Window;

/// Comments per page: most issues have few new comments, so the first page usually ends the
/// walk.
const PAGE: u64 = 50;

/// The comments created inside `window` on these issues (each issue's comments newest first,
/// stopping once older than the window), in no particular order.
///
/// # Errors
/// The client's error (a 404 for an issue deleted meanwhile is skipped).
pub async fn read_new_comments(
    jira: &JiraClient,
    issues: &[IssueCandidate],
    window: Window,
) -> Result<Vec<CommentCandidate>, jiraflow_jira::Error> {
    let mut out = Vec::new();
    for issue in issues {
        let stream = jira
            .comments()
            .list(IssueRef::new(issue.id.clone()))
            .order_by(CommentOrder::NewestFirst)
            .max_results(PAGE)
            .stream();
        futures_util::pin_mut!(stream);
        loop {
            let comment = match stream.try_next().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                // Deleted or hidden since the search: nothing of it can run anyway.
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(e),
            };
            let Some(candidate) = CommentCandidate::new(issue.clone(), &comment) else {
                continue;
            };
            if candidate.created_ms < window.from_ms {
                // Newest first: everything after this one is older still.
                break;
            }
            if window.contains(candidate.created_ms) {
                out.push(candidate);
            }
        }
    }
    Ok(out)
}
