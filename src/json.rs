//! JSON reading and writing rules shared by every document: bounded reads
//! (size and nesting depth checked before parsing) and the canonical encoding
//! this crate writes (compact, object keys sorted), which makes manifests and
//! indexes reproducible byte for byte.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a JSON document was refused.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The document is larger than the bound.
    #[error("document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the document.
        size: u64,
        /// The bound in force.
        limit: u64,
    },
    /// The document nests deeper than the bound.
    #[error("JSON nests deeper than {limit} levels (at byte {offset})")]
    TooDeep {
        /// The bound in force.
        limit: usize,
        /// Byte offset where the bound was crossed.
        offset: usize,
    },
    /// Not well-formed JSON, or not of the expected shape.
    #[error("{0}")]
    Syntax(#[from] serde_json::Error),
}

/// Checks the nesting depth of a JSON text without parsing it into values.
/// Brackets inside strings are skipped; malformed text is left for the parser.
pub fn check_depth(bytes: &[u8], limit: usize) -> Result<(), JsonError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(JsonError::TooDeep { limit, offset });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a document after checking its size and depth.
pub fn parse_bounded<T: DeserializeOwned>(
    bytes: &[u8],
    max_bytes: u64,
    max_depth: usize,
) -> Result<T, JsonError> {
    if bytes.len() as u64 > max_bytes {
        return Err(JsonError::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    check_depth(bytes, max_depth)?;
    Ok(serde_json::from_slice(bytes)?)
}

/// The canonical encoding: compact, with the keys of every object sorted.
pub fn to_canonical_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    // `serde_json::Value` keeps object keys in a sorted map, so a round trip
    // through it sorts keys at every level, including `HashMap` annotations.
    let value = serde_json::to_value(value)?;
    serde_json::to_vec(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_and_strings_are_skipped() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(
            check_depth(deep.as_bytes(), 64),
            Err(JsonError::TooDeep {
                limit: 64,
                offset: 64
            })
        ));
        assert!(check_depth(br#"{"a":"[[[[[[\"[[["}"#, 2).is_ok());
        assert!(parse_bounded::<serde_json::Value>(b"{}", 1, 4).is_err());
    }

    #[test]
    fn canonical_sorts_keys() {
        let mut m = std::collections::HashMap::new();
        for k in ["z", "a", "m"] {
            m.insert(k, 1);
        }
        assert_eq!(to_canonical_vec(&m).unwrap(), br#"{"a":1,"m":1,"z":1}"#);
    }
}
