//! `gantry ci …` on a laptop: `lint` checks a CI file and the files it includes from the working
//! tree (and the server's templates, which this program holds too), with the same checks the
//! server makes, and shows the jobs a push would run. Includes only the server can read (other
//! projects, components, remote files) are skipped with a warning that says so; `exec`
//! (`ci_exec.rs`) runs them. Both plan with the predefined variables the server would give a
//! push of the checked-out commit (`gantry_ci::predefined`), from what the checkout knows
//! ([`Checkout`]).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use gantry_ci::{Facts, Files, IncludeKind, NoPipeline};

#[derive(Subcommand)]
pub enum CiCommand {
    /// Check a CI file (default: .gitlab-ci.yml or .gantry-ci.yml here) and list the jobs a push would run
    Lint {
        /// The CI file
        file: Option<PathBuf>,
        /// Plan the pipeline of a push to this branch (default: the checked-out branch)
        #[arg(long)]
        branch: Option<String>,
        /// A variable the rules see, over the predefined ones: stands for a CI/CD or pipeline
        /// variable, which a working tree cannot know (repeatable)
        #[arg(long = "var", value_name = "KEY=VALUE")]
        variables: Vec<String>,
    },
    /// Run jobs of the CI file here, in needs order, from the working tree (shell or Docker)
    Exec(crate::ci_exec::ExecArgs),
}

/// Runs the command; the exit status is 0 when the file is valid, 1 when it is not, 2 when it
/// cannot be read.
pub fn run(command: CiCommand) -> i32 {
    match command {
        CiCommand::Lint { file, branch, variables } => lint(file, branch, &variables),
        CiCommand::Exec(args) => crate::ci_exec::run(args),
    }
}

/// Included files, read from the repository's working tree (never outside it), and the
/// server's templates.
pub(crate) struct WorkingTree(pub(crate) PathBuf);

/// Where what a working tree cannot read is checked.
const ON_THE_SERVER: &str = "check it with `POST /api/v4/projects/:id/ci/lint` or a push";

impl Files for WorkingTree {
    fn read(&self, project: Option<&str>, _: Option<&str>, path: &str) -> Result<String, String> {
        if let Some(project) = project {
            return Err(format!(
                "`{path}` of `{project}`: other projects' files are read by the server: {ON_THE_SERVER}"
            ));
        }
        let full = self.0.join(path);
        let inside = full.canonicalize().ok().is_some_and(|p| p.starts_with(&self.0));
        if !inside {
            return Err(format!("`{path}` does not exist in the repository"));
        }
        std::fs::read_to_string(&full).map_err(|e| format!("`{path}` cannot be read: {e}"))
    }

    fn template(&self, name: &str) -> Result<String, String> {
        gantry_core::ci::create::include_template(name)
    }

    fn skips(&self, kind: IncludeKind) -> Option<String> {
        let what = match kind {
            IncludeKind::Local | IncludeKind::Template => return None,
            IncludeKind::Project => "other projects' files are read by the server",
            IncludeKind::Component => "components are read by the server",
            IncludeKind::Remote => "remote files are fetched by the server (from the hosts its administrator allows)",
            IncludeKind::Artifact => "a job's artifacts exist only once its pipeline runs",
        };
        Some(format!("{what}: {ON_THE_SERVER}; what it defines is not checked here"))
    }
}

pub(crate) fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}

/// A CI file found in a repository's working tree.
pub(crate) struct Located {
    /// The repository's top folder.
    pub(crate) root: PathBuf,
    /// The file's path from there.
    pub(crate) shown: String,
    pub(crate) source: String,
}

