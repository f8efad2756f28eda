//! Users: search (`/user/search`, a bare array paged until a short page), the e-mail lookup
//! every "assign to an e-mail address" mapping needs, get by account id, and bulk get.
//! `/user/search` has its own tenant-wide rate limit in Jira; the streams fetch lazily so a
//! caller that stops early does not spend it.

use futures_util::{Stream, TryStreamExt};

use crate::client::{ApiRequest, JiraClient};
use crate::error::{Error, Result};
use crate::ids::AccountId;
use crate::ops::pages::{Fetched, offset_stream, page_stream};
use crate::wire::user::User;

/// Jira stops `/user/search` paging at the 1000th user.
pub const USER_SEARCH_CAP: u64 = 1000;

/// User operations: `client.users()`.
#[derive(Debug, Clone, Copy)]
pub struct Users<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// User operations.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }
}

impl<'c> Users<'c> {
    /// `GET /user/search?query=`: users whose name or visible e-mail starts with `query`.
    pub fn search(self, query: impl Into<String>) -> SearchUsers<'c> {
        SearchUsers {
            client: self.client,
            query: query.into(),
            start_at: None,
            max_results: None,
        }
    }

    /// `GET /user?accountId=`.
    ///
    /// # Errors
    /// 404 for an unknown account or one not on the site.
    pub async fn get(self, account: impl Into<AccountId>) -> Result<User> {
        let request = ApiRequest::get("/user").query("accountId", account.into());
        self.client.send(request).await?.json()
    }

    /// `GET /user/bulk?accountId=..`: several users by account id, every page.
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn bulk(self, accounts: impl IntoIterator<Item = AccountId>) -> Result<Vec<User>> {
        let accounts: Vec<AccountId> = accounts.into_iter().collect();
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        page_stream(self.client.clone(), 0, move |start| {
            let mut request = ApiRequest::get("/user/bulk").query("startAt", start);
            for account in &accounts {
                request = request.query("accountId", account);
            }
            request
        })
        .try_collect()
        .await
    }

    /// Finds the one user with e-mail address `email`.
    ///
    /// An exact (case-insensitive) match on a visible address wins. When privacy settings hide
    /// every address, a search that returns exactly one user is taken as the match, because
    /// Jira matches hidden addresses server-side.
    ///
    /// # Errors
    /// [`Error::NoUniqueMatch`] with `matches: 0` (`is_not_found`) when nobody matches, or with
    /// the number of candidates when several do; API errors of the search.
    pub async fn account_id_by_email(self, email: &str) -> Result<AccountId> {
        let email = email.trim();
        let no_match = |matches| Error::NoUniqueMatch {
            what: "Jira user with e-mail",
            query: email.to_owned(),
            matches,
        };
        if email.is_empty() || !email.contains('@') {
            return Err(Error::InvalidInput(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let found = self.search(email).max_results(50).send().await?;
        let exact: Vec<&User> = found
            .iter()
            .filter(|u| {
                u.email_address
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect();
        match exact.as_slice() {
            [one] => return Ok(one.account_id.clone()),
            [] => {}
            many => return Err(no_match(many.len())),
        }
        let hidden: Vec<&User> = found.iter().filter(|u| u.email_address.is_none()).collect();
        match (found.len(), hidden.as_slice()) {
            (1, [one]) => Ok(one.account_id.clone()),
            (_, []) => Err(no_match(0)),
            (_, candidates) => Err(no_match(candidates.len())),
        }
    }
}

/// `GET /user/search`.
#[must_use]
#[derive(Debug, Clone)]
pub struct SearchUsers<'c> {
    client: &'c JiraClient,
    query: String,
    start_at: Option<u64>,
    max_results: Option<u64>,
}

fn search_request(query: &str, start_at: Option<u64>, max_results: Option<u64>) -> ApiRequest {
    ApiRequest::get("/user/search")
        .query("query", query)
        .query_opt("startAt", start_at)
        .query_opt("maxResults", max_results)
}

impl SearchUsers<'_> {
    /// Index of the first user.
    pub fn start_at(mut self, start_at: u64) -> Self {
        self.start_at = Some(start_at);
        self
    }

    /// Page size (Jira's default 50).
    pub fn max_results(mut self, max_results: u64) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// 400 for an empty query; 429 from the user-search limit.
    pub async fn send(self) -> Result<Vec<User>> {
        let request = search_request(&self.query, self.start_at, self.max_results);
        self.client.send(request).await?.json()
    }

    /// Streams every match, page by page, until a page comes back shorter than asked (Jira
    /// sends no total for this bare array) or the 1000-user cap.
    pub fn stream(self) -> impl Stream<Item = Result<User>> + Send + 'static {
        let client = self.client.clone();
        let (query, max) = (self.query, self.max_results);
        offset_stream(self.start_at.unwrap_or(0), move |start| {
            let client = client.clone();
            let request = search_request(&query, Some(start), max);
            async move {
                let users: Vec<User> = client.send(request).await?.json()?;
                let seen = start + users.len() as u64;
                // Without an explicit size the server's default (50) is the yardstick.
                let short = (users.len() as u64) < max.unwrap_or(50);
                Ok(Fetched {
                    last: short || seen >= USER_SEARCH_CAP,
                    items: users,
                })
            }
        })
    }
}
