//! The nesting depth of a GraphQL document, without parsing it.

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// `"…"`, one line, `\` escapes.
    String {
        escaped: bool,
    },
    /// `"""…"""`, `\"""` escapes the closing quotes.
    BlockString,
    /// `#` to the end of the line.
    Comment,
}

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document (selection sets, object and list
/// values, argument and variable lists), counted up to `stop_above + 1` (the scan ends there).
/// Brackets in strings, block strings and comments do not count.
pub fn graphql_nesting(document: &[u8], stop_above: usize) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut state = State::Code;
    let mut i = 0;
    while i < document.len() {
        let byte = document[i];
        match state {
            State::Code => match byte {
                b'#' => state = State::Comment,
                b'"' if document[i..].starts_with(b"\"\"\"") => {
                    state = State::BlockString;
                    i += 2;
                }
                b'"' => state = State::String { escaped: false },
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    if depth > deepest {
                        deepest = depth;
                        if deepest > stop_above {
                            return deepest;
                        }
                    }
                }
                b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                _ => {}
            },
            State::String { escaped: true } => state = State::String { escaped: false },
            State::String { escaped: false } => match byte {
                b'\\' => state = State::String { escaped: true },
                b'"' | b'\n' | b'\r' => state = State::Code,
                _ => {}
            },
            State::BlockString => {
                if document[i..].starts_with(b"\\\"\"\"") {
                    i += 3;
                } else if document[i..].starts_with(b"\"\"\"") {
                    state = State::Code;
                    i += 2;
                }
            }
            State::Comment => {
                if byte == b'\n' || byte == b'\r' {
                    state = State::Code;
                }
            }
        }
        i += 1;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn depth(document: &str) -> usize {
        graphql_nesting(document.as_bytes(), usize::MAX - 1)
    }

    #[test]
    fn counts_selections_arguments_and_values() {
        assert_eq!(depth("{ a }"), 1);
        assert_eq!(depth("{ a(f: {s: [X]}) { b } }"), 4);
        assert_eq!(depth("query Q($v: [[Int]]) { a }"), 3);
    }

    #[test]
    fn ignores_strings_block_strings_and_comments() {
        assert_eq!(depth(r#"{ a(s: "{{{[[[\"((") }"#), 2);
        assert_eq!(depth("{ a(s: \"\"\"{{{ \\\"\"\" [[[ \"\"\") }"), 2);
        assert_eq!(depth("# {{{{{{\n{ a }"), 1);
    }

    #[test]
    fn stops_once_past_the_limit() {
        let deep = format!("{{ a(f: {}) }}", "[".repeat(100_000));
        assert_eq!(graphql_nesting(deep.as_bytes(), 32), 33);
    }

    proptest! {
        #[test]
        fn nested_lists_measure_their_depth(levels in 0usize..200) {
            let document = format!(
                "{{ campaigns(filter: {{status: {}DRAFT{}}}) {{ id }} }}",
                "[".repeat(levels),
                "]".repeat(levels)
            );
            prop_assert_eq!(depth(&document), 3 + levels);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), limit in 0usize..64) {
            prop_assert!(graphql_nesting(&bytes, limit) <= limit + 1);
        }
    }
}
