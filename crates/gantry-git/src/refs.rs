//! Branches and tags: listing them with their commits, resolving revisions, and changing refs
//! on behalf of the web UI and the API (pushes change refs through receive-pack instead).

use crate::RepoId;

use crate::ZERO_OID;
use crate::command::{GitError, git, run, run_text};
use crate::storage::{Author, Repositories};

/// The parts of a commit that lists show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitSummary {
    pub id: String,
    pub parent_ids: Vec<String>,
    /// The first line of the message.
    pub title: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// Unix seconds.
    pub authored_date: i64,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: i64,
}

/// A branch and the commit at its tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub name: String,
    pub commit: CommitSummary,
}

/// A tag, its annotation (empty for a lightweight tag) and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// The id the tag ref holds: the tag object of an annotated tag, else the commit.
    pub target: String,
    pub message: String,
    pub commit: CommitSummary,
}

// Fields are separated by US (0x1f) and records end with RS (0x1e): messages hold newlines.
const COMMIT_FIELDS: &str = "%(objectname)%1f%(parent)%1f%(contents)%1f%(authorname)%1f%(authoremail:trim)%1f\
%(authordate:unix)%1f%(committername)%1f%(committeremail:trim)%1f%(committerdate:unix)";
const PEELED_FIELDS: &str = "%(*objectname)%1f%(*parent)%1f%(*contents)%1f%(*authorname)%1f%(*authoremail:trim)%1f\
%(*authordate:unix)%1f%(*committername)%1f%(*committeremail:trim)%1f%(*committerdate:unix)";

fn commit_from(fields: &[&str]) -> Option<CommitSummary> {
    let [id, parents, message, author_name, author_email, authored, committer_name, committer_email, committed] =
        fields
    else {
        return None;
    };
    if id.is_empty() {
        return None;
    }
    let message = message.trim_end().to_owned();
    Some(CommitSummary {
        id: (*id).to_owned(),
        parent_ids: parents.split_whitespace().map(str::to_owned).collect(),
        title: message.lines().next().unwrap_or_default().to_owned(),
        message,
        author_name: (*author_name).to_owned(),
        author_email: (*author_email).to_owned(),
        authored_date: authored.parse().unwrap_or(0),
        committer_name: (*committer_name).to_owned(),
        committer_email: (*committer_email).to_owned(),
        committed_date: committed.parse().unwrap_or(0),
    })
}

fn records(output: &str) -> impl Iterator<Item = Vec<&str>> {
    output
        .split('\u{1e}')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\u{1f}').collect())
}

/// Whether `name` is a valid branch or tag name (git's `check-ref-format` rules).
pub fn is_valid_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "@"
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("/.")
        && !name.contains("@{")
        && !name.contains(".lock/")
        && !name.chars().any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
}

impl Repositories {
    /// Every branch with its tip commit, by name.
    pub async fn branches(&self, id: impl Into<RepoId>) -> Result<Vec<Branch>, GitError> {
        let id: RepoId = id.into();
        let mut command = git(self.git_program(), &self.existing(id)?);
        command
            .args(["for-each-ref", "--sort=refname"])
            .arg(format!("--format=%(refname:lstrip=2)%1f{COMMIT_FIELDS}%1e"));
        command.arg("refs/heads/");
        let output = run(command, None).await?;
        let output = String::from_utf8_lossy(&output);
        Ok(records(&output)
            .filter_map(|fields| Some(Branch { name: fields[0].to_owned(), commit: commit_from(&fields[1..])? }))
            .collect())
    }

