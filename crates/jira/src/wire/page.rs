//! Offset paging: Jira's `PageBean` envelope (`startAt`, `maxResults`, `total`, `isLast`,
//! `values`), used by `/group/bulk`, `/group/member`, `/webhook`, `/project/search` and
//! `/comment/list`. The server may cap `maxResults` below what was asked and `isLast` is not
//! always sent, so callers advance by the number of values actually returned.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One page of an offset-paged list.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageBean<T> {
    /// Index of the first value on this page.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// The page size the server used (may be lower than requested).
    #[serde(default)]
    pub max_results: Option<u64>,
    /// Total number of values, when the server counts them (it "may change" between pages).
    #[serde(default)]
    pub total: Option<u64>,
    /// Whether this is the last page, when the server says so.
    #[serde(default)]
    pub is_last: Option<bool>,
    /// Link to the next page, when there is one.
    #[serde(default)]
    pub next_page: Option<String>,
    /// The values.
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
    /// Everything else (`self`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T> PageBean<T> {
    /// Whether no page follows this one: `isLast`, else an empty page, else `total` reached.
    pub fn is_final(&self) -> bool {
        if let Some(last) = self.is_last {
            return last;
        }
        if self.values.is_empty() {
            return true;
        }
        match (self.total, self.start_at) {
            (Some(total), Some(start)) => start + self.values.len() as u64 >= total,
            _ => self.next_page.is_none(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_is_last_ends_when_total_is_reached() {
        let page: PageBean<u32> =
            serde_json::from_str(r#"{"startAt":2,"maxResults":2,"total":4,"values":[1,2]}"#)
                .unwrap();
        assert!(page.is_final());
        let page: PageBean<u32> =
            serde_json::from_str(r#"{"startAt":0,"total":4,"values":[1,2]}"#).unwrap();
        assert!(!page.is_final());
    }

    #[test]
    fn is_last_wins_and_an_empty_page_ends_paging() {
        let page: PageBean<u32> = serde_json::from_str(r#"{"isLast":false,"values":[]}"#).unwrap();
        assert!(!page.is_final());
        let page: PageBean<u32> = serde_json::from_str(r#"{"values":[]}"#).unwrap();
        assert!(page.is_final());
    }
}
