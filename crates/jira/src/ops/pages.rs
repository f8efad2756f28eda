//! Turning offset-paged endpoints into streams of items. Jira may cap a page below the size asked
//! for and may omit `isLast`, so the next offset is always "this offset + items received", and an
//! empty page ends the stream whatever the envelope claims (that is what stops a server that
//! keeps answering `isLast: false` from looping forever).

use std::collections::VecDeque;
use std::future::Future;

use futures_util::Stream;
use futures_util::stream;

use crate::client::{ApiRequest, JiraClient};
use crate::error::Result;
use crate::wire::page::PageBean;

/// One fetched page: its items and whether the server says no page follows.
pub(crate) struct Fetched<T> {
    pub(crate) items: Vec<T>,
    pub(crate) last: bool,
}

struct State<T, F> {
    next: u64,
    buffer: VecDeque<T>,
    done: bool,
    fetch: F,
}

/// Streams the items of every page, fetching page `n + 1` only once page `n` is consumed.
/// `fetch(start_at)` loads one page.
pub(crate) fn offset_stream<T, F, Fut>(start_at: u64, fetch: F) -> impl Stream<Item = Result<T>>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Fetched<T>>>,
{
    let state = State {
        next: start_at,
        buffer: VecDeque::new(),
        done: false,
        fetch,
    };
    stream::try_unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.buffer.pop_front() {
                return Ok(Some((item, state)));
            }
            if state.done {
                return Ok(None);
            }
            let page = (state.fetch)(state.next).await?;
            state.next += page.items.len() as u64;
            state.done = page.last || page.items.is_empty();
            state.buffer.extend(page.items);
        }
    })
}

/// Streams a `PageBean` endpoint; `request(start_at)` builds the request for one page. The
/// stream owns a clone of the client, so it outlives the builder that made it.
pub(crate) fn page_stream<T, F>(
    client: JiraClient,
    start_at: u64,
    request: F,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(u64) -> ApiRequest + Send + Sync + 'static,
{
    offset_stream(start_at, move |start| {
        let client = client.clone();
        let request = request(start);
        async move {
            let page: PageBean<T> = client.send(request).await?.json()?;
            let last = page.is_final();
            Ok(Fetched {
                items: page.values,
                last,
            })
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    #[tokio::test]
    async fn pages_are_followed_by_items_received_until_an_empty_page() {
        // The server caps pages at 2 items and never says `isLast`.
        let data: Vec<u32> = (0..5).collect();
        let items: Vec<u32> = offset_stream(0, |start| {
            let data = data.clone();
            async move {
                let start = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
                let end = (start + 2).min(data.len());
                Ok(Fetched {
                    items: data[start..end].to_vec(),
                    last: false,
                })
            }
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, data);
    }

    proptest::proptest! {
        #[test]
        fn every_item_is_streamed_once_in_order_whatever_the_server_page_cap(
            total in 0usize..300, cap in 1usize..60, honest_last in proptest::bool::ANY
        ) {
            let data: Vec<usize> = (0..total).collect();
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let items: Vec<usize> = runtime.block_on(offset_stream(0, |start| {
                let data = data.clone();
                async move {
                    let start = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
                    let end = (start + cap).min(data.len());
                    Ok(Fetched {
                        items: data[start..end].to_vec(),
                        last: honest_last && end == data.len(),
                    })
                }
            })
            .try_collect())
            .unwrap();
            proptest::prop_assert_eq!(items, data);
        }
    }
}
