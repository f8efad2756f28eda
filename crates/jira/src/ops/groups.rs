//! Groups: create, delete, bulk lookup by name or id, members, and membership changes. Changes
//! need a site admin. Groups are best named by id ([`GroupRef::Id`]): names can be renamed.
//! Adding a user who is already a member answers 400 in Jira; that is reported as
//! [`Membership::AlreadyMember`] so the operation is idempotent for callers.

use futures_util::Stream;
use serde::Serialize;

use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::Result;
use crate::ids::{AccountId, GroupId};
use crate::ops::pages::page_stream;
use crate::wire::group::{Group, GroupDetails};
use crate::wire::page::PageBean;
use crate::wire::user::UserDetails;

/// A group, by id (preferred) or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// By group id.
    Id(GroupId),
    /// By group name.
    Name(String),
}

impl GroupRef {
    /// Adds `groupId=` or `groupname=` to `request`.
    fn apply(&self, request: ApiRequest, id_key: &str, name_key: &str) -> ApiRequest {
        match self {
            Self::Id(id) => request.query(id_key, id),
            Self::Name(name) => request.query(name_key, name),
        }
    }
}

impl From<GroupId> for GroupRef {
    fn from(id: GroupId) -> Self {
        Self::Id(id)
    }
}

/// What adding a member did.
#[derive(Debug, Clone, PartialEq)]
pub enum Membership {
    /// The user was added; the group as Jira returned it.
    Added(Box<Group>),
    /// The user already was a member; nothing changed.
    AlreadyMember,
}

/// Group operations: `client.groups()`.
#[derive(Debug, Clone, Copy)]
pub struct Groups<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Group operations.
    pub fn groups(&self) -> Groups<'_> {
        Groups { client: self }
    }
}

#[derive(Serialize)]
struct NameBody<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountBody<'a> {
    account_id: &'a AccountId,
}

impl<'c> Groups<'c> {
    /// The request [`create`](Self::create) sends.
    ///
    /// # Errors
    /// Never in practice.
    pub fn create_request(self, name: &str) -> Result<ApiRequest> {
        // Default idempotency: a POST that creates is not repeated after an ambiguous failure.
        ApiRequest::post("/group").json(&NameBody { name })
    }

    /// `POST /group`.
    ///
    /// # Errors
    /// 400 for a missing name or one already in use; 403 for anyone but a site admin.
    pub async fn create(self, name: &str) -> Result<Group> {
        let request = self.create_request(name)?;
        self.client.send(request).await?.json()
    }

    /// `DELETE /group`.
    pub fn delete(self, group: impl Into<GroupRef>) -> DeleteGroup<'c> {
        DeleteGroup {
            client: self.client,
            group: group.into(),
            swap: None,
        }
    }

    /// `GET /group/bulk`: every group, or those matching the ids and names given.
    pub fn bulk(self) -> BulkGroups<'c> {
        BulkGroups {
            client: self.client,
            ids: Vec::new(),
            names: Vec::new(),
            start_at: None,
            max_results: None,
        }
    }

    /// `GET /group/member`.
    pub fn members(self, group: impl Into<GroupRef>) -> GroupMembers<'c> {
        GroupMembers {
            client: self.client,
            group: group.into(),
            include_inactive: false,
            start_at: None,
            max_results: None,
        }
    }

    /// The request [`add_user`](Self::add_user) sends.
    ///
    /// # Errors
    /// Never in practice.
    pub fn add_user_request(self, group: &GroupRef, account: &AccountId) -> Result<ApiRequest> {
        let request = group.apply(ApiRequest::post("/group/user"), "groupId", "groupname");
        // Repeating is harmless: a second add reads as "already a member".
        request
            .idempotency(Idempotency::RetrySafe)
            .json(&AccountBody {
                account_id: account,
            })
    }

    /// `POST /group/user`: adds `account` to `group`.
    ///
    /// # Errors
    /// 403 for anyone but a site admin; 404 for an unknown group or account.
    pub async fn add_user(
        self,
        group: impl Into<GroupRef>,
        account: impl Into<AccountId>,
    ) -> Result<Membership> {
        let request = self.add_user_request(&group.into(), &account.into())?;
        match self.client.send(request).await {
            Ok(response) => Ok(Membership::Added(Box::new(response.json()?))),
            Err(error) if error.is_bad_request() && mentions_membership(&error) => {
                Ok(Membership::AlreadyMember)
            }
            Err(error) => Err(error),
        }
    }

    /// `DELETE /group/user`: removes `account` from `group`.
    ///
    /// # Errors
    /// 400 when the account is not a member; 403 for anyone but a site admin; 404 for an
    /// unknown group or account.
    pub async fn remove_user(
        self,
        group: impl Into<GroupRef>,
        account: impl Into<AccountId>,
    ) -> Result<()> {
        let request = group
            .into()
            .apply(ApiRequest::delete("/group/user"), "groupId", "groupname")
            .query("accountId", account.into());
        self.client.send(request).await?;
        Ok(())
    }
}

