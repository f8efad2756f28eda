//! Query-string parsing for endpoints whose parameters repeat (`groupId=a&groupId=b`) or come as
//! comma-separated lists (`expand=renderedBody,properties`), which a plain `Query<T>` cannot
//! express, plus the paging arithmetic the offset-paged endpoints share.

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};

/// The decoded query string, in order, repeated names kept.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a raw query string (`None` is an empty query).
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`: Jira treats `?query=` like an absent parameter.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every value of `name`, each split on commas, trimmed, empties dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.all(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether `expand` (comma-separated, possibly repeated) names `option`.
    pub fn expands(&self, option: &str) -> bool {
        self.list("expand").iter().any(|e| e == option)
    }

    /// An integer parameter, `default` when absent. A value that is not a number is a 400, as
    /// Jira's parameter binding rejects it before the operation runs.
    pub fn int(&self, name: &str, default: i64) -> ApiResult<i64> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.trim().is_empty() => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "The value '{v}' is not valid for the parameter '{name}'."
                ))
            }),
        }
    }

    /// A boolean parameter (`true`/`false`, any case), `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> ApiResult<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::bad_request(format!(
                "The value '{v}' is not valid for the parameter '{name}'."
            ))),
        }
    }
}

/// An offset page request after Jira's normalisation: negative `startAt` counts as 0, `maxResults`
/// is clamped into `1..=cap` (0 and negatives mean the default, as Jira does for PageBean
/// endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Index of the first item.
    pub start_at: usize,
    /// Page size actually used (and reported back as `maxResults`).
    pub max_results: usize,
}

impl Page {
    /// Reads `startAt` and `maxResults` from `params`.
    pub fn from_params(params: &Params, default_max: i64, cap: i64) -> ApiResult<Self> {
        let start_at = params.int("startAt", 0)?.max(0);
        let mut max_results = params.int("maxResults", default_max)?;
        if max_results <= 0 {
            max_results = default_max;
        }
        Ok(Self {
            start_at: usize::try_from(start_at).unwrap_or(usize::MAX),
            max_results: usize::try_from(max_results.min(cap)).unwrap_or(0),
        })
    }

    /// The slice of `items` this page covers.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = self.start_at.min(items.len());
        let end = start.saturating_add(self.max_results).min(items.len());
        &items[start..end]
    }

    /// Whether the page reaches the end of `total` items.
    pub fn is_last(&self, total: usize) -> bool {
        self.start_at.saturating_add(self.max_results) >= total
    }
}

/// A `PageBean*` body: `values` is the page, `link(start)` builds the URL of the page starting
/// at `start` (for `self` and `nextPage`).
pub(crate) fn page_bean(
    page: Page,
    total: usize,
    values: Vec<Value>,
    link: impl Fn(usize) -> String,
) -> Value {
    let mut body = json!({
        "self": link(page.start_at),
        "maxResults": page.max_results,
        "startAt": page.start_at,
        "total": total,
        "isLast": page.is_last(total),
        "values": values,
    });
    if !page.is_last(total)
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert(
            "nextPage".to_owned(),
            json!(link(page.start_at + page.max_results)),
        );
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_comma_separated_values_are_all_kept() {
        let p = Params::parse(Some("groupId=a&groupId=b&expand=x,y&expand=z"));
        assert_eq!(p.all("groupId"), vec!["a", "b"]);
        assert_eq!(p.list("expand"), vec!["x", "y", "z"]);
        assert!(p.expands("y"));
    }

    #[test]
    fn a_non_numeric_integer_is_rejected() {
        let p = Params::parse(Some("startAt=abc"));
        assert!(p.int("startAt", 0).is_err());
    }

    #[test]
    fn pages_clamp_and_slice() {
        let p = Params::parse(Some("startAt=-3&maxResults=5000"));
        let page = Page::from_params(&p, 50, 100).expect("valid");
        assert_eq!(
            page,
            Page {
                start_at: 0,
                max_results: 100
            }
        );
        let items: Vec<u32> = (0..150).collect();
        assert_eq!(page.slice(&items).len(), 100);
        assert!(!page.is_last(150));
        let beyond = Page {
            start_at: 200,
            max_results: 10,
        };
        assert!(beyond.slice(&items).is_empty());
    }
}
