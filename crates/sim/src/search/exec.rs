//! Running a compiled query over a site's index: the planner, keyset paging and counting.
//!
//! The planner looks at the top-level AND chain for a project restriction and time bounds on
//! `updated`/`created`, and at the first ORDER BY key. When that key is `updated`, `created`,
//! `id` (or `key` inside one project) it walks the matching ordered index from the page cursor,
//! evaluates the full condition per candidate, and stops once the page is full and the primary
//! sort value changes: a page costs about O(page size), not O(project). Other shapes filter the
//! scope and sort it.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use super::compile::{Compiled, Env};
use super::eval::{Cmp, Pred};
use super::fields::{Field, V};
use super::index::{Doc, Ordered, SiteIndex};
use super::order::{self, SortField, SortVal};

/// Where the previous page ended.
#[derive(Debug, Clone)]
pub struct After {
    /// Sort values of the last issue.
    pub keys: Vec<SortVal>,
    /// Its id.
    pub id: u64,
}

/// One hit: sort values, id.
pub type Hit = (Vec<SortVal>, u64);

/// A page of hits and whether more follow.
#[derive(Debug, Default)]
pub struct Page {
    /// Hits in order.
    pub hits: Vec<Hit>,
    /// Whether another page exists.
    pub more: bool,
}

struct Plan {
    /// Projects the query is restricted to (already limited to browsable ones); `None` = all.
    projects: Option<Vec<u64>>,
    /// Bounds on `updated` (inclusive, in ms).
    updated: (i64, i64),
    /// Bounds on `created`.
    created: (i64, i64),
}

fn plan(compiled: &Compiled, browsable: &HashSet<u64>) -> Plan {
    let mut projects: Option<BTreeSet<u64>> = None;
    let mut updated = (i64::MIN, i64::MAX);
    let mut created = (i64::MIN, i64::MAX);
    if let Some(pred) = &compiled.pred {
        for conjunct in pred.conjuncts() {
            match conjunct {
                Pred::In {
                    field: Field::Project,
                    set,
                    negated: false,
                } => {
                    let ids: BTreeSet<u64> = set
                        .iter()
                        .filter_map(|v| match v {
                            V::Int(id) => u64::try_from(*id).ok(),
                            _ => None,
                        })
                        .collect();
                    projects = Some(match projects {
                        Some(prev) => prev.intersection(&ids).copied().collect(),
                        None => ids,
                    });
                }
                Pred::Compare {
                    field,
                    cmp,
                    value: V::Int(t),
                } => {
                    let bounds = match field {
                        Field::Updated => &mut updated,
                        Field::Created => &mut created,
                        _ => continue,
                    };
                    match cmp {
                        Cmp::Gt => bounds.0 = bounds.0.max(t.saturating_add(1)),
                        Cmp::Ge => bounds.0 = bounds.0.max(*t),
                        Cmp::Lt => bounds.1 = bounds.1.min(t.saturating_sub(1)),
                        Cmp::Le => bounds.1 = bounds.1.min(*t),
                    }
                }
                _ => {}
            }
        }
    }
    Plan {
        projects: projects.map(|p| p.into_iter().filter(|id| browsable.contains(id)).collect()),
        updated,
        created,
    }
}

/// Ids of projects the caller may browse.
pub fn browsable_projects(env: &Env<'_>) -> HashSet<u64> {
    env.site
        .jira
        .projects
        .values()
        .filter(|p| env.can_browse(p))
        .map(|p| p.id)
        .collect()
}

struct Runner<'a> {
    env: &'a Env<'a>,
    compiled: &'a Compiled,
    browsable: HashSet<u64>,
    after: Option<&'a After>,
    skip: HashSet<u64>,
}

