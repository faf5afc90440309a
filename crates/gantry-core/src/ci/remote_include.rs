//! `include:remote`: CI files fetched over HTTP(S) while a pipeline is created, only from the
//! hosts an administrator allows (the `ci_remote_include_hosts` setting, empty by default), and
//! never from a loopback, private or link-local address unless its host is named there exactly
//! (a `*.example.com` entry does not open the local network). A fetch has 10 seconds and 1 MiB;
//! redirects are followed (three at most) only to allowed hosts. Files are kept in memory by
//! URL with their ETag, and asked for again with `If-None-Match`, so an unchanged file is not
//! downloaded twice.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::{StatusCode, Url};

/// How long one include may take, name resolution and redirects included.
const FETCH_TIME: Duration = Duration::from_secs(10);
/// The largest remote file read (GitLab's limit for a CI file).
pub(crate) const MAX_REMOTE_BYTES: usize = gantry_ci::yaml::MAX_FILE_BYTES;
/// Most redirects followed.
const MAX_REDIRECTS: usize = 3;
/// Most files kept, and most bytes they may hold together.
const CACHED_FILES: usize = 256;
const CACHED_BYTES: usize = 32 << 20;

/// Where an administrator allows remote includes from.
pub(crate) const SETTING_HINT: &str = "an administrator can allow it under Admin → Settings → CI/CD \
     (`ci_remote_include_hosts` in `/api/v4/application/settings`)";

/// A file fetched before, with the ETag it came with.
#[derive(Debug)]
struct Cached {
    etag: String,
    text: String,
    used: Instant,
}

/// The remote files kept in memory, shared by every pipeline of this server.
#[derive(Debug, Default)]
pub(crate) struct RemoteIncludes {
    cache: Mutex<HashMap<String, Cached>>,
}

/// How an allowed host entry matches a URL's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// Named exactly: even a local address may be reached.
    Exactly,
    /// Through a `*.` entry: public addresses only.
    ByWildcard,
}

/// Whether `host` (with `port`, the URL's or its scheme's) is among `allowed`: `host`,
/// `host:port`, or `*.domain` for any host under the domain.
fn allowance(allowed: &[String], host: &str, port: u16) -> Option<Allowed> {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let mut found = None;
    for entry in allowed {
        let entry = entry.trim().to_ascii_lowercase();
        let (name, entry_port) = split_port(&entry);
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        if name == host {
            return Some(Allowed::Exactly);
        }
        if let Some(domain) = name.strip_prefix("*.")
            && host.ends_with(&format!(".{domain}"))
        {
            found = Some(Allowed::ByWildcard);
        }
    }
    found
}

/// `host:port` split (an IPv6 literal in brackets keeps its colons).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Whether an entry of `ci_remote_include_hosts` is well formed: a host name, `*.domain`, an
/// IP address, each with an optional port.
pub(crate) fn is_host_entry(entry: &str) -> bool {
    let (name, _) = split_port(entry);
    if entry.contains(':') && split_port(entry).1.is_none() && name.parse::<IpAddr>().is_err() {
        return false;
    }
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Addresses a CI file from the internet has no business reaching: this machine, private and
/// link-local networks, shared and benchmark ranges, multicast.
fn is_local(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
        }
    }
}

impl RemoteIncludes {
    /// The text at `url`, from a host among `allowed`. Err is the message for the pipeline's
    /// errors (GitLab's words where it has them).
    pub(crate) async fn fetch(&self, url: &str, allowed: &[String]) -> Result<String, String> {
        match tokio::time::timeout(FETCH_TIME, self.fetch_within(url, allowed)).await {
            Ok(result) => result,
            Err(_) => Err(format!("Remote file `{url}` could not be fetched because of a timeout error!")),
        }
    }

