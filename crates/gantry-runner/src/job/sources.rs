//! `get_sources`: the job's commit checked out into its project directory with the `git`
//! binary — `git init`, `git fetch [--depth N] <url> <refspecs…>`, `git checkout -f <sha>`. The
//! clone URL carries the job token; it is printed without it (and the log's masker has the
//! token too, for what git itself prints).

use std::ffi::OsStr;

use gantry_ci::protocol::GitInfo;

use crate::job::log_lines::{Colour, coloured};
use crate::job::step::{Exited, Step};
use crate::job::{FailureReason, Outcome};

/// Fetches and checks out the job's commit.
pub(crate) async fn get_sources(step: &mut Step<'_>, git: &GitInfo) -> Result<(), Outcome> {
    let depth = match git.depth {
        0 => "Fetching changes...".to_owned(),
        depth => format!("Fetching changes with git depth set to {depth}..."),
    };
    step.log.line(&depth).await;

    let init = step.git(&["-c", "init.defaultBranch=main", "init", "."]).await?;
    if !succeeded(&init) {
        return Err(Outcome::system_failure("git init failed in the job's directory"));
    }

    step.log.line(&format!("Fetching from {}", without_credentials(&git.repo_url))).await;
    let depth_arg = git.depth.to_string();
    let mut fetch: Vec<&str> = vec!["fetch", "--no-recurse-submodules"];
    if git.depth > 0 {
        fetch.extend(["--depth", &depth_arg]);
    }
    fetch.push(&git.repo_url);
    fetch.extend(git.refspecs.iter().map(String::as_str));
    let fetched = step.git(&fetch).await?;
    if !succeeded(&fetched) {
        let message = "cannot fetch the job's sources";
        let failure = fetch_failure(&String::from_utf8_lossy(&fetched.tail));
        let why = match failure {
            FetchFailure::Unreachable => "the server cannot be reached",
            FetchFailure::UntrustedCertificate => {
                "the server's certificate is not trusted (see above): the runner's --tls-ca-file must hold the CA that signed it"
            }
            FetchFailure::Refused => "the server refused (see above)",
        };
        step.log.line(&coloured(Colour::Red, &format!("ERROR: {message}: {why}"))).await;
        return Err(match failure {
            FetchFailure::Refused => Outcome::failed(FailureReason::ScriptFailure, None, message),
            _ => Outcome::system_failure(&format!("{message}: {why}")),
        });
    }

    let short_sha = git.sha.get(..8).unwrap_or(&git.sha);
    step.log.line(&format!("Checking out {short_sha} as detached HEAD (ref is {})...", git.ref_name)).await;
    let checkout = step.git(&["-c", "advice.detachedHead=false", "checkout", "-f", "-q", &git.sha]).await?;
    if !succeeded(&checkout) {
        step.log.line(&coloured(Colour::Red, &format!("ERROR: cannot check out {}", git.sha))).await;
        return Err(Outcome::failed(FailureReason::ScriptFailure, None, "cannot check out the job's commit"));
    }
    Ok(())
}

impl Step<'_> {
    async fn git(&mut self, args: &[&str]) -> Result<Exited, Outcome> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let mut environment = crate::job::environment::for_git(self.dirs, crate::job::environment::runner_env);
        if self.client.ca_pem().is_some() {
            // The runner's CA, written among the job's file variables. Like GitLab's runner, git
            // then trusts that CA only: the file is for a server signed by a private CA.
            let ca_file = crate::job::environment::file_variable_path(&self.dirs.temp, crate::tls::CA_FILE_VARIABLE);
            environment.insert("GIT_SSL_CAINFO".into(), ca_file.into_os_string());
        }
        self.run(OsStr::new("git"), &args, &environment).await
    }
}

fn succeeded(run: &Exited) -> bool {
    run.status.success()
}

/// Why `git fetch` failed, as far as the end of what it printed tells.
#[derive(Debug, PartialEq, Eq)]
enum FetchFailure {
    /// The server could not be reached: the runner's problem.
    Unreachable,
    /// The server's certificate is not trusted: the runner's configuration.
    UntrustedCertificate,
    /// The server answered and refused (or has no such repository): the job's.
    Refused,
}

fn fetch_failure(output: &str) -> FetchFailure {
    const UNTRUSTED: &[&str] = &["SSL certificate problem", "server certificate verification failed"];
    const UNREACHABLE: &[&str] = &[
        "Could not resolve host",
        "Failed to connect",
        "Couldn't connect to server",
        "Connection refused",
        "Connection timed out",
        "Connection reset",
        "Operation timed out",
        "Empty reply from server",
        "The requested URL returned error: 502",
        "The requested URL returned error: 503",
        "The requested URL returned error: 504",
        "unable to access",
    ];
    let refused = ["The requested URL returned error: 4", "Authentication failed", "not found"];
    if refused.iter().any(|needle| output.contains(needle)) {
        return FetchFailure::Refused;
    }
    if UNTRUSTED.iter().any(|needle| output.contains(needle)) {
        return FetchFailure::UntrustedCertificate;
    }
    if UNREACHABLE.iter().any(|needle| output.contains(needle)) {
        return FetchFailure::Unreachable;
    }
    FetchFailure::Refused
}

/// The URL without its user and password (`https://host/path` from
/// `https://gitlab-ci-token:<token>@host/path`).
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_clone_urls() {
        assert_eq!(
            without_credentials("https://gitlab-ci-token:abc@gantry.example/acme/api.git"),
            "https://gantry.example/acme/api.git"
        );
        assert_eq!(without_credentials("http://user@host:8080/a@b.git"), "http://host:8080/a@b.git");
        assert_eq!(without_credentials("http://host/x.git"), "http://host/x.git");
        assert_eq!(without_credentials("/srv/repos/x.git"), "/srv/repos/x.git");
    }

    #[test]
    fn an_unreachable_server_is_the_runners_failure_a_refusal_is_the_jobs() {
        let unreachable = "fatal: unable to access 'http://127.0.0.1:9/x.git/': Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server";
        assert_eq!(fetch_failure(unreachable), FetchFailure::Unreachable);
        let refused = "fatal: unable to access 'http://host/x.git/': The requested URL returned error: 403";
        assert_eq!(fetch_failure(refused), FetchFailure::Refused);
        let missing = "fatal: '/nowhere/x.git' does not appear to be a git repository";
        assert_eq!(fetch_failure(missing), FetchFailure::Refused);
        let untrusted = "fatal: unable to access 'https://host/x.git/': SSL certificate problem: unable to get local issuer certificate";
        assert_eq!(fetch_failure(untrusted), FetchFailure::UntrustedCertificate);
    }
}