impl Runner<'_> {
    /// The hit for `doc` when it matches and sorts after the cursor.
    fn hit(&self, doc: &Doc) -> Option<Hit> {
        if !self.browsable.contains(&doc.project_id) {
            return None;
        }
        if let Some(pred) = &self.compiled.pred
            && !pred.matches(doc, self.env.site, &self.env.dates)
        {
            return None;
        }
        let keys = order::sort_values(
            &self.compiled.order,
            doc,
            self.env.world,
            self.env.site,
            &self.env.dates,
        );
        if let Some(after) = self.after
            && order::compare(
                &self.compiled.order,
                (&keys, doc.id),
                (&after.keys, after.id),
            ) != Ordering::Greater
        {
            return None;
        }
        Some((keys, doc.id))
    }
}

/// Runs one page of `compiled` over `index`. `live` are issues evaluated from the live world
/// instead of the index (`reconcileIssues`): their index copies are ignored.
pub fn page(
    index: Option<&SiteIndex>,
    env: &Env<'_>,
    compiled: &Compiled,
    after: Option<&After>,
    limit: usize,
    live: &[Arc<Doc>],
) -> Page {
    let runner = Runner {
        env,
        compiled,
        browsable: browsable_projects(env),
        after,
        skip: live.iter().map(|d| d.id).collect(),
    };
    let plan = plan(compiled, &runner.browsable);
    let mut hits: Vec<Hit> = Vec::new();
    if let Some(index) = index {
        let ordered_walk = walk(index, &plan, compiled, after);
        match ordered_walk {
            Some(walker) => {
                let mut boundary: Option<i64> = None;
                for (primary, id) in walker {
                    if boundary.is_some_and(|b| b != primary) {
                        break;
                    }
                    if runner.skip.contains(&id) {
                        continue;
                    }
                    let Some(doc) = index.docs.get(&id) else {
                        continue;
                    };
                    if let Some(hit) = runner.hit(doc) {
                        hits.push(hit);
                        if hits.len() > limit && boundary.is_none() {
                            // Keep collecting ties of the boundary's primary value: later keys
                            // may sort them before it.
                            boundary = Some(primary);
                        }
                    }
                }
            }
            None => {
                for doc in scope_docs(index, &plan) {
                    if runner.skip.contains(&doc.id) {
                        continue;
                    }
                    if let Some(hit) = runner.hit(doc) {
                        hits.push(hit);
                    }
                }
            }
        }
    }
    for doc in live {
        if let Some(hit) = runner.hit(doc) {
            hits.push(hit);
        }
    }
    let cmp = |a: &Hit, b: &Hit| order::compare(&compiled.order, (&a.0, a.1), (&b.0, b.1));
    if hits.len() > limit + 1 {
        hits.select_nth_unstable_by(limit, cmp);
        hits.truncate(limit + 1);
    }
    hits.sort_by(cmp);
    let more = hits.len() > limit;
    hits.truncate(limit);
    Page { hits, more }
}

/// Counts the issues matching `compiled` (no paging, no order).
pub fn count(index: Option<&SiteIndex>, env: &Env<'_>, compiled: &Compiled) -> usize {
    let Some(index) = index else {
        return 0;
    };
    let browsable = browsable_projects(env);
    let plan = plan(compiled, &browsable);
    scope_docs(index, &plan)
        .filter(|doc| browsable.contains(&doc.project_id))
        .filter(|doc| {
            compiled
                .pred
                .as_ref()
                .is_none_or(|p| p.matches(doc, env.site, &env.dates))
        })
        .count()
}

/// Whether `doc` matches `compiled` for the caller (browse permission included).
pub fn matches(doc: &Doc, env: &Env<'_>, compiled: &Compiled, browsable: &HashSet<u64>) -> bool {
    browsable.contains(&doc.project_id)
        && compiled
            .pred
            .as_ref()
            .is_none_or(|p| p.matches(doc, env.site, &env.dates))
}

fn scopes<'i>(index: &'i SiteIndex, plan: &Plan) -> Vec<&'i Ordered> {
    match &plan.projects {
        Some(ids) => ids.iter().filter_map(|id| index.projects.get(id)).collect(),
        None => vec![&index.all],
    }
}