    /// Every tag with the commit it points at, newest first (by the commit's date).
    pub async fn tags(&self, id: impl Into<RepoId>) -> Result<Vec<Tag>, GitError> {
        let id: RepoId = id.into();
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["for-each-ref", "--sort=-creatordate"]).arg(format!(
            "--format=%(refname:lstrip=2)%1f%(objectname)%1f%(objecttype)%1f%(contents)%1f{COMMIT_FIELDS}%1f{PEELED_FIELDS}%1e"
        ));
        command.arg("refs/tags/");
        let output = run(command, None).await?;
        let output = String::from_utf8_lossy(&output);
        Ok(records(&output)
            .filter_map(|fields| {
                let annotated = fields.get(2) == Some(&"tag");
                let commit =
                    if annotated { commit_from(fields.get(13..22)?)? } else { commit_from(fields.get(4..13)?)? };
                Some(Tag {
                    name: fields[0].to_owned(),
                    target: fields[1].to_owned(),
                    message: if annotated { fields[3].trim_end().to_owned() } else { String::new() },
                    commit,
                })
            })
            .collect())
    }

    /// The commit a revision (branch, tag, commit id) names, if any: a name is a branch
    /// first, then a tag, then a commit id.
    pub async fn resolve_commit(&self, id: impl Into<RepoId>, revision: &str) -> Result<Option<String>, GitError> {
        let id: RepoId = id.into();
        if revision.is_empty() || revision.starts_with('-') || revision.contains(['\0', '\n']) {
            return Ok(None);
        }
        for candidate in candidates(revision) {
            let mut command = git(self.git_program(), &self.existing(id)?);
            command
                .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
                .arg(format!("{candidate}^{{commit}}"));
            match run_text(command, None).await {
                Ok(commit) if commit.len() == 40 => return Ok(Some(commit)),
                Ok(_) | Err(GitError::Failed { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(None)
    }

    /// The id a full ref name (`refs/heads/main`) holds, if it exists.
    pub async fn ref_target(&self, id: impl Into<RepoId>, full_name: &str) -> Result<Option<String>, GitError> {
        let id: RepoId = id.into();
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["rev-parse", "--verify", "--quiet", "--end-of-options", full_name]);
        match run_text(command, None).await {
            Ok(target) if target.len() == 40 => Ok(Some(target)),
            Ok(_) | Err(GitError::Failed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Sets `full_name` to `new` if it still holds `old` (`ZERO_OID`: must not exist yet;
    /// `new` = `ZERO_OID`: delete). Returns false when the ref moved meanwhile.
    pub async fn update_ref(
        &self,
        id: impl Into<RepoId>,
        full_name: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, GitError> {
        let id: RepoId = id.into();
        let mut command = git(self.git_program(), &self.existing(id)?);
        if new == ZERO_OID {
            command.args(["update-ref", "-d", full_name, old]);
        } else {
            command.args(["update-ref", full_name, new, old]);
        }
        match run(command, None).await {
            Ok(_) => Ok(true),
            Err(GitError::Failed { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes an annotated tag object for `commit` and returns its id (the ref is set with
    /// [`Repositories::update_ref`]).
    pub async fn write_tag_object(
        &self,
        id: impl Into<RepoId>,
        name: &str,
        commit: &str,
        message: &str,
        tagger: &Author<'_>,
        at_unix_seconds: i64,
    ) -> Result<String, GitError> {
        let id: RepoId = id.into();
        let object = format!(
            "object {commit}\ntype commit\ntag {name}\ntagger {} <{}> {at_unix_seconds} +0000\n\n{}\n",
            tagger.name.replace(['<', '>', '\n'], ""),
            tagger.email.replace(['<', '>', '\n'], ""),
            message.trim_end()
        );
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.args(["mktag"]);
        run_text(command, Some(object.as_bytes())).await
    }
}

/// Whether a ref is a branch or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl Repositories {
    /// The branches and then the tags (each by name) whose history holds `commit` (a full id),
    /// at most `limit` of them.
    pub async fn refs_containing(
        &self,
        id: impl Into<RepoId>,
        commit: &str,
        kinds: &[RefKind],
        limit: usize,
    ) -> Result<Vec<(RefKind, String)>, GitError> {
        let id: RepoId = id.into();
        if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GitError::Read(format!("'{commit}' is not a commit id")));
        }
        let mut found = Vec::new();
        for kind in kinds {
            let prefix = match kind {
                RefKind::Branch => "refs/heads/",
                RefKind::Tag => "refs/tags/",
            };
            let mut command = git(self.git_program(), &self.existing(id)?);
            command
                .args(["for-each-ref", "--sort=refname", "--format=%(refname:lstrip=2)"])
                .arg(format!("--count={}", limit.saturating_sub(found.len())))
                .arg(format!("--contains={commit}"))
                .arg(prefix);
            let output = run(command, None).await?;
            found.extend(
                String::from_utf8_lossy(&output).lines().filter(|l| !l.is_empty()).map(|l| (*kind, l.to_owned())),
            );
            if found.len() >= limit {
                break;
            }
        }
        Ok(found)
    }

    /// The best common ancestor of the commits (full ids), as `git merge-base` finds it (of the
    /// first and a merge of all the others), if they have one.
    pub async fn merge_base(&self, id: impl Into<RepoId>, commits: &[String]) -> Result<Option<String>, GitError> {
        let id: RepoId = id.into();
        if commits.len() < 2 || commits.iter().any(|c| c.len() != 40 || !c.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(GitError::Read("a merge base is of two commit ids or more".to_owned()));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command.arg("merge-base").args(commits);
        let (found, output) = crate::command::run_answer(command, None).await?;
        let base = String::from_utf8_lossy(&output).trim().to_owned();
        Ok((found && base.len() == 40).then_some(base))
    }
}

/// The spellings of `revision` to try, in order: its leading name as a branch
/// (`refs/heads/NAME…`), as a tag (`refs/tags/NAME…`), then as written (a commit id, `HEAD`, a
/// full ref name). What follows the name (`~2`, `^`, `@{…}`) is kept.
pub(crate) fn candidates(revision: &str) -> Vec<String> {
    let end = revision.find(['~', '^']).into_iter().chain(revision.find("@{")).min().unwrap_or(revision.len());
    let (name, rest) = revision.split_at(end);
    if name.is_empty() || name == "HEAD" || name.starts_with("refs/") {
        return vec![revision.to_owned()];
    }
    vec![format!("refs/heads/{name}{rest}"), format!("refs/tags/{name}{rest}"), revision.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_types::ProjectId;

    #[tokio::test]
    async fn lists_branches_and_tags_and_changes_refs() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(1);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let first =
            repos.initial_commit(id, "main", "README.md", b"hi\n", "First line\n\nBody text\n", &ada).await.unwrap();
        assert_eq!(repos.resolve_commit(id, "main").await.unwrap().as_deref(), Some(first.as_str()));
        assert_eq!(repos.resolve_commit(id, "nope").await.unwrap(), None);
        assert_eq!(repos.resolve_commit(id, "--all").await.unwrap(), None);

        assert!(repos.update_ref(id, "refs/heads/topic", ZERO_OID, &first).await.unwrap());
        assert!(!repos.update_ref(id, "refs/heads/topic", ZERO_OID, &first).await.unwrap(), "exists already");
        let branches = repos.branches(id).await.unwrap();
        assert_eq!(branches.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["main", "topic"]);
        let commit = &branches[0].commit;
        assert_eq!((commit.title.as_str(), commit.author_name.as_str()), ("First line", "Ada"));
        assert_eq!(commit.message, "First line\n\nBody text");
        assert!(commit.parent_ids.is_empty() && commit.authored_date > 1_600_000_000);

        let tag = repos.write_tag_object(id, "v1.0", &first, "Release 1.0\n", &ada, 1_700_000_000).await.unwrap();
        assert!(repos.update_ref(id, "refs/tags/v1.0", ZERO_OID, &tag).await.unwrap());
        assert!(repos.update_ref(id, "refs/tags/light", ZERO_OID, &first).await.unwrap());
        let tags = repos.tags(id).await.unwrap();
        let annotated = tags.iter().find(|t| t.name == "v1.0").unwrap();
        assert_eq!((annotated.target.as_str(), annotated.message.as_str()), (tag.as_str(), "Release 1.0"));
        assert_eq!(annotated.commit.id, first);
        let light = tags.iter().find(|t| t.name == "light").unwrap();
        assert_eq!((light.target.as_str(), light.message.as_str(), light.commit.id.as_str()), (&*first, "", &*first));

        assert!(repos.update_ref(id, "refs/heads/topic", &first, ZERO_OID).await.unwrap());
        assert_eq!(repos.ref_target(id, "refs/heads/topic").await.unwrap(), None);
        assert_eq!(repos.ref_target(id, "refs/tags/v1.0").await.unwrap().as_deref(), Some(tag.as_str()));
    }

    #[tokio::test]
    async fn a_name_is_a_branch_before_a_tag_and_a_tag_before_a_commit_id() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(1);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let on_branch = repos.initial_commit(id, "main", "README.md", b"hi\n", "Branch\n", &ada).await.unwrap();
        let on_tag = repos.initial_commit(id, "other", "README.md", b"tag\n", "Tag\n", &ada).await.unwrap();
        // A pair made by hand, as git itself allows: tag `main` beside branch `main`, and a
        // branch named like the first commit's id prefix.
        assert!(repos.update_ref(id, "refs/tags/main", ZERO_OID, &on_tag).await.unwrap());
        let prefix = &on_tag[..12];
        assert!(repos.update_ref(id, &format!("refs/heads/{prefix}"), ZERO_OID, &on_branch).await.unwrap());
        assert_eq!(repos.resolve_commit(id, "main").await.unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(repos.resolve_commit(id, "main~0").await.unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(repos.resolve_commit(id, "refs/tags/main").await.unwrap().as_deref(), Some(on_tag.as_str()));
        assert_eq!(repos.resolve_commit(id, prefix).await.unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(repos.resolve_commit(id, &on_tag).await.unwrap().as_deref(), Some(on_tag.as_str()));
        let reader = repos.reader(id).unwrap();
        assert_eq!(reader.resolve("main").unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(reader.resolve("main^{commit}").unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(reader.resolve("refs/tags/main").unwrap().as_deref(), Some(on_tag.as_str()));
        assert_eq!(reader.resolve(prefix).unwrap().as_deref(), Some(on_branch.as_str()));
        assert_eq!(reader.resolve_ref_path("main/README.md").unwrap().unwrap().commit, on_branch);
    }

    #[test]
    fn ref_names_follow_git_rules() {
        for good in ["main", "release/1.0", "feature-x", "v1.2.3", "a@b"] {
            assert!(is_valid_ref_name(good), "{good}");
        }
        for bad in ["", "-x", "a..b", "a b", "a~1", "x.lock", "a//b", "a/.b", "@", "a@{1}", "x/"] {
            assert!(!is_valid_ref_name(bad), "{bad}");
        }
    }
}
