//! The environment a job's processes get: the job's variables (file variables written to files
//! in the job's temporary directory) and the directories the runner chose, over a base: for the
//! shell executor, of the runner's own environment only `PATH` and `LANG`, and `HOME` the job's
//! temporary directory; for the Docker executor nothing, the image's own environment stays.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use gantry_ci::protocol::JobVariable;

use crate::job::JobDirs;

/// `PATH` when the runner has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An environment for a job's processes (the whole of it: nothing is inherited).
pub(crate) type Environment = BTreeMap<String, OsString>;

/// What the job's variables turn into.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) environment: Environment,
    /// File variables: the name of the file to write in the job's temporary directory (the
    /// variable's name) and its content.
    pub(crate) files: Vec<(String, String)>,
    /// Variables left out: their name cannot be an environment variable's, or their value has a
    /// NUL byte.
    pub(crate) skipped: Vec<String>,
}

/// The environment of the job's scripts: `base`, the job's variables, and the directories in
/// `seen` (the job's directories where its scripts see them: on the runner's machine for the
/// shell executor, inside the container for Docker).
pub(crate) fn plan(variables: &[JobVariable], seen: &JobDirs, base: Environment) -> Plan {
    let mut environment = base;
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for variable in variables {
        if !is_variable_name(&variable.key) || variable.value.contains('\0') {
            skipped.push(variable.key.clone());
            continue;
        }
        if variable.file {
            let path = file_variable_path(&seen.temp, &variable.key);
            environment.insert(variable.key.clone(), path.into_os_string());
            files.push((variable.key.clone(), variable.value.clone()));
        } else {
            environment.insert(variable.key.clone(), variable.value.clone().into());
        }
    }
    environment.insert("CI_PROJECT_DIR".into(), seen.project.clone().into_os_string());
    environment.insert("CI_BUILDS_DIR".into(), seen.builds.clone().into_os_string());
    Plan { environment, files, skipped }
}

/// Where the file variable `key` is written in the job's temporary directory `temp`.
pub(crate) fn file_variable_path(temp: &Path, key: &str) -> PathBuf {
    temp.join(key)
}

/// Writes the file variables into `dir` (readable by the job's user, `owner`, only).
pub(crate) async fn write_files(dir: &Path, files: &[(String, String)], owner: Option<u32>) -> io::Result<()> {
    for (name, content) in files {
        let path = file_variable_path(dir, name);
        crate::job::write_fresh(&path, content.as_bytes().to_vec(), 0o600, owner).await?;
    }
    Ok(())
}

/// The environment git runs with while fetching the sources: hermetic, no prompts, no user or
/// system configuration, English messages.
pub(crate) fn for_git(dirs: &JobDirs, runner_env: impl Fn(&str) -> Option<OsString>) -> Environment {
    let mut environment = for_shell(dirs, runner_env);
    for (key, value) in [
        ("GIT_TERMINAL_PROMPT", "0"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("LC_ALL", "C"),
    ] {
        environment.insert(key.into(), value.into());
    }
    environment
}

/// The runner's own environment, as far as a job gets it.
pub(crate) fn runner_env(key: &str) -> Option<OsString> {
    std::env::var_os(key)
}

/// The base of a process run on the runner's machine: `PATH` and `LANG` of the runner, `HOME`
/// the job's temporary directory.
pub(crate) fn for_shell(dirs: &JobDirs, runner_env: impl Fn(&str) -> Option<OsString>) -> Environment {
    let mut environment = Environment::new();
    environment.insert("PATH".into(), runner_env("PATH").unwrap_or_else(|| DEFAULT_PATH.into()));
    if let Some(lang) = runner_env("LANG") {
        environment.insert("LANG".into(), lang);
    }
    environment.insert("HOME".into(), dirs.temp.clone().into_os_string());
    environment
}

/// `[A-Za-z_][A-Za-z0-9_]*`, the names GitLab allows.
fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn variable(key: &str, value: &str, file: bool) -> JobVariable {
        JobVariable { key: key.into(), value: value.into(), public: false, masked: false, file }
    }

    fn fake_runner_env(key: &str) -> Option<OsString> {
        match key {
            "PATH" => Some("/runner/bin".into()),
            "SECRET_OF_THE_RUNNER" => Some("x".into()),
            _ => None,
        }
    }

    #[test]
    fn jobs_get_their_variables_and_nothing_else_of_the_runner() {
        let dirs = JobDirs::new(Path::new("/b"), 5, None);
        let plan = plan(
            &[
                variable("A", "1", false),
                variable("KUBECONFIG", "apiVersion: v1", true),
                variable("bad-name", "x", false),
            ],
            &dirs,
            for_shell(&dirs, fake_runner_env),
        );
        let env: Vec<(&str, &str)> = plan.environment.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect();
        assert_eq!(
            env,
            [
                ("A", "1"),
                ("CI_BUILDS_DIR", "/b"),
                ("CI_PROJECT_DIR", "/b/5"),
                ("HOME", "/b/5.tmp"),
                ("KUBECONFIG", "/b/5.tmp/KUBECONFIG"),
                ("PATH", "/runner/bin"),
            ]
        );
        assert_eq!(plan.files, [("KUBECONFIG".to_owned(), "apiVersion: v1".to_owned())]);
        assert_eq!(plan.skipped, ["bad-name"]);
    }

    #[test]
    fn the_runner_decides_the_directories_whatever_the_variables_say() {
        let dirs = JobDirs::new(Path::new("/b"), 5, None);
        let plan = plan(&[variable("CI_PROJECT_DIR", "/etc", false)], &dirs, for_shell(&dirs, fake_runner_env));
        assert_eq!(plan.environment["CI_PROJECT_DIR"], "/b/5");
    }

    #[test]
    fn in_a_container_the_paths_are_the_containers_and_nothing_of_the_runner_is_added() {
        let seen = JobDirs {
            builds: PathBuf::from("/builds"),
            project: PathBuf::from("/builds/acme/app"),
            temp: PathBuf::from("/builds/acme/app.tmp"),
            owner: None,
        };
        let plan = plan(&[variable("KUBECONFIG", "x", true)], &seen, Environment::new());
        let env: Vec<(&str, &str)> = plan.environment.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect();
        assert_eq!(
            env,
            [
                ("CI_BUILDS_DIR", "/builds"),
                ("CI_PROJECT_DIR", "/builds/acme/app"),
                ("KUBECONFIG", "/builds/acme/app.tmp/KUBECONFIG")
            ]
        );
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("CI_JOB_TOKEN"));
        assert!(is_variable_name("_x1"));
        assert!(!is_variable_name("1X"));
        assert!(!is_variable_name(""));
        assert!(!is_variable_name("A=B"));
        assert!(!is_variable_name("../etc/passwd"));
    }
}
