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

/// Encrypts secrets kept in the database (CI/CD variable values) with AES-256-GCM. The key
/// lives in a file of the data directory (created on first start, readable by its owner only)
/// or comes from the environment; without it the values cannot be read.
#[derive(Clone)]
pub struct SecretBox {
    cipher: aes_gcm::Aes256Gcm,
    /// The key of [`SecretBox::mac`], derived from the box's key.
    mac_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([key hidden])")
    }
}

/// A sealed value that does not open with this key (another key, or tampering).
#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be decrypted with this server's key")]
pub struct SealBroken;

/// What sealed values start with (so the format can change later).
const SEAL_VERSION: &str = "v1:";

impl SecretBox {
    /// A box around a 32-byte key.
    pub fn new(key: [u8; 32]) -> SecretBox {
        use aes_gcm::aead::KeyInit;
        let mac_key = hmac_sha256(&key, b"gantry mac key v1");
        SecretBox { cipher: aes_gcm::Aes256Gcm::new(&aes_gcm::Key::<aes_gcm::Aes256Gcm>::from(key)), mac_key }
    }

    /// A box with a fresh random key (tests and throw-away servers).
    pub fn random() -> SecretBox {
        let mut key = [0_u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random source is available");
        SecretBox::new(key)
    }

    /// Reads a key written as 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Result<SecretBox, String> {
        let bytes =
            hex::decode(text.trim()).map_err(|_| "the secret key must be 64 hexadecimal characters".to_owned())?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| "the secret key must be 64 hexadecimal characters (32 bytes)".to_owned())?;
        Ok(SecretBox::new(key))
    }

    /// Reads the key file, creating it (mode 0600) with a random key when it does not exist.
    pub fn load_or_create(path: &std::path::Path) -> std::io::Result<SecretBox> {
        match std::fs::read_to_string(path) {
            Ok(text) => SecretBox::from_hex(&text).map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidData, m)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = random_hex(32);
                let staging = path.with_extension("new");
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let _ = std::fs::remove_file(&staging);
                let mut file = options.open(&staging)?;
                std::io::Write::write_all(&mut file, format!("{key}\n").as_bytes())?;
                file.sync_all()?;
                std::fs::rename(&staging, path)?;
                SecretBox::from_hex(&key).map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidData, m))
            }
            Err(error) => Err(error),
        }
    }

    /// Encrypts `plain`, bound to `context` (what the value is, so it cannot be moved to another
    /// row unnoticed).
    pub(crate) fn seal(&self, context: &str, plain: &str) -> String {
        use aes_gcm::aead::{Aead, Payload};
        let mut nonce = [0_u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source is available");
        let sealed = self
            .cipher
            .encrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .expect("AES-GCM encrypts any message below its size limit");
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEAL_VERSION}{}", hex::encode(out))
    }

    /// An HMAC-SHA256 of `message` for `purpose` (so a value made for one use is no good for
    /// another), with a key derived from this box's: values a browser must echo back unchanged.
    pub(crate) fn mac(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        let mut input = Vec::with_capacity(purpose.len() + 1 + message.len());
        input.extend_from_slice(purpose.as_bytes());
        input.push(0);
        input.extend_from_slice(message);
        hmac_sha256(&self.mac_key, &input)
    }

    /// Decrypts what [`SecretBox::seal`] made with the same context.
    pub(crate) fn open(&self, context: &str, sealed: &str) -> Result<String, SealBroken> {
        use aes_gcm::aead::{Aead, Payload};
        let bytes = sealed.strip_prefix(SEAL_VERSION).and_then(|h| hex::decode(h).ok()).ok_or(SealBroken)?;
        if bytes.len() < 12 {
            return Err(SealBroken);
        }
        let (nonce, message) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealBroken)?;
        let plain = self
            .cipher
            .decrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: message, aad: context.as_bytes() })
            .map_err(|_| SealBroken)?;
        String::from_utf8(plain).map_err(|_| SealBroken)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_the_key_the_purpose_and_the_message() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let secrets = SecretBox::random();
        let mac = secrets.mac("csrf", b"session");
        assert_eq!(mac, secrets.mac("csrf", b"session"));
        assert_ne!(mac, secrets.mac("csrf", b"other session"));
        assert_ne!(mac, secrets.mac("other", b"session"));
        assert_ne!(mac, SecretBox::random().mac("csrf", b"session"));
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let secrets = SecretBox::random();
        let sealed = secrets.seal("ci_variable:project:1:TOKEN", "s3cr3t value");
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cr3t"));
        assert_eq!(secrets.open("ci_variable:project:1:TOKEN", &sealed).unwrap(), "s3cr3t value");
        assert!(secrets.open("ci_variable:project:2:TOKEN", &sealed).is_err(), "bound to its row");
        assert!(SecretBox::random().open("ci_variable:project:1:TOKEN", &sealed).is_err(), "another key");
        assert_ne!(sealed, secrets.seal("ci_variable:project:1:TOKEN", "s3cr3t value"), "a fresh nonce each time");
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let first = SecretBox::load_or_create(&path).unwrap();
        let sealed = first.seal("x", "y");
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open("x", &sealed).unwrap(), "y");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
