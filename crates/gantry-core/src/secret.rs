//! Random secrets (tokens, session ids) and their stored digests.

use sha2::{Digest, Sha256};

/// A fresh random secret as lowercase hex, `bytes` long before encoding.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0_u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    hex::encode(buf)
}

/// The SHA-256 digest stored in place of a high-entropy secret.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
