//! Content digests: the OCI digest grammar, the registered algorithms, and
//! streaming digesters that hash bytes while they are read or written.
//!
//! Grammar (OCI image-spec `descriptor.md`):
//! `algorithm ":" encoded`, `algorithm ::= component ([+._-] component)*`,
//! `component ::= [a-z0-9]+`, `encoded ::= [a-zA-Z0-9=_-]+`.
//! The registered algorithms `sha256` and `sha512` additionally require
//! lowercase hex of exactly 64 and 128 characters.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// The reasons a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `:` between algorithm and encoded part.
    #[error("digest {0:?} has no ':' between algorithm and encoded part")]
    MissingSeparator(String),
    /// The algorithm part breaks `[a-z0-9]+([+._-][a-z0-9]+)*`.
    #[error("digest algorithm {0:?} is not of the form [a-z0-9]+([+._-][a-z0-9]+)*")]
    BadAlgorithm(String),
    /// The encoded part breaks `[a-zA-Z0-9=_-]+`.
    #[error("digest encoded part {0:?} is empty or has characters outside [a-zA-Z0-9=_-]")]
    BadEncoded(String),
    /// A registered algorithm with the wrong length or non-lowercase-hex.
    #[error("{algorithm} digest must be {expected} lowercase hex characters, found {found:?}")]
    BadHex {
        /// The registered algorithm.
        algorithm: Algorithm,
        /// Required number of hex characters.
        expected: usize,
        /// The encoded part found.
        found: String,
    },
}

/// A hash algorithm this crate can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, which every implementation must support.
    Sha256,
    /// SHA-512, registered by the image spec.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the lowercase hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A digest that follows the OCI grammar.
///
/// Digests with a registered algorithm are checked for exact lowercase hex;
/// digests with an unknown algorithm are kept (the spec says they should pass
/// validation) but cannot be verified: [`Digest::algorithm`] returns `None`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    colon: usize,
}

impl Digest {
    /// Parses and checks a digest string.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let colon = text
            .find(':')
            .ok_or_else(|| DigestError::MissingSeparator(text.to_owned()))?;
        let (algorithm, encoded) = (&text[..colon], &text[colon + 1..]);
        if !algorithm_is_valid(algorithm) {
            return Err(DigestError::BadAlgorithm(algorithm.to_owned()));
        }
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(DigestError::BadEncoded(encoded.to_owned()));
        }
        if let Some(alg) = Algorithm::from_name(algorithm) {
            let lower_hex = encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if encoded.len() != alg.hex_len() || !lower_hex {
                return Err(DigestError::BadHex {
                    algorithm: alg,
                    expected: alg.hex_len(),
                    found: encoded.to_owned(),
                });
            }
        }
        Ok(Digest {
            text: text.to_owned(),
            colon,
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::of(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` under `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let mut d = Digester::new(algorithm);
        d.update(bytes);
        d.finish()
    }

    fn from_parts(algorithm: Algorithm, hex: &str) -> Self {
        Digest {
            text: format!("{}:{hex}", algorithm.name()),
            colon: algorithm.name().len(),
        }
    }

    /// The algorithm part as written, e.g. `sha256` or `multihash+base58`.
    pub fn algorithm_name(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The registered algorithm, if this crate can verify the digest.
    pub fn algorithm(&self) -> Option<Algorithm> {
        Algorithm::from_name(self.algorithm_name())
    }

    /// The encoded part (hex for registered algorithms).
    pub fn encoded(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole digest string.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path of the blob inside an OCI layout, `blobs/<alg>/<encoded>`.
    pub fn layout_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm_name(), self.encoded())
    }

    /// A digester for this digest's algorithm, if it is registered.
    pub fn digester(&self) -> Option<Digester> {
        self.algorithm().map(Digester::new)
    }
}

fn algorithm_is_valid(algorithm: &str) -> bool {
    !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl From<&oci_spec::image::Digest> for Digest {
    fn from(d: &oci_spec::image::Digest) -> Self {
        // oci-spec enforces the same grammar, so this cannot fail for its values;
        // fall back to keeping the text verbatim if the two ever disagree.
        let text = d.to_string();
        Digest::parse(&text).unwrap_or_else(|_| {
            let colon = text.find(':').unwrap_or(0);
            Digest { text, colon }
        })
    }
}

impl TryFrom<&Digest> for oci_spec::image::Digest {
    type Error = oci_spec::OciSpecError;
    fn try_from(d: &Digest) -> Result<Self, Self::Error> {
        oci_spec::image::Digest::from_str(d.as_str())
    }
}

/// An incremental hash of one of the registered algorithms.
#[derive(Clone)]
pub struct Digester {
    state: State,
    bytes: u64,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    /// A fresh digester.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Digester { state, bytes: 0 }
    }

    /// A fresh SHA-256 digester.
    pub fn sha256() -> Self {
        Self::new(Algorithm::Sha256)
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        match &mut self.state {
            State::Sha256(h) => h.update(bytes),
            State::Sha512(h) => h.update(bytes),
        }
    }

    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Whether no byte was fed yet.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        match self.state {
            State::Sha256(h) => Digest::from_parts(Algorithm::Sha256, &hex::encode(h.finalize())),
            State::Sha512(h) => Digest::from_parts(Algorithm::Sha512, &hex::encode(h.finalize())),
        }
    }
}

