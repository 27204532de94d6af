//! Client input is checked here before any recursive parser or walk sees it.
//!
//! Parsers of GraphQL documents and JSON recurse once per nesting level, and a tokio worker's
//! stack is 2 MiB: a document of a few kilobytes of `[` or `{` overflows it, and a stack overflow
//! aborts the whole process — it cannot be caught. So every document a client sends is scanned
//! first, byte by byte and without recursion, for its size and its deepest nesting; only a
//! document within the limits reaches a parser. The scans stop as soon as a limit is passed, so a
//! hostile document costs no more than the limit.

mod graphql;
mod json;

pub use graphql::graphql_nesting;
pub use json::json_nesting;

/// How large and how deeply nested client input may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// The largest request body or WebSocket message, in bytes.
    pub max_request_bytes: usize,
    /// The longest GraphQL document (the query text), in bytes.
    pub max_query_bytes: usize,
    /// The deepest nesting of `{`, `[` and `(` in a GraphQL document.
    pub max_query_nesting: usize,
    /// The deepest nesting of arrays and objects in a JSON body or in GraphQL variables.
    pub max_json_nesting: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_request_bytes: 256 * 1024,
            max_query_bytes: 64 * 1024,
            // A query may be 12 selection sets deep (the schema's depth limit) plus its arguments'
            // objects and lists; 32 is async-graphql's own limit on the parsed document too.
            max_query_nesting: 32,
            // A structure document is about 8 levels deep; 32 leaves room and stays far below the
            // depth at which any recursive walk could exhaust a stack.
            max_json_nesting: 32,
        }
    }
}

/// Why input was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputLimitError {
    #[error("the document is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("the input is nested more than {limit} levels deep")]
    TooDeep { limit: usize },
}

impl InputLimits {
    /// A GraphQL document: its size, then its nesting.
    pub fn check_query(&self, query: &str) -> Result<(), InputLimitError> {
        if query.len() > self.max_query_bytes {
            return Err(InputLimitError::TooLarge {
                size: query.len(),
                limit: self.max_query_bytes,
            });
        }
        if graphql_nesting(query.as_bytes(), self.max_query_nesting) > self.max_query_nesting {
            return Err(InputLimitError::TooDeep {
                limit: self.max_query_nesting,
            });
        }
        Ok(())
    }

    /// A JSON document (a command body, a GraphQL request body).
    pub fn check_json(&self, json: &[u8]) -> Result<(), InputLimitError> {
        if json_nesting(json, self.max_json_nesting) > self.max_json_nesting {
            return Err(InputLimitError::TooDeep {
                limit: self.max_json_nesting,
            });
        }
        Ok(())
    }
}
