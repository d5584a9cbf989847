//! REST request bodies: read within a size bound, parsed strictly, and
//! refused with errors that name the field and the kind of fault, never the
//! value.
//!
//! - **Objects only.** The API's request bodies take a JSON object and
//!   nothing else, refusing unknown, duplicate and missing fields
//!   (`zktx_proto::object_only!`, which writes their `Deserialize`).
//! - **No echo.** serde's messages quote what was sent (`invalid type: string
//!   "…", expected u64`); [`fault`] keeps only what comes from our own types:
//!   the kind of fault and what was expected, with the field's path from
//!   `serde_path_to_error`.
//! - **Bounded.** A body larger than the caller's plan needs is refused with
//!   413 from its `Content-Length`, before it is read, or as soon as more
//!   bytes than that arrive.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;

use crate::error::ApiError;
#[cfg(test)]
use zktx_proto::{object_only, rest::max_body_bytes};

/// The kind of fault in a JSON error and what was expected, without any of
/// the text that was sent.
pub fn fault(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => format!(
            "not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
        Category::Io => "the body could not be read".into(),
        Category::Data => {
            let text = error.to_string();
            // serde_json appends the position; the rest is the message.
            let text = match text.rfind(" at line ") {
                Some(at) => &text[..at],
                None => &text,
            };
            // What was expected comes last and from our own types; what was
            // found comes first and may quote the value.
            let expected = text.rfind(", expected ").map(|at| &text[at + 2..]);
            let kind = if text.starts_with("invalid type") {
                "wrong type"
            } else if text.starts_with("invalid value") {
                "invalid value"
            } else if text.starts_with("invalid length") {
                "wrong number of elements"
            } else if text.starts_with("missing field `")
                || text.starts_with("duplicate field `")
                || text.starts_with("unknown field: expected only ")
            {
                // Field names from our own types, and no value.
                return text.to_string();
            } else {
                "malformed value"
            };
            match expected {
                Some(expected) => format!("{kind}: {expected}"),
                None => kind.to_string(),
            }
        }
    }
}

/// Parses `bytes` as `T` (which may borrow from them); a fault names the
/// field (`prefix` and the path within), never the value.
pub fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], prefix: &str) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| invalid_at(prefix, &e.path().to_string(), e.inner()))?;
    deserializer
        .end()
        .map_err(|e| invalid_at(prefix, ".", &e))?;
    Ok(value)
}

fn invalid_at(prefix: &str, path: &str, error: &serde_json::Error) -> ApiError {
    let field = match (prefix, path) {
        ("", ".") => "body".to_string(),
        (prefix, ".") => prefix.to_string(),
        ("", path) => path.to_string(),
        (prefix, path) => format!("{prefix}.{path}"),
    };
    ApiError::invalid(field, fault(error))
}

/// Reads a JSON body of at most `limit` bytes: a wrong content type is
/// INVALID_ARGUMENT; a body over the limit is refused from its declared
/// length before it is read, or as soon as it passes the limit.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
        .unwrap_or(false);
    if !json {
        return Err(ApiError::invalid(
            "content-type",
            "must be application/json",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = ApiError::PayloadTooLarge {
        limit_bytes: limit as u64,
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large);
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large),
        Err(_) => Err(ApiError::invalid("body", "the body could not be read")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Inner {
        k: u64,
        name: String,
    }
    object_only!(Inner {
        k: u64,
        name: String
    });

    #[derive(Debug, PartialEq)]
    struct Outer {
        inner: Inner,
        items: Vec<Inner>,
    }
    object_only!(Outer {
        inner: Inner,
        items: Vec<Inner>
    });

    fn refuse(body: &str) -> (String, String) {
        match parse::<Outer>(body.as_bytes(), "") {
            Err(ApiError::InvalidArgument { field, reason }) => (field, reason),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn objects_parse_and_arrays_do_not() {
        let ok = r#"{"inner": {"k": 1, "name": "a"}, "items": [{"name": "b", "k": 2}]}"#;
        let outer: Outer = parse(ok.as_bytes(), "").unwrap();
        assert_eq!(outer.items[0].k, 2);
        let (field, reason) = refuse(r#"[{"k": 1, "name": "a"}, []]"#);
        assert_eq!(field, "body");
        assert!(
            reason.starts_with("wrong type: expected an object"),
            "{reason}"
        );
        let (field, _) = refuse(r#"{"inner": [1, "a"], "items": []}"#);
        assert_eq!(field, "inner");
        let (field, _) = refuse(r#"{"inner": {"k": 1, "name": "a"}, "items": [[2, "b"]]}"#);
        assert_eq!(field, "items[0]");
    }

    #[test]
    fn unknown_duplicate_and_missing_fields_are_named_without_values() {
        let (field, reason) =
            refuse(r#"{"inner": {"k": 1, "name": "a", "SECRET-KEY": 5}, "items": []}"#);
        assert_eq!(field, "inner");
        assert_eq!(reason, "unknown field: expected only `k`, `name`");
        let (_, reason) = refuse(r#"{"inner": {"k": 1, "k": 2, "name": "a"}, "items": []}"#);
        assert_eq!(reason, "duplicate field `k`");
        let (field, reason) = refuse(r#"{"inner": {"k": 1}, "items": []}"#);
        assert_eq!(
            (field.as_str(), reason.as_str()),
            ("inner", "missing field `name`")
        );
    }

    #[test]
    fn faults_never_quote_what_was_sent() {
        for (body, field) in [
            (
                r#"{"inner": {"k": "SECRET-1", "name": "a"}, "items": []}"#,
                "inner.k",
            ),
            (
                r#"{"inner": {"k": -77777, "name": "a"}, "items": []}"#,
                "inner.k",
            ),
            (
                r#"{"inner": {"k": 1e300, "name": "a"}, "items": []}"#,
                "inner.k",
            ),
            (
                r#"{"inner": {"k": 1, "name": 77777}, "items": []}"#,
                "inner.name",
            ),
            (
                r#"{"inner": "SECRET-2, expected u64", "items": []}"#,
                "inner",
            ),
            (r#""{\"inner\": \"SECRET-3\"}""#, "body"),
            (r#"{"inner": {"k": 1, "name": "SECRET-4"#, "inner.name"),
            (
                r#"{"inner": {"k": 1, "name": "a"}, "items": []} SECRET-5"#,
                "body",
            ),
        ] {
            let (got, reason) = refuse(body);
            assert_eq!(got, field, "{body}");
            assert!(
                !reason.contains("SECRET") && !reason.contains("77777") && !reason.contains("300"),
                "{body}: {reason}"
            );
        }
    }

    #[test]
    fn body_bounds_grow_with_the_batch() {
        assert!(max_body_bytes(1) < max_body_bytes(2));
        assert_eq!(max_body_bytes(1000), 1000 * 2048 + 4096);
    }
}