/// Finds the CI file (`file`, else `.gitlab-ci.yml` or `.gantry-ci.yml` here) and reads it.
pub(crate) fn locate(file: Option<PathBuf>) -> Result<Located, String> {
    let file = match file {
        Some(file) => file,
        None => [".gitlab-ci.yml", ".gantry-ci.yml"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("no .gitlab-ci.yml or .gantry-ci.yml here; name the file")?,
    };
    let source = std::fs::read_to_string(&file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let root = git_output(&folder, &["rev-parse", "--show-toplevel"]).map(PathBuf::from).unwrap_or(folder.clone());
    let root = root.canonicalize().unwrap_or(root);
    let shown = file
        .canonicalize()
        .ok()
        .and_then(|f| f.strip_prefix(&root).ok().map(Path::to_path_buf))
        .unwrap_or(file.clone());
    Ok(Located { root, shown: shown.to_string_lossy().into_owned(), source })
}

fn lint(file: Option<PathBuf>, branch: Option<String>, extra: &[String]) -> i32 {
    let Located { root, shown, source } = match locate(file) {
        Ok(located) => located,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    let shown = PathBuf::from(shown);
    let extra = match key_values(extra) {
        Ok(extra) => extra,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    let branch =
        branch.or_else(|| git_output(&root, &["symbolic-ref", "--short", "HEAD"])).unwrap_or_else(|| "main".into());
    let checkout = Checkout::read(&root, &branch);
    let sha = git_output(&root, &["rev-parse", "--verify", "-q", "HEAD"]).unwrap_or_else(|| "0".repeat(40));
    let variables = gantry_ci::payload::rules_variables(&checkout.predefined(&branch, &sha), &[], &extra);
    let files: Vec<String> =
        git_output(&root, &["ls-files"]).map(|l| l.lines().map(str::to_owned).collect()).unwrap_or_default();
    let facts = Facts { variables: &variables, changed_paths: None, files: &files };
    let config = match gantry_ci::load_for(&WorkingTree(root.clone()), &shown.to_string_lossy(), &source, &facts, &[]) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} is invalid: {} problem(s)", shown.display(), errors.0.len());
            return 1;
        }
    };
    for warning in &config.warnings {
        eprintln!("{warning}");
    }
    println!("{} is valid: {} jobs; stages {}", shown.display(), config.jobs.len(), config.stages.join(", "));
    match gantry_ci::plan(&config, &facts) {
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("a push to `{branch}` would not run: {} problem(s)", errors.0.len());
            1
        }
        Ok(Err(NoPipeline::Workflow)) => {
            println!("a push to `{branch}` creates no pipeline: workflow:rules do not let it run");
            0
        }
        Ok(Err(NoPipeline::NoJobs)) => {
            println!("a push to `{branch}` creates no pipeline: no job's rules let it run");
            0
        }
        Ok(Ok(plan)) => {
            println!("a push to `{branch}` runs {} jobs:", plan.jobs.len());
            for stage in &plan.stages {
                println!("  {stage}");
                for job in plan.jobs.iter().filter(|j| &j.stage == stage) {
                    let when = match job.when {
                        gantry_ci::keywords::When::OnSuccess => String::new(),
                        other => format!(
                            " ({})",
                            serde_json::to_value(other)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ),
                    };
                    let needs = match &job.needs {
                        Some(needs) => {
                            format!(" needs [{}]", needs.iter().map(|n| n.job.as_str()).collect::<Vec<_>>().join(", "))
                        }
                        None => String::new(),
                    };
                    println!("    {}{when}{needs}", job.name);
                }
            }
            0
        }
    }
}

