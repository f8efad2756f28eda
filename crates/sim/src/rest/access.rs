//! Who may see what: project browse permission, issue visibility and comment visibility
//! restrictions. Every endpoint that reads or writes issues asks here, so "not found" and "not
//! allowed" stay indistinguishable in the same way everywhere.

use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::world::{Comment, Issue, Project, Site, SiteRole, World};

/// The account a response is rendered for (whose permissions and watch state apply).
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// Account id.
    pub account_id: &'a str,
    /// Role on the site.
    pub role: SiteRole,
}

impl<'a> From<&'a Caller> for Viewer<'a> {
    fn from(caller: &'a Caller) -> Self {
        Viewer {
            account_id: &caller.account_id,
            role: caller.role,
        }
    }
}

impl Viewer<'_> {
    /// Whether the viewer may browse `project` (restricted projects: members of the browse group
    /// and Jira admins only).
    pub fn can_browse(&self, site: &Site, project: &Project) -> bool {
        if project.archived {
            return false;
        }
        match &project.browse_group {
            None => true,
            Some(group_id) => {
                self.role.administers_jira() || site.in_group(self.account_id, group_id)
            }
        }
    }

    /// Whether the viewer may see `issue` (browse permission on its project).
    pub fn can_see_issue(&self, site: &Site, issue: &Issue) -> bool {
        site.jira
            .projects
            .get(&issue.project_id)
            .is_some_and(|p| self.can_browse(site, p))
    }

    /// Whether the viewer administers `project` (Jira admins administer every project).
    pub fn administers_project(&self, project: &Project) -> bool {
        self.role.administers_jira() || project.admins.iter().any(|a| a == self.account_id)
    }

    /// Whether the viewer may read `comment`, given its visibility restriction. Group
    /// restrictions need membership; role restrictions: `Administrators` needs project or Jira
    /// administration, other roles are held by every member who can browse the project.
    pub fn can_see_comment(
        &self,
        site: &Site,
        project: Option<&Project>,
        comment: &Comment,
    ) -> bool {
        let Some(visibility) = &comment.visibility else {
            return true;
        };
        if comment.author == self.account_id {
            return true;
        }
        match visibility.kind.as_str() {
            "group" => {
                let group = visibility
                    .identifier
                    .as_deref()
                    .and_then(|id| site.groups.get(id))
                    .or_else(|| site.group_by_name(&visibility.value));
                group.is_some_and(|g| g.members.contains(self.account_id))
            }
            "role" if visibility.value.eq_ignore_ascii_case("Administrators") => {
                project.is_some_and(|p| self.administers_project(p))
            }
            _ => true,
        }
    }
}

/// Resolves `id_or_key` to an issue the viewer may see; `None` for missing and hidden alike.
pub fn visible_issue<'s>(site: &'s Site, viewer: Viewer<'_>, id_or_key: &str) -> Option<&'s Issue> {
    let id = site.jira.resolve_issue(id_or_key)?;
    let issue = site.jira.issues.get(&id)?;
    viewer.can_see_issue(site, issue).then_some(issue)
}

/// Finds comment `comment_id` anywhere on the site as the viewer may see it: its issue browsable
/// and its visibility restriction held. `None` for missing and hidden alike.
pub fn visible_comment<'s>(
    site: &'s Site,
    viewer: Viewer<'_>,
    comment_id: u64,
) -> Option<(&'s Issue, &'s Comment)> {
    site.jira
        .issues
        .values()
        .find_map(|issue| {
            let comment = issue.comments.iter().find(|c| c.id == comment_id)?;
            Some((issue, comment))
        })
        .filter(|(issue, comment)| {
            viewer.can_see_issue(site, issue)
                && viewer.can_see_comment(site, site.jira.projects.get(&issue.project_id), comment)
        })
}

/// [`visible_issue`] for handlers: a missing and a hidden issue both answer Jira's issue 404.
/// `viewer` is a [`Viewer`] or the calling `&Caller`.
pub(crate) fn issue_or_404<'s, 'v>(
    site: &'s Site,
    viewer: impl Into<Viewer<'v>>,
    id_or_key: &str,
) -> ApiResult<&'s Issue> {
    visible_issue(site, viewer.into(), id_or_key).ok_or_else(ApiError::issue_not_found)
}

/// The caller's site for issue endpoints: a missing site answers like a missing issue, so issue
/// endpoints keep one 404 body whatever was not found.
pub(crate) fn issue_site_of<'w>(world: &'w World, caller: &Caller) -> ApiResult<&'w Site> {
    world
        .site(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)
}

/// The caller's site for directory, project and webhook endpoints: 404 `Site not found.`
pub(crate) fn site_of<'w>(world: &'w World, caller: &Caller) -> ApiResult<&'w Site> {
    world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))
}
