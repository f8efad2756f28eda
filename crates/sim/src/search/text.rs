//! Text matching for JQL's `~` and `!~`: a small imitation of Jira's analysed text search.
//!
//! Jira tokenises text fields, lower-cases and stems the words, and matches a query when every
//! term occurs (in any order). The simulator does the same with a light English stemmer (plural
//! `s`/`es`, `ing`, `ed`), `*` as a trailing wildcard, and a quoted phrase (`"\"a b\""`) matching
//! consecutive words.

/// The lower-cased, stemmed words of `text`.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .collect()
}

/// A crude English stemmer, enough that `test` finds `tests` and `testing`.
fn stem(word: &str) -> String {
    if word.chars().count() <= 3 || word.chars().any(|c| c.is_ascii_digit()) {
        return word.to_owned();
    }
    for suffix in ["ies", "es", "s", "ing", "ed"] {
        let Some(base) = word.strip_suffix(suffix) else {
            continue;
        };
        if base.chars().count() < 3 {
            continue;
        }
        if suffix == "ies" {
            return format!("{base}y");
        }
        let sibilant = base.ends_with('s')
            || base.ends_with("sh")
            || base.ends_with("ch")
            || base.ends_with('x');
        if suffix == "es" && !sibilant {
            // "lines" -> "line": only the "s" is a suffix.
            return format!("{base}e");
        }
        return base.to_owned();
    }
    word.to_owned()
}

/// A parsed `~` operand.
#[derive(Debug, Clone, PartialEq)]
pub struct TextQuery {
    /// Groups of consecutive terms; every group must occur.
    phrases: Vec<Vec<Term>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Word(String),
    Prefix(String),
}

impl TextQuery {
    /// Parses the operand of `~`. Returns `None` when it has no searchable term (Jira then
    /// reports an error for the clause).
    pub fn parse(operand: &str) -> Option<Self> {
        let mut phrases = Vec::new();
        let mut rest = operand.trim();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('"') {
                let (inner, tail) = after.split_once('"').unwrap_or((after, ""));
                let group: Vec<Term> = words(inner);
                if !group.is_empty() {
                    phrases.push(group);
                }
                rest = tail.trim_start();
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let (word, tail) = rest.split_at(end);
                for term in words(word) {
                    phrases.push(vec![term]);
                }
                rest = tail.trim_start();
            }
        }
        (!phrases.is_empty()).then_some(Self { phrases })
    }

    /// Whether `tokens` (from [`tokens`]) satisfy the query.
    pub fn matches(&self, tokens: &[String]) -> bool {
        self.phrases.iter().all(|phrase| {
            let Some(first) = phrase.first() else {
                return true;
            };
            (0..tokens.len()).any(|start| {
                first.matches(&tokens[start])
                    && phrase
                        .iter()
                        .enumerate()
                        .skip(1)
                        .all(|(i, t)| tokens.get(start + i).is_some_and(|tok| t.matches(tok)))
            })
        })
    }
}

fn words(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '?')) {
        let lower = raw.to_lowercase();
        if let Some(prefix) = lower.strip_suffix('*') {
            let prefix: String = prefix.chars().filter(|c| c.is_alphanumeric()).collect();
            if !prefix.is_empty() {
                out.push(Term::Prefix(prefix));
            }
        } else {
            let word: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
            if !word.is_empty() {
                out.push(Term::Word(stem(&word)));
            }
        }
    }
    out
}

impl Term {
    fn matches(&self, token: &str) -> bool {
        match self {
            Term::Word(w) => token == w,
            Term::Prefix(p) => token.starts_with(p.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(query: &str, text: &str) -> bool {
        TextQuery::parse(query).is_some_and(|q| q.matches(&tokens(text)))
    }

    #[test]
    fn every_term_must_occur_in_any_order_ignoring_case() {
        assert!(finds("login timeout", "Timeout on the LOGIN page"));
        assert!(!finds("login crash", "Timeout on the login page"));
    }

    #[test]
    fn plural_and_ing_forms_match_their_stem() {
        assert!(finds("test", "Failing tests"));
        assert!(finds("retries", "retry"));
        assert!(finds("fail", "Failing tests"));
    }

    #[test]
    fn trailing_star_is_a_prefix_wildcard_and_phrases_need_consecutive_words() {
        assert!(finds("web*", "Webhook retries pile up"));
        assert!(!finds("web", "Webhook retries pile up"));
        assert!(finds("\"retries pile\"", "Webhook retries pile up"));
        assert!(!finds("\"pile retries\"", "Webhook retries pile up"));
    }

    #[test]
    fn an_operand_without_words_is_not_a_query() {
        assert!(TextQuery::parse("  - ").is_none());
    }
}