fn scope_docs<'i>(index: &'i SiteIndex, plan: &Plan) -> impl Iterator<Item = &'i Arc<Doc>> + 'i {
    let scopes = scopes(index, plan);
    let (lo, hi) = plan.updated;
    let narrow_by_updated = lo != i64::MIN || hi != i64::MAX;
    let ids: Vec<u64> = scopes
        .into_iter()
        .flat_map(|s| -> Box<dyn Iterator<Item = u64> + 'i> {
            if narrow_by_updated && lo <= hi {
                Box::new(
                    s.by_updated
                        .range((lo, 0)..=(hi, u64::MAX))
                        .map(|(_, id)| *id),
                )
            } else if narrow_by_updated {
                Box::new(std::iter::empty())
            } else {
                Box::new(s.by_id.iter().copied())
            }
        })
        .collect();
    ids.into_iter().filter_map(move |id| index.docs.get(&id))
}

type Walker<'i> = Box<dyn Iterator<Item = (i64, u64)> + 'i>;

/// An ordered walk over the index for the first ORDER BY key, or `None` when the planner has no
/// index for it.
fn walk<'i>(
    index: &'i SiteIndex,
    plan: &Plan,
    compiled: &Compiled,
    after: Option<&After>,
) -> Option<Walker<'i>> {
    let first = compiled.order.first()?;
    let scopes = scopes(index, plan);
    let [scope] = scopes.as_slice() else {
        // No single scope (several projects): the site-wide index still orders them, with the
        // project test done per candidate, unless the key is per-project.
        if first.field == SortField::Key || scopes.is_empty() {
            return if scopes.is_empty() {
                Some(Box::new(std::iter::empty()))
            } else {
                None
            };
        }
        return walk_scope(&index.all, plan, first.field.clone(), first.desc, after);
    };
    if first.field == SortField::Key && plan.projects.is_none() {
        return None;
    }
    walk_scope(scope, plan, first.field.clone(), first.desc, after)
}

fn walk_scope<'i>(
    scope: &'i Ordered,
    plan: &Plan,
    field: SortField,
    desc: bool,
    after: Option<&After>,
) -> Option<Walker<'i>> {
    let cursor = after.and_then(|a| match a.keys.first() {
        Some(SortVal::Int(v)) => Some(*v),
        Some(SortVal::Key(_, n)) => i64::try_from(*n).ok(),
        _ => None,
    });
    let (mut lo, mut hi) = match field {
        SortField::Updated => plan.updated,
        SortField::Created => plan.created,
        SortField::Id | SortField::Key => (i64::MIN, i64::MAX),
        _ => return None,
    };
    if let Some(c) = cursor {
        if desc {
            hi = hi.min(c);
        } else {
            lo = lo.max(c);
        }
    }
    if lo > hi {
        return Some(Box::new(std::iter::empty()));
    }
    fn ranged<'s>(set: &'s BTreeSet<(i64, u64)>, lo: i64, hi: i64, desc: bool) -> Walker<'s> {
        let range = set.range((Bound::Included((lo, 0)), Bound::Included((hi, u64::MAX))));
        if desc {
            Box::new(range.rev().copied())
        } else {
            Box::new(range.copied())
        }
    }
    Some(match field {
        SortField::Updated => ranged(&scope.by_updated, lo, hi, desc),
        SortField::Created => ranged(&scope.by_created, lo, hi, desc),
        SortField::Id => {
            let lo = u64::try_from(lo).unwrap_or(0);
            let hi = u64::try_from(hi).unwrap_or(0);
            let range = scope.by_id.range(lo..=hi).map(|id| (*id as i64, *id));
            if desc {
                Box::new(range.rev())
            } else {
                Box::new(range)
            }
        }
        SortField::Key => {
            let lo = u64::try_from(lo).unwrap_or(0);
            let hi = u64::try_from(hi).unwrap_or(0);
            let range = scope
                .by_number
                .range((lo, 0)..=(hi, u64::MAX))
                .map(|(n, id)| (*n as i64, *id));
            if desc {
                Box::new(range.rev())
            } else {
                Box::new(range)
            }
        }
        _ => return None,
    })
}
