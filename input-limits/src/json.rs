//! The nesting depth of a JSON text, without parsing it.

/// The deepest nesting of arrays and objects in `json`, counted up to `stop_above + 1` (the scan
/// ends there). Brackets inside strings do not count; malformed text is scanned all the same (the
/// parser that runs next reports it).
pub fn json_nesting(json: &[u8], stop_above: usize) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > stop_above {
                        return deepest;
                    }
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nested(depth: usize) -> serde_json::Value {
        let mut value = serde_json::json!("[{ \"not brackets\\\" ]]]");
        for level in 0..depth {
            value = if level % 2 == 0 {
                serde_json::json!([value, 1, {"a": "}"}])
            } else {
                serde_json::json!({"k[": value})
            };
        }
        value
    }

    #[test]
    fn counts_brackets_outside_strings() {
        assert_eq!(json_nesting(b"1", 10), 0);
        assert_eq!(json_nesting(br#"{"a": [1, {"b": "[[[["}]}"#, 10), 3);
        assert_eq!(json_nesting(br#"["\"[[", []]"#, 10), 2);
    }

    #[test]
    fn stops_once_past_the_limit() {
        let deep = "[".repeat(100_000);
        assert_eq!(json_nesting(deep.as_bytes(), 32), 33);
    }

    fn true_depth(value: &serde_json::Value) -> usize {
        match value {
            serde_json::Value::Array(items) => 1 + items.iter().map(true_depth).max().unwrap_or(0),
            serde_json::Value::Object(map) => 1 + map.values().map(true_depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_parsed_structure(depth in 0usize..60) {
            let value = nested(depth);
            let text = serde_json::to_vec(&value).unwrap();
            prop_assert_eq!(json_nesting(&text, usize::MAX - 1), true_depth(&value));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), limit in 0usize..64) {
            let measured = json_nesting(&bytes, limit);
            prop_assert!(measured <= limit + 1);
        }
    }
}
