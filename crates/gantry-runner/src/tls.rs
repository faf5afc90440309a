//! HTTPS to the server: rustls on ring as the process's crypto provider, the system's trusted
//! certificates, and optionally a CA file of the runner's (`--tls-ca-file`, for a server whose
//! certificate a private CA signed). Jobs get the same CA: as the file variable
//! `CI_SERVER_TLS_CA_FILE`, which their `git fetch` trusts too.

use std::path::Path;
use std::sync::Arc;

use crate::error::RunnerError;

/// The file variable jobs find the runner's CA in, as GitLab's runner names it.
pub(crate) const CA_FILE_VARIABLE: &str = "CI_SERVER_TLS_CA_FILE";

/// Makes ring the process's TLS crypto provider, which every `reqwest` client needs (reqwest is
/// built without a provider of its own). Calling it again does nothing.
pub fn install_crypto_provider() {
    // An error means a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Certificates the runner trusts besides the system's, read from a PEM file.
pub(crate) struct ServerCa {
    /// The file as read, for jobs.
    pub(crate) pem: Arc<str>,
    pub(crate) certificates: Vec<reqwest::Certificate>,
}

impl ServerCa {
    /// Reads `path`: one or more PEM certificates.
    pub(crate) fn read(path: &Path) -> Result<ServerCa, RunnerError> {
        let invalid = |reason: String| RunnerError::TlsCaFile { path: path.to_owned(), reason };
        let bytes = std::fs::read(path).map_err(|error| invalid(error.to_string()))?;
        let pem = String::from_utf8(bytes).map_err(|_| invalid("it is not a PEM text file".to_owned()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|error| invalid(format!("it holds no valid PEM certificate ({error})")))?;
        if certificates.is_empty() {
            return Err(invalid("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned()));
        }
        Ok(ServerCa { pem: pem.into(), certificates })
    }

    /// Reads the CA file when there is one.
    pub(crate) fn read_optional(path: Option<&Path>) -> Result<Option<ServerCa>, RunnerError> {
        path.map(ServerCa::read).transpose()
    }
}

/// Whether a request failed because the server's certificate was not trusted (an unknown
/// issuer, an expired certificate, a name that does not match), rather than the network.
pub(crate) fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        // The connector's layers box and wrap rustls's error (an io::Error around it, boxed),
        // so the type is not always reachable by downcasting; its message is rustls's own.
        let typed = current.downcast_ref::<rustls::Error>();
        if matches!(typed, Some(rustls::Error::InvalidCertificate(_)))
            || current.to_string().starts_with("invalid peer certificate")
        {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = ServerCa::read(&dir.path().join("none.pem")).err().unwrap().to_string();
        assert!(missing.contains("none.pem") && missing.contains("No such file"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "just text\n").unwrap();
        let error = ServerCa::read(&empty).err().unwrap().to_string();
        assert!(error.contains("empty.pem") && error.contains("PEM certificate"), "{error}");
        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
        assert!(ServerCa::read(&broken).is_err());
    }
}
