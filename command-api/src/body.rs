//! The JSON body of a command: size-limited, `application/json` only, unknown fields refused, and
//! shape errors reported with the JSON pointer of the offending field. Its canonical form is kept
//! for the idempotency fingerprint. Nesting deeper than the configured limit is refused before
//! parsing.

use crate::problem::ApiError;
use crate::AppState;
use adflow_domain::Violation;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct JsonBody<T> {
    pub value: T,
    /// The body as canonical JSON (keys sorted, no spacing, whole numbers as integers): the
    /// request's identity for `Idempotency-Key`, so that a retry that writes the same JSON
    /// differently is the same request. serde_json's maps are sorted, so printing the parsed
    /// document is canonical.
    pub canonical: Vec<u8>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let raw = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))?;
        // serde_json recurses per level (up to 128), and so would every walk of a JSON document
        // the body carries: a deeper body is refused before it is parsed.
        state
            .input_limits
            .check_json(&raw)
            .map_err(|_| ApiError::NestedTooDeep(state.input_limits.max_json_nesting))?;
        let (value, canonical) = parse(&raw)?;
        Ok(JsonBody { value, canonical })
    }
}

/// The typed body and its canonical JSON.
fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<(T, Vec<u8>), ApiError> {
    let mut document: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    // Every command body is an object: serde would also read a struct from an array of its
    // fields in order, which no document allows.
    if !document.is_object() {
        return Err(ApiError::Invalid(vec![Violation {
            path: String::new(),
            code: "invalid_shape".into(),
            message: "the body must be a JSON object".into(),
        }]));
    }
    integral_numbers_as_integers(&mut document);
    let canonical = document.to_string().into_bytes();
    let value = serde_path_to_error::deserialize(document).map_err(|error| {
        let path = pointer_path(error.path());
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::MalformedJson(inner.to_string());
        }
        let path = if path == "." {
            String::new()
        } else {
            path.replace('.', "/")
        };
        ApiError::Invalid(vec![Violation {
            path,
            code: "invalid_shape".into(),
            message: inner.to_string(),
        }])
    })?;
    Ok((value, canonical))
}

/// JSON has one number type, and JSON Schema counts `151.0` as an integer: a client (or a
/// generator) that writes whole numbers with a fraction gets them read as the integers they are.
fn integral_numbers_as_integers(document: &mut serde_json::Value) {
    // 2^63: every whole f64 below it in magnitude is an exact i64.
    const EXACT: f64 = 9_223_372_036_854_775_808.0;
    let mut pending = vec![document];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::Number(number) if number.is_f64() => {
                if let Some(float) = number.as_f64() {
                    if float.fract() == 0.0 && float.abs() < EXACT {
                        *value = serde_json::Value::from(float as i64);
                    }
                }
            }
            serde_json::Value::Array(items) => pending.extend(items.iter_mut()),
            serde_json::Value::Object(fields) => pending.extend(fields.values_mut()),
            _ => {}
        }
    }
}

/// `platforms[1]` in serde's notation is `platforms/1` in ours (a JSON pointer without the `/`).
fn pointer_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let segments: Vec<String> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_json_written_differently_is_the_same_request() {
        let canonical = |raw: &[u8]| parse::<serde_json::Value>(raw).unwrap().1;
        let first = canonical(br#"{"name":"a","budget":1}"#);
        assert_eq!(first, canonical(b"{ \"budget\": 1.0,\n  \"name\": \"a\" }"));
        assert_ne!(first, canonical(br#"{"name":"b","budget":1}"#));
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        items: Vec<u8>,
    }

    #[test]
    fn shape_errors_name_the_field() {
        match parse::<Shape>(br#"{"name": "a", "items": [1, "x"]}"#) {
            Err(ApiError::Invalid(v)) => assert_eq!(v[0].path, "items/1"),
            other => panic!("{other:?}"),
        }
        match parse::<Shape>(br#"{"name": "a", "items": [], "extra": 1}"#) {
            Err(ApiError::Invalid(v)) => assert!(v[0].message.contains("unknown field"), "{v:?}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<Shape>(b"{"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse::<Shape>(br#"{"name":"a","items":[]} x"#),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(parse::<Shape>(br#"{"name":"a","items":[]}"#).is_ok());
        let (whole, _) = parse::<Shape>(br#"{"name":"a","items":[1.0, 2e0]}"#).unwrap();
        assert_eq!(whole.items, vec![1, 2]);
        assert!(matches!(
            parse::<Shape>(br#"{"name":"a","items":[1.5]}"#),
            Err(ApiError::Invalid(_))
        ));
    }
}
