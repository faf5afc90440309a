//! The server's host key: an Ed25519 key generated into the data directory on first start
//! (`ssh_host_ed25519_key`, OpenSSH format, readable by the owner only) and reused after.

use std::path::Path;

use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;

/// The host key file's name in the data directory.
pub const HOST_KEY_FILE: &str = "ssh_host_ed25519_key";

/// Loads the host key from `data_dir`, creating it the first time.
pub fn load_or_create_host_key(data_dir: &Path) -> std::io::Result<PrivateKey> {
    let path = data_dir.join(HOST_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| std::io::Error::other(format!("cannot read the SSH host key {}: {e}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let text = key.to_openssh(LineEnding::LF).map_err(std::io::Error::other)?;
            let staging = data_dir.join(format!(".{HOST_KEY_FILE}.new"));
            write_private(&staging, text.as_bytes())?;
            std::fs::rename(&staging, &path)?;
            tracing::info!(path = %path.display(), "SSH host key created");
            Ok(key)
        }
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_host_key(dir.path()).unwrap();
        let second = load_or_create_host_key(dir.path()).unwrap();
        assert_eq!(first.public_key(), second.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(HOST_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
