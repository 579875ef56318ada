//! `Digest`: `sha256:<64 hex>`, the content address of a manifest or blob.

use super::{ParseError, string_newtype};
use sha2::{Digest as _, Sha256};

const RULE: &str = "a digest is \"algorithm:hex\", for example \"sha256:\" followed by 64 lowercase \
hexadecimal characters";

/// A content digest. `sha256` and `sha512` are checked strictly (length and lowercase hex);
/// other algorithms must follow the spec's general grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

string_newtype!(Digest);

impl Digest {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let fail = |why: &str| ParseError::new("digest", input, format!("{why}; {RULE}"));
        let Some((algorithm, encoded)) = input.split_once(':') else {
            return Err(fail("it has no ':' between algorithm and value"));
        };
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .split(['+', '.', '_', '-'])
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !algorithm_ok {
            return Err(fail(&format!("the algorithm \"{algorithm}\" is not allowed")));
        }
        let hex_len = match algorithm {
            "sha256" => Some(64),
            "sha512" => Some(128),
            _ => None,
        };
        match hex_len {
            Some(len) => {
                if encoded.len() != len {
                    return Err(fail(&format!(
                        "a {algorithm} value has {len} hexadecimal characters, this one has {}",
                        encoded.chars().count()
                    )));
                }
                if !encoded
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(fail("the value is not lowercase hexadecimal"));
                }
            }
            None => {
                let ok = !encoded.is_empty()
                    && encoded
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
                if !ok {
                    return Err(fail("the value has characters a digest cannot have"));
                }
            }
        }
        Ok(Self(input.to_owned()))
    }

    /// The sha256 digest of some bytes, as the registry computes it.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
    }

    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map(|(a, _)| a).unwrap_or_default()
    }

    /// The part after `algorithm:`.
    pub fn encoded(&self) -> &str {
        self.0.split_once(':').map(|(_, e)| e).unwrap_or_default()
    }

    /// Whether `bytes` hash to this digest. Unknown algorithms cannot be checked and say no.
    pub fn verifies(&self, bytes: &[u8]) -> bool {
        self.algorithm() == "sha256" && *self == Self::sha256_of(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_digests_parse_and_verify() {
        let d = Digest::sha256_of(b"hello");
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(Digest::parse(d.as_str()).is_ok());
        assert!(d.verifies(b"hello"));
        assert!(!d.verifies(b"hello!"));
        assert_eq!(d.encoded().len(), 64);
    }

    #[test]
    fn malformed_digests_say_what_is_wrong() {
        let short = Digest::parse("sha256:abc").unwrap_err();
        assert!(short.rule.contains("64"), "{short}");
        let upper = Digest::parse(&format!("sha256:{}", "A".repeat(64))).unwrap_err();
        assert!(upper.rule.contains("lowercase"), "{upper}");
        assert!(Digest::parse("abc").is_err());
        assert!(Digest::parse(":abc").is_err());
        assert!(Digest::parse("SHA256:abc").is_err());
        assert!(Digest::parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8").is_ok());
    }
}
