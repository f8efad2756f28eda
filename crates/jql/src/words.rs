//! JQL's character classes, keywords and reserved words, shared by the lexer (what may appear
//! unquoted) and the printer (what must be quoted).
//!
//! The sets are Jira's: the reserved characters and control characters of its grammar, and the
//! reserved-word list Jira refuses as unquoted text (`'user' is a reserved JQL word ...`).

/// Characters Jira reserves: they may not appear in unquoted text at all.
pub(crate) fn is_reserved_char(c: char) -> bool {
    matches!(
        c,
        '{' | '}' | '*' | '/' | '%' | '+' | '^' | '$' | '#' | '@' | '?' | ';'
    )
}

/// Control characters (whitespace excluded) and Unicode non-characters: they must be written as
/// `\uXXXX` escapes, even inside quotes.
pub(crate) fn is_control_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}'
        | '\u{b}'..='\u{c}'
        | '\u{e}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{fdd0}'..='\u{fdef}'
        | '\u{fffe}'..='\u{ffff}')
}

/// Whitespace separating tokens.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Characters that end an unquoted word without being part of it (operators, punctuation,
/// quotes). Reserved and control characters also end a word, and then fail.
pub(crate) fn is_word_stop(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '=' | '!' | '<' | '>' | '(' | ')' | '~' | ',' | '[' | ']' | '|' | '&' | '\\'
    ) || is_space(c)
        || is_reserved_char(c)
        || is_control_char(c)
}

/// Keywords the lexer turns into their own tokens (case-insensitive).
pub(crate) const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "empty", "null", "was", "changed", "before", "after", "from",
    "to", "on", "during", "order", "by", "asc", "desc", "cf",
];

/// Words Jira refuses as unquoted text anywhere in a query (compared case-insensitively).
const RESERVED_WORDS: &[&str] = &[
    "abort",
    "access",
    "add",
    "after",
    "alias",
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "audit",
    "avg",
    "before",
    "begin",
    "between",
    "boolean",
    "break",
    "by",
    "byte",
    "catch",
    "cf",
    "changed",
    "char",
    "character",
    "check",
    "checkpoint",
    "collate",
    "collation",
    "column",
    "commit",
    "connect",
    "continue",
    "count",
    "create",
    "current",
    "date",
    "decimal",
    "declare",
    "decrement",
    "default",
    "defaults",
    "define",
    "delete",
    "delimiter",
    "desc",
    "difference",
    "distinct",
    "divide",
    "do",
    "double",
    "drop",
    "else",
    "empty",
    "encoding",
    "end",
    "equals",
    "escape",
    "exclusive",
    "exec",
    "execute",
    "exists",
    "explain",
    "false",
    "fetch",
    "field",
    "file",
    "first",
    "float",
    "for",
    "from",
    "function",
    "go",
    "goto",
    "grant",
    "greater",
    "group",
    "having",
    "identified",
    "if",
    "immediate",
    "in",
    "increment",
    "index",
    "initial",
    "inner",
    "inout",
    "input",
    "insert",
    "int",
    "integer",
    "intersect",
    "intersection",
    "into",
    "is",
    "isempty",
    "isnull",
    "join",
    "last",
    "left",
    "less",
    "like",
    "limit",
    "lock",
    "long",
    "max",
    "min",
    "minus",
    "mode",
    "modify",
    "modulo",
    "more",
    "multiply",
    "next",
    "noaudit",
    "not",
    "notin",
    "nowait",
    "null",
    "number",
    "object",
    "of",
    "on",
    "option",
    "or",
    "order",
    "outer",
    "output",
    "power",
    "previous",
    "prior",
    "privileges",
    "public",
    "raise",
    "raw",
    "remainder",
    "rename",
    "resource",
    "return",
    "returns",
    "revoke",
    "right",
    "row",
    "rowid",
    "rownum",
    "rows",
    "select",
    "session",
    "set",
    "share",
    "size",
    "sqrt",
    "start",
    "strict",
    "string",
    "subtract",
    "sum",
    "synonym",
    "table",
    "then",
    "to",
    "trans",
    "transaction",
    "trigger",
    "true",
    "uid",
    "union",
    "unique",
    "update",
    "user",
    "validate",
    "values",
    "view",
    "was",
    "when",
    "whenever",
    "where",
    "while",
    "with",
];

/// Whether `word` is one of the lexer's keywords.
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Whether Jira refuses `word` as unquoted text.
pub fn is_reserved_word(word: &str) -> bool {
    // The list is sorted, so a binary search on the lowercased word suffices; only ASCII words
    // can match.
    if !word.is_ascii() {
        return false;
    }
    let lower = word.to_ascii_lowercase();
    RESERVED_WORDS.binary_search(&lower.as_str()).is_ok()
}

/// Whether `text` has the shape of a JQL number token (`-?[0-9]+`).
pub(crate) fn looks_like_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserved_word_list_is_sorted_so_binary_search_finds_every_entry() {
        let mut sorted = RESERVED_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RESERVED_WORDS);
        assert!(RESERVED_WORDS.iter().all(|w| is_reserved_word(w)));
    }

    #[test]
    fn reserved_words_are_recognised_in_any_case() {
        assert!(is_reserved_word("USER"));
        assert!(is_reserved_word("For"));
        assert!(!is_reserved_word("during"));
        assert!(!is_reserved_word("project"));
    }

    #[test]
    fn number_shapes_are_digits_with_an_optional_minus() {
        assert!(looks_like_number("42"));
        assert!(looks_like_number("-7"));
        assert!(!looks_like_number("-"));
        assert!(!looks_like_number("-15m"));
        assert!(!looks_like_number("1.5"));
    }
}