/// Whether a 400 says the user already belongs to the group (Jira's wording is unverified, so
/// only the stable phrase is matched).
fn mentions_membership(error: &crate::Error) -> bool {
    error
        .messages()
        .iter()
        .chain(error.field_errors().into_iter().flat_map(|m| m.values()))
        .any(|m| m.to_ascii_lowercase().contains("already a member"))
}

/// `DELETE /group`.
#[must_use]
#[derive(Debug, Clone)]
pub struct DeleteGroup<'c> {
    client: &'c JiraClient,
    group: GroupRef,
    swap: Option<GroupRef>,
}

impl DeleteGroup<'_> {
    /// Moves comment and worklog restrictions to this group instead of leaving them naming the
    /// deleted one (which makes those comments inaccessible).
    pub fn swap_to(mut self, group: impl Into<GroupRef>) -> Self {
        self.swap = Some(group.into());
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 403 for anyone but a site admin; 404 for an unknown group.
    pub async fn send(self) -> Result<()> {
        let mut request = self
            .group
            .apply(ApiRequest::delete("/group"), "groupId", "groupname");
        if let Some(swap) = &self.swap {
            request = swap.apply(request, "swapGroupId", "swapGroup");
        }
        self.client.send(request).await?;
        Ok(())
    }
}

/// `GET /group/bulk`.
#[must_use]
#[derive(Debug, Clone)]
pub struct BulkGroups<'c> {
    client: &'c JiraClient,
    ids: Vec<GroupId>,
    names: Vec<String>,
    start_at: Option<u64>,
    max_results: Option<u64>,
}

impl BulkGroups<'_> {
    /// Matches this group id.
    pub fn id(mut self, id: impl Into<GroupId>) -> Self {
        self.ids.push(id.into());
        self
    }

    /// Matches this group name (case-insensitively).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }

    /// Index of the first group.
    pub fn start_at(mut self, start_at: u64) -> Self {
        self.start_at = Some(start_at);
        self
    }

    /// Page size.
    pub fn max_results(mut self, max_results: u64) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn send(self) -> Result<PageBean<GroupDetails>> {
        let request = bulk_request(&self.ids, &self.names, self.max_results, self.start_at);
        self.client.send(request).await?.json()
    }

    /// Streams every matching group.
    pub fn stream(self) -> impl Stream<Item = Result<GroupDetails>> + Send + 'static {
        let (ids, names, max) = (self.ids, self.names, self.max_results);
        page_stream(
            self.client.clone(),
            self.start_at.unwrap_or(0),
            move |start| bulk_request(&ids, &names, max, Some(start)),
        )
    }
}

fn bulk_request(
    ids: &[GroupId],
    names: &[String],
    max_results: Option<u64>,
    start_at: Option<u64>,
) -> ApiRequest {
    let mut request = ApiRequest::get("/group/bulk");
    for id in ids {
        request = request.query("groupId", id);
    }
    for name in names {
        request = request.query("groupName", name);
    }
    request
        .query_opt("startAt", start_at)
        .query_opt("maxResults", max_results)
}

/// `GET /group/member`.
#[must_use]
#[derive(Debug, Clone)]
pub struct GroupMembers<'c> {
    client: &'c JiraClient,
    group: GroupRef,
    include_inactive: bool,
    start_at: Option<u64>,
    max_results: Option<u64>,
}

fn members_request(
    group: &GroupRef,
    include_inactive: bool,
    max_results: Option<u64>,
    start_at: Option<u64>,
) -> ApiRequest {
    group
        .apply(ApiRequest::get("/group/member"), "groupId", "groupname")
        .query_opt("includeInactiveUsers", include_inactive.then_some(true))
        .query_opt("startAt", start_at)
        .query_opt("maxResults", max_results)
}

impl GroupMembers<'_> {
    /// Includes deactivated accounts.
    pub fn include_inactive(mut self) -> Self {
        self.include_inactive = true;
        self
    }

    /// Index of the first member.
    pub fn start_at(mut self, start_at: u64) -> Self {
        self.start_at = Some(start_at);
        self
    }

    /// Page size (Jira caps it at 50).
    pub fn max_results(mut self, max_results: u64) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// 404 for an unknown group.
    pub async fn send(self) -> Result<PageBean<UserDetails>> {
        let request = members_request(
            &self.group,
            self.include_inactive,
            self.max_results,
            self.start_at,
        );
        self.client.send(request).await?.json()
    }

    /// Streams every member.
    pub fn stream(self) -> impl Stream<Item = Result<UserDetails>> + Send + 'static {
        let (group, inactive, max) = (self.group, self.include_inactive, self.max_results);
        page_stream(
            self.client.clone(),
            self.start_at.unwrap_or(0),
            move |start| members_request(&group, inactive, max, Some(start)),
        )
    }
}