    async fn fetch_within(&self, url: &str, allowed: &[String]) -> Result<String, String> {
        let mut current = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| format!("Remote file `{url}` does not have a valid address!"))?;
        let cached = self.cached(url);
        for _ in 0..=MAX_REDIRECTS {
            let client = client_for(&current, allowed).await.map_err(|why| format!("Remote file `{url}` {why}"))?;
            let mut request = client.get(current.clone());
            if let Some((etag, _)) = cached.as_ref().filter(|_| current.as_str() == url) {
                request = request.header(IF_NONE_MATCH, etag);
            }
            let mut response = request.send().await.map_err(|error| fetch_error(url, &error))?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED
                && let Some((_, text)) = cached
            {
                return Ok(text);
            }
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        format!("Remote file `{url}` could not be fetched: a redirect without a place to go")
                    })?;
                current = next;
                continue;
            }
            if status.as_u16() >= 400 {
                return Err(format!(
                    "Remote file `{url}` could not be fetched because of HTTP code `{}` error!",
                    status.as_u16()
                ));
            }
            if response.content_length().is_some_and(|length| length > MAX_REMOTE_BYTES as u64) {
                return Err(too_large(url));
            }
            let etag = response.headers().get(ETAG).and_then(|e| e.to_str().ok()).map(str::to_owned);
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|error| fetch_error(url, &error))? {
                if body.len() + chunk.len() > MAX_REMOTE_BYTES {
                    return Err(too_large(url));
                }
                body.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(body).map_err(|_| format!("Remote file `{url}` is not UTF-8 text"))?;
            if let Some(etag) = etag {
                self.keep(url, etag, &text);
            }
            return Ok(text);
        }
        Err(format!("Remote file `{url}` could not be fetched: more than {MAX_REDIRECTS} redirects"))
    }

    fn cached(&self, url: &str) -> Option<(String, String)> {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = cache.get_mut(url)?;
        entry.used = Instant::now();
        Some((entry.etag.clone(), entry.text.clone()))
    }

    /// Keeps a file, forgetting the least recently used ones beyond the bounds.
    fn keep(&self, url: &str, etag: String, text: &str) {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.insert(url.to_owned(), Cached { etag, text: text.to_owned(), used: Instant::now() });
        while cache.len() > CACHED_FILES || cache.values().map(|c| c.text.len()).sum::<usize>() > CACHED_BYTES {
            let Some(oldest) = cache.iter().min_by_key(|(_, c)| c.used).map(|(u, _)| u.clone()) else { break };
            cache.remove(&oldest);
        }
    }
}

fn too_large(url: &str) -> String {
    format!("Remote file `{url}` is larger than {} MiB, the limit of a CI file", MAX_REMOTE_BYTES >> 20)
}

fn fetch_error(url: &str, error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("Remote file `{url}` could not be fetched because of a timeout error!")
    } else if error.is_connect() {
        format!("Remote file `{url}` could not be fetched because the connection was refused or failed!")
    } else {
        format!("Remote file `{url}` could not be fetched because of HTTP error!")
    }
}

/// A client that reaches `url`'s host only at the addresses checked here: an allowed host, and
/// a local address only for a host allowed exactly. Err says why not (after the file's name).
async fn client_for(url: &Url, allowed: &[String]) -> Result<reqwest::Client, String> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let Some(allowance) = allowance(allowed, host, port) else {
        return Err(format!(
            "could not be fetched because `{host}` is not an allowed host for remote includes: {SETTING_HINT}"
        ));
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| "could not be fetched because of a socket error!".to_owned())?
            .collect(),
    };
    if addresses.is_empty() {
        return Err("could not be fetched because of a socket error!".to_owned());
    }
    if allowance != Allowed::Exactly
        && let Some(local) = addresses.iter().find(|a| is_local(a.ip()))
    {
        return Err(format!(
            "could not be fetched because `{host}` is at a local address ({}); only a host named exactly in `ci_remote_include_hosts` may be",
            local.ip()
        ));
    }
    // reqwest is built without a TLS crypto provider of its own; ring is the process's (the
    // runner installs the same one). Installing it again does nothing.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(FETCH_TIME)
        .user_agent(concat!("Gantry/", env!("CARGO_PKG_VERSION"), " (CI include)"));
    if bare.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(bare, &addresses);
    }
    builder.build().map_err(|error| format!("could not be fetched: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_allowed_exactly_or_by_domain() {
        let allowed: Vec<String> =
            ["ci.example.com", "*.example.org", "127.0.0.1:8080", "[::1]"].map(String::from).into();
        assert_eq!(allowance(&allowed, "CI.example.com", 443), Some(Allowed::Exactly));
        assert_eq!(allowance(&allowed, "raw.example.org", 443), Some(Allowed::ByWildcard));
        assert_eq!(allowance(&allowed, "example.org", 443), None, "the domain itself is not under it");
        assert_eq!(allowance(&allowed, "127.0.0.1", 8080), Some(Allowed::Exactly));
        assert_eq!(allowance(&allowed, "127.0.0.1", 9090), None);
        assert_eq!(allowance(&allowed, "[::1]", 80), Some(Allowed::Exactly));
        assert_eq!(allowance(&[], "ci.example.com", 443), None, "nothing is allowed by default");
        for good in ["ci.example.com", "*.example.com", "10.0.0.5:8080", "[::1]:80", "localhost"] {
            assert!(is_host_entry(good), "{good}");
        }
        for bad in ["https://ci.example.com", "ci.example.com/path", "-bad.com", "a..b", "host:port", ""] {
            assert!(!is_host_entry(bad), "{bad}");
        }
    }

    #[test]
    fn local_addresses_are_told_apart() {
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_local(local.parse().unwrap()), "{local}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(!is_local(public.parse().unwrap()), "{public}");
        }
    }
}
