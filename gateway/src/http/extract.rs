//! axum's `Json`, `Path` and `Query` with their rejections turned into
//! [`ApiError`], so that a malformed request gets the same error body as any other.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::ApiError;

/// A JSON request body; a malformed one is `422 invalid`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// Path parameters; a malformed one (not a uuid) is `422 invalid`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters; a malformed one is `422 invalid`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A JSON body's integer as JSON Schema (and so the OpenAPI document) counts
/// them: `219` and `219.0` are the same integer, `219.5` is none. serde reads
/// `219.0` as a float and refuses it for an integer field; use with
/// `#[serde(deserialize_with = "integer")]`.
pub fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::Deserialize;
    use serde::de::Error;
    // the largest magnitude a float holds every integer up to
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let number = serde_json::Number::deserialize(deserializer)?;
    let value = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            .map(|f| f as i64)
    });
    let value = value.ok_or_else(|| D::Error::custom("expected an integer"))?;
    T::try_from(value).map_err(|_| D::Error::custom("integer out of range"))
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::integer")]
        n: i32,
    }

    fn parse(json: &str) -> Option<i32> {
        serde_json::from_str::<Body>(json).ok().map(|b| b.n)
    }

    #[test]
    fn an_integer_may_be_written_with_a_zero_fraction_and_nothing_else_passes() {
        assert_eq!(parse(r#"{"n": 219}"#), Some(219));
        assert_eq!(parse(r#"{"n": 219.0}"#), Some(219));
        assert_eq!(parse(r#"{"n": -3e2}"#), Some(-300));
        assert_eq!(parse(r#"{"n": 219.5}"#), None);
        assert_eq!(parse(r#"{"n": 1e300}"#), None);
        assert_eq!(parse(r#"{"n": 4294967296}"#), None);
        assert_eq!(parse(r#"{"n": "219"}"#), None);
    }
}
