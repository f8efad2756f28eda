//! Markdown -> ADF of a ~10 KB document built from every supported construct, plus the reverse
//! (ADF -> Markdown and ADF -> text) of the result. Run: `cargo bench -p jiraflow-jira --bench adf`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiraflow_jira::adf;

/// One section of varied constructs (~1 KB); `n` varies the text so sections differ.
fn section(n: usize) -> String {
    format!(
        r#"## Section {n}: login page times out

The **login page** times out under *load* when more than {n} users sign in at once; see
[the runbook](https://example.com/runbooks/{n}?tab=login&x=1) and <https://status.example.com/{n}>.
Thanks [~accountid:5b10a2844c20165700ede21g|Ada Admin] and @[557058:f58131cb-b67d-43c7-b30d-6b58d40bd0{n:02}]!\
Second line with `inline_code({n})` and ~~obsolete~~ text.

1. Reproduce with `k6 run login.js`
2. Check the *gateway* logs
   - look for **503** answers
   - note the `RateLimit-Reason` header
3. Open an incident

> The fix must not regress **SSO**.
> Owner: team {n}.

```rust
fn retry(attempt: u32) -> Duration {{
    Duration::from_millis(100 * 2u64.pow(attempt.min({n})))
}}
```

| Metric | Before | After |
| --- | --- | --- |
| p95 latency | {n}00 ms | 90 ms |
| errors | **{n}%** | 0.1% |

---
"#
    )
}

fn document() -> String {
    let mut doc = String::from("# Incident report\n\n");
    let mut n = 0;
    while doc.len() < 10 * 1024 {
        doc.push_str(&section(n));
        doc.push('\n');
        n += 1;
    }
    doc
}

fn count_nodes(node: &serde_json::Value) -> usize {
    1 + node["content"]
        .as_array()
        .map_or(0, |c| c.iter().map(count_nodes).sum())
}

fn bench(c: &mut Criterion) {
    let markdown = document();
    let doc = adf::from_markdown(&markdown);
    let mut group = c.benchmark_group("adf");
    group.throughput(Throughput::Bytes(markdown.len() as u64));
    // The floor: pulldown-cmark's event stream alone, with the same options.
    group.bench_function("pulldown_events_only_10k", |b| {
        let mut options = pulldown_cmark::Options::empty();
        options.insert(pulldown_cmark::Options::ENABLE_TABLES);
        options.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
        b.iter(|| pulldown_cmark::Parser::new_ext(black_box(&markdown), options).count());
    });
    group.bench_function("markdown_to_adf_10k", |b| {
        b.iter(|| adf::from_markdown(black_box(&markdown)));
    });
    group.bench_function("adf_to_markdown_10k", |b| {
        b.iter(|| adf::to_markdown(black_box(&doc)));
    });
    group.bench_function("adf_to_text_10k", |b| {
        b.iter(|| adf::to_text(black_box(&doc)));
    });
    group.finish();
    eprintln!(
        "document: {} bytes of Markdown, {} bytes of ADF JSON, {} ADF nodes",
        markdown.len(),
        serde_json::to_string(&doc).unwrap().len(),
        count_nodes(&doc)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