/// A reader that hashes what passes through it.
pub struct HashingReader<R> {
    inner: R,
    digester: Digester,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`, hashing with `algorithm`.
    pub fn new(inner: R, algorithm: Algorithm) -> Self {
        HashingReader {
            inner,
            digester: Digester::new(algorithm),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.digester.len()
    }

    /// The digest of everything read and the byte count.
    pub fn finish(self) -> (Digest, u64) {
        let n = self.digester.len();
        (self.digester.finish(), n)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    digester: Digester,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`, hashing with `algorithm`.
    pub fn new(inner: W, algorithm: Algorithm) -> Self {
        HashingWriter {
            inner,
            digester: Digester::new(algorithm),
        }
    }

    /// The inner writer, the digest of everything written, and the byte count.
    pub fn finish(self) -> (W, Digest, u64) {
        let n = self.digester.len();
        (self.inner, self.digester.finish(), n)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_JSON: &str =
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn hashes_the_empty_json_object() {
        assert_eq!(Digest::sha256_of(b"{}").as_str(), EMPTY_JSON);
    }

    #[test]
    fn accepts_grammatical_digests() {
        for ok in [
            EMPTY_JSON,
            "sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
            "sha256+foo-bar:3e1a79c7f0b6aaa9e2e1b2b9d04ee1b0e1d0f9bb3a3dd9f6c6e1a1f1b2c3d4e5",
            "sha256.foo-bar:3e1a79c7f0b6aaa9e2e1b2b9d04ee1b0e1d0f9bb3a3dd9f6c6e1a1f1b2c3d4e5",
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            "sha256+b64u.unknownlength:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=",
        ] {
            let d = Digest::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(d.as_str(), ok);
        }
        assert_eq!(
            Digest::parse(EMPTY_JSON).unwrap().algorithm(),
            Some(Algorithm::Sha256)
        );
        assert_eq!(
            Digest::parse("multihash+base58:Qm").unwrap().algorithm(),
            None
        );
    }

    #[test]
    fn rejects_ungrammatical_digests() {
        let upper = EMPTY_JSON.to_uppercase().replace("SHA256", "sha256");
        for bad in [
            "",
            ":abc",
            "sha256",
            "SHA256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            upper.as_str(),
            "sha256:abc",
            "sha256+foo+-b:abc",
            "sha256:",
            "sha512:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a/x",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn streams_agree_with_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = HashingReader::new(&data[..], Algorithm::Sha512);
        io::copy(&mut r, &mut io::sink()).unwrap();
        let (d, n) = r.finish();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d, Digest::of(Algorithm::Sha512, &data));
        assert_eq!(d.encoded().len(), 128);
        let mut w = HashingWriter::new(Vec::new(), Algorithm::Sha256);
        w.write_all(&data).unwrap();
        let (out, d2, _) = w.finish();
        assert_eq!(out, data);
        assert_eq!(d2, Digest::sha256_of(&data));
    }
}