/// `KEY=VALUE` pairs of `--var`.
pub(crate) fn key_values(pairs: &[String]) -> Result<Vec<(String, String)>, String> {
    pairs
        .iter()
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(|| format!("--var {pair}: write it as KEY=VALUE"))?;
            Ok((key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// What a working tree knows of the pipeline a push of it would create, for the predefined
/// variables. The server's URL and the project's path come from the branch's git remote (else
/// `origin`); without one the project is `local/<folder>` and the server unknown. A checkout
/// cannot know the project's id, title and visibility, the pipeline's id, who pushes, the
/// project's CI/CD variables, whether the branch is protected (the default branch is taken as
/// protected, as a new project's is, and others as not) or what the branch held before (taken as
/// new): the variables of the unknown facts are left out.
pub(crate) struct Checkout {
    server_url: Option<String>,
    project_path: String,
    default_branch: String,
    /// The raw text of the HEAD commit (`git cat-file commit HEAD`).
    head: Option<String>,
}

impl Checkout {
    /// Reads the facts of the repository at `root` for a push to `branch`.
    pub(crate) fn read(root: &Path, branch: &str) -> Checkout {
        let remote = git_output(root, &["config", &format!("branch.{branch}.remote")])
            .filter(|remote| remote != ".")
            .unwrap_or_else(|| "origin".to_owned());
        let remote_url = git_output(root, &["remote", "get-url", &remote]);
        let (server_url, project_path) = match remote_url.as_deref().and_then(server_and_project) {
            Some((server, path)) => (Some(server), path),
            None => {
                let folder = root.file_name().map(|n| n.to_string_lossy().into_owned());
                (None, format!("local/{}", folder.unwrap_or_else(|| "project".into())))
            }
        };
        let default_branch = git_output(root, &["symbolic-ref", "--short", &format!("refs/remotes/{remote}/HEAD")])
            .and_then(|r| r.strip_prefix(&format!("{remote}/")).map(str::to_owned))
            .unwrap_or_else(|| "main".into());
        let head = git_output(root, &["cat-file", "commit", "HEAD"]);
        Checkout { server_url, project_path, default_branch, head }
    }

    /// The project's full path (`acme/platform`, or `local/<folder>`).
    pub(crate) fn project_path(&self) -> &str {
        &self.project_path
    }

    /// The pipeline's predefined variables for a push of `sha` to `branch` (the HEAD commit's
    /// message, author and time).
    pub(crate) fn predefined(&self, branch: &str, sha: &str) -> Vec<(String, String)> {
        let name = self.project_path.rsplit('/').next().unwrap_or(&self.project_path);
        let head = self.head.as_deref().map(parse_commit);
        gantry_ci::predefined::for_pipeline(&gantry_ci::predefined::Pipeline {
            server_url: self.server_url.as_deref(),
            project: gantry_ci::predefined::Project {
                id: None,
                path: name,
                name,
                full_path: &self.project_path,
                visibility: None,
                description: "",
                default_branch: &self.default_branch,
            },
            ids: None,
            ref_name: branch,
            is_tag: false,
            protected: branch == self.default_branch,
            sha,
            before_sha: &"0".repeat(40),
            source: "push",
            commit: head.as_ref().map(|commit| gantry_ci::predefined::Commit {
                message: &commit.message,
                title: commit.message.lines().next().unwrap_or_default(),
                author_name: &commit.author_name,
                author_email: &commit.author_email,
                committed_at: commit.committed_at,
            }),
            user: None,
        })
    }
}

/// A commit as the server reads it: the message without trailing white space, the author, the
/// committer's time.
#[derive(Debug, PartialEq, Eq)]
struct LocalCommit {
    message: String,
    author_name: String,
    author_email: String,
    committed_at: i64,
}

/// Reads `git cat-file commit` output.
fn parse_commit(raw: &str) -> LocalCommit {
    let (headers, message) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut commit = LocalCommit {
        message: message.trim_end().to_owned(),
        author_name: String::new(),
        author_email: String::new(),
        committed_at: 0,
    };
    for line in headers.lines() {
        if let Some(author) = line.strip_prefix("author ")
            && let Some((name, rest)) = author.split_once(" <")
        {
            commit.author_name = name.to_owned();
            commit.author_email = rest.split_once('>').map_or(rest, |(email, _)| email).to_owned();
        } else if let Some(committer) = line.strip_prefix("committer ") {
            let mut fields = committer.rsplit(' ');
            let _zone = fields.next();
            commit.committed_at = fields.next().and_then(|t| t.parse().ok()).unwrap_or(0);
        }
    }
    commit
}

/// The server's URL and the project's path in a git remote's URL: `https://host[:port]/path.git`
/// as written (credentials dropped), `ssh://…` and `user@host:path.git` as `https://host`.
/// None for local paths and `file://` URLs.
fn server_and_project(url: &str) -> Option<(String, String)> {
    let (scheme, host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        match scheme {
            "http" | "https" => (scheme, host, path),
            "ssh" | "git+ssh" | "ssh+git" | "git" => {
                ("https", host.rsplit_once(':').map_or(host, |(host, _)| host), path)
            }
            _ => return None,
        }
    } else {
        // scp-like `user@host:path`; a colon after a slash is a local path.
        let (left, path) = url.split_once(':')?;
        if left.contains('/') {
            return None;
        }
        ("https", left.rsplit_once('@').map_or(left, |(_, host)| host), path)
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).trim_end_matches('/');
    (!host.is_empty() && !path.is_empty()).then(|| (format!("{scheme}://{host}"), path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_working_tree_reads_templates_and_skips_what_only_the_server_reads() {
        let tree = WorkingTree(std::env::temp_dir());
        assert!(tree.template("Rust.gitlab-ci.yml").unwrap().contains("cargo"));
        assert!(tree.template("Nope.gitlab-ci.yml").unwrap_err().contains("lists them all"));
        assert_eq!(tree.skips(IncludeKind::Local), None);
        assert_eq!(tree.skips(IncludeKind::Template), None);
        for kind in [IncludeKind::Project, IncludeKind::Component, IncludeKind::Remote] {
            assert!(tree.skips(kind).is_some_and(|why| why.contains("ci/lint")), "{kind:?}");
        }
        let folder = tempfile::tempdir().unwrap();
        let source = "include:\n  - project: acme/shared\n    file: ci.yml\n  - template: Bash.gitlab-ci.yml\n";
        let root = folder.path().canonicalize().unwrap();
        let config = gantry_ci::load(&WorkingTree(root), ".gitlab-ci.yml", source).unwrap();
        assert!(config.jobs.iter().any(|job| job.name == "shellcheck"), "the template's jobs are checked");
        assert_eq!(config.warnings.len(), 1);
        assert!(config.warnings[0].message.starts_with("`ci.yml` is not included: other projects' files"));
    }

    #[test]
    fn remotes_name_the_server_and_the_project() {
        let cases = [
            ("http://root:glpat-x@127.0.0.1:3000/acme/app.git", Some(("http://127.0.0.1:3000", "acme/app"))),
            ("https://gantry.example.com/acme/tools/app", Some(("https://gantry.example.com", "acme/tools/app"))),
            ("ssh://git@gantry.example.com:2222/acme/app.git", Some(("https://gantry.example.com", "acme/app"))),
            ("git@gantry.example.com:acme/app.git", Some(("https://gantry.example.com", "acme/app"))),
            ("/srv/git/app.git", None),
            ("./relative:odd/app", None),
            ("file:///srv/git/app.git", None),
            ("https://gantry.example.com/", None),
        ];
        for (url, expected) in cases {
            let found = server_and_project(url);
            assert_eq!(found.as_ref().map(|(s, p)| (s.as_str(), p.as_str())), expected, "{url}");
        }
    }

    #[test]
    fn a_commit_reads_as_the_server_reads_it() {
        let raw = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Ada Lovelace <ada@example.com> 1700000000 +0100\ncommitter Bob <bob@example.com> 1700000100 -0500\n\nRelease 1.0\n\nNotes.\n\n";
        let commit = parse_commit(raw);
        assert_eq!(
            commit,
            LocalCommit {
                message: "Release 1.0\n\nNotes.".into(),
                author_name: "Ada Lovelace".into(),
                author_email: "ada@example.com".into(),
                committed_at: 1_700_000_100,
            }
        );
    }
}
